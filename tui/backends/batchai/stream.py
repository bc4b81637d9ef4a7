"""Tail a job's output file (stdout.txt) by byte range from its download URL, as `az batchai job file stream`.

Why a loop of its own rather than the Files SDK's downloader: the file grows while we read it, its URL
carries a SAS that expires, and a dropped connection must neither lose nor repeat a byte. So each request
asks for `bytes=<next offset>-`, every byte that arrives is yielded at once and advances the offset, and:

* 416 (range not satisfiable) means no new bytes yet;
* 403 means the SAS expired or was revoked: the link is fetched again (listOutputFiles) and the read resumes;
  links are also refreshed shortly before their `se` expiry, so a healthy stream rarely sees a 403;
* a dropped connection resumes from the offset of the last byte yielded;
* the link refresh is a POST, which the SDK does not retry: while the service cannot be reached it is tried
  again with backoff for as long as a GET (what `job wait` polls with) would be, logging "reconnecting"
  (`bai job file stream` shows it on a terminal);
* the stream ends once the job is seen in a final state *and* a read started after that saw no new bytes, so
  every byte written before the end is delivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tui.backends.batchai.errors import ServiceUnreachableError, translate
from tui.backends.batchai.redact import scrub
from tui.backends.batchai.settings import BatchAISettings, check_endpoint
from tui.backends.ranged import chunks_from, range_request
from tui.core.errors import BaiError, NotFoundError
from tui.core.model import JobRef

if TYPE_CHECKING:
    from tui.backends.batchai.jobs import AzureJobService

_NO_RANGE = 416
log = logging.getLogger(__name__)


def outage_budget(settings: BatchAISettings) -> float:
    """How long a GET survives an outage under the SDK's retry policy (what `job wait` polls with): its
    backoff sleeps, 0 then factor * 2**n seconds (at most 60 each), over retry_total retries."""
    sleeps = [min(settings.retry_backoff * 2 ** (n - 1), 60.0) for n in range(2, settings.retry_total + 1)]
    return max(sum(sleeps), 2.0)


def link_expiry(url: str) -> float | None:
    """The SAS expiry (`se=`) of a download URL as a POSIX time, or None if it has none we can read."""
    values = parse_qs(urlsplit(url).query).get("se")
    if not values:
        return None
    try:
        return datetime.fromisoformat(values[0].replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class OutputFileStream:
    def __init__(
        self,
        jobs: AzureJobService,
        settings: BatchAISettings,
        ref: JobRef,
        name: str,
        output_directory_id: str,
    ) -> None:
        self._jobs = jobs
        self._settings = settings
        self._ref = ref
        self._name = name.strip("/")
        self._output_directory_id = output_directory_id
        self._url: str | None = None
        self._expires: float | None = None
        # How many links were fetched; tests and benchmarks read it.
        self.links_fetched = 0

    async def _fetch_link(self) -> bool:
        directory, _, base = self._name.rpartition("/")
        try:
            entries = await self._jobs.list_output_files(
                self._ref, self._output_directory_id, directory or "."
            )
        except NotFoundError:
            # Before a job starts its output folder may not exist yet; a missing job is still an error.
            await self._jobs.get(self._ref)
            entries = []
        self.links_fetched += 1
        for entry in entries:
            if entry.name == base and not entry.is_directory and entry.download_url:
                self._url = check_endpoint(entry.download_url, f"the download URL of {self._name}")
                self._expires = link_expiry(self._url)
                return True
        self._url = None
        self._expires = None
        return False

    async def _fetch_link_patiently(self) -> bool:
        """`_fetch_link`, tried again with backoff while the service cannot be reached (see outage_budget)."""
        deadline = time.monotonic() + outage_budget(self._settings)
        pause = max(self._settings.retry_backoff, 0.05)
        while True:
            try:
                return await self._fetch_link()
            except ServiceUnreachableError as error:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                wait = min(pause, left, 10.0)
                log.info(
                    "reconnecting to the service in %.1f s (%s)", wait, str(error).split(": ", 1)[-1][:120]
                )
                await asyncio.sleep(wait)
                pause *= 2

    def _link_is_stale(self) -> bool:
        if self._url is None:
            return True
        return self._expires is not None and time.time() >= self._expires - self._settings.link_refresh_margin

    def _pipeline(self) -> Any:
        from azure.core import AsyncPipelineClient
        from azure.core.pipeline.policies import AsyncRetryPolicy, HeadersPolicy, UserAgentPolicy

        return AsyncPipelineClient(
            base_url="",
            policies=[
                HeadersPolicy({"x-ms-version": "2019-02-02"}),
                UserAgentPolicy(sdk_moniker="bai-stream"),
                AsyncRetryPolicy(
                    retry_total=self._settings.retry_total,
                    retry_status=self._settings.retry_total,
                    retry_connect=self._settings.retry_total,
                    retry_read=self._settings.retry_total,
                    retry_backoff_factor=self._settings.retry_backoff,
                ),
            ],
        )

    async def read(self, offset: int = 0, follow: bool = True) -> AsyncIterator[bytes]:
        import aiohttp
        from azure.core.exceptions import AzureError

        if offset < 0:
            raise BaiError(f"offset {offset}: must be 0 or more")
        position = offset
        ended = False  # the job was seen in a final state
        failures = 0  # consecutive failed reads without a byte of progress
        forbidden = 0  # consecutive 403s, each after a fresh link
        client = self._pipeline()
        try:
            while True:
                if self._link_is_stale() and not await self._fetch_link_patiently():
                    if not follow:
                        raise NotFoundError(
                            f"{self._name} is not in the output of job {self._ref.name} (yet); "
                            "list the files with `bai job file list`"
                        )
                    if ended:
                        raise NotFoundError(f"job {self._ref.name} ended without writing {self._name}")
                    ended = (await self._jobs.get(self._ref)).execution_state.is_final
                    if not ended:
                        await asyncio.sleep(self._settings.stream_poll_interval)
                    continue
                assert self._url is not None
                request = range_request(self._url, position)
                got = 0
                try:
                    response = await client.send_request(request, stream=True)
                    try:
                        status = response.status_code
                        if status in (200, 206):
                            async for chunk in chunks_from(response, position, f"reading {self._name}"):
                                got += len(chunk)
                                position += len(chunk)
                                yield chunk
                            forbidden = 0
                        elif status == 403:
                            forbidden += 1
                            if forbidden > 2:
                                raise BaiError(
                                    f"reading {self._name} of job {self._ref.name}: the download link was "
                                    "refused (403) even after refreshing it; check the job's storage account"
                                )
                            self._url = None  # fetch a fresh SAS and resume at the same offset
                            continue
                        elif status == 404:
                            self._url = None
                        elif status != _NO_RANGE:
                            await response.read()
                            raise BaiError(
                                f"reading {self._name} of job {self._ref.name} failed: HTTP {status} "
                                f"{scrub(response.reason or '')}; retry later"
                            )
                    finally:
                        await response.close()
                    failures = 0
                except (TimeoutError, AzureError, aiohttp.ClientError, ConnectionError) as exc:
                    # The connection dropped: resume from `position`, the byte after the last one yielded.
                    failures = 0 if got else failures + 1
                    if failures > self._settings.retry_total:
                        raise translate(exc, f"reading {self._name} of job {self._ref.name}") from None
                    await asyncio.sleep(min(self._settings.retry_backoff * failures, 10.0))
                    continue
                if got:
                    continue  # there may be more right away
                if not follow or ended:
                    return
                ended = (await self._jobs.get(self._ref)).execution_state.is_final
                if not ended:
                    await asyncio.sleep(self._settings.stream_poll_interval)
        finally:
            await client.close()
