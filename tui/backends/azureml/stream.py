"""Follow a job's log files by byte range from the SAS URLs run history hands out.

One file (`user_logs/std_log_process_0.txt`, `system_logs/...`) is streamed as its bytes, unchanged.
`stdout.txt` follows every rank's `user_logs/std_log_process_N.txt` at once and writes each of their lines as
`[1,N]<stdout>:` + the line's bytes (a `\\r` progress rewrite inside a line kept as it is): what horovodrun
prints, so `bai logs summarize -` and the console's per-rank view read it as they read horovodrun's output.

Each round asks every file for `bytes=<next offset>-`: 416 means nothing new yet, 403 an expired signature
(the links are fetched again from run history, and also shortly before their `se` expiry), and a dropped
connection resumes at the byte after the last one yielded, so no byte is lost or repeated. New rank files are
picked up as run history lists them. The stream ends once the job is seen final *and* a round started after
that found nothing new.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from tui.backends.azureml.jobs import MERGED_STDOUT, rank_of
from tui.backends.batchai.errors import translate
from tui.backends.batchai.redact import scrub
from tui.backends.batchai.settings import check_endpoint
from tui.backends.batchai.stream import link_expiry
from tui.backends.ranged import chunks_from, range_request
from tui.core.errors import BaiError, NotFoundError
from tui.core.model import JobRef

if TYPE_CHECKING:
    from tui.backends.azureml.jobs import MLJobService
    from tui.backends.azureml.rest import MLRest

# Rounds between looks at run history for rank files that appeared since (while following stdout.txt).
_DISCOVER_EVERY = 10


class RunLogStream:
    def __init__(self, jobs: MLJobService, rest: MLRest, ref: JobRef, name: str) -> None:
        self._jobs = jobs
        self._rest = rest
        self._settings = rest.azure
        self._ref = ref
        self._name = name
        self.merged = name == MERGED_STDOUT
        self._links: dict[str, str] = {}
        self._expiry: dict[str, float | None] = {}
        self._refresh_due = True
        self._forbidden: dict[str, int] = {}
        # How many times run history was asked for links; tests and benchmarks read it.
        self.links_fetched = 0

    # ---- links ----

    async def _refresh(self) -> None:
        links = await self._jobs.log_links(self._ref)
        self.links_fetched += 1
        self._links = {}
        self._expiry = {}
        for name, url in links.items():
            self._links[name] = check_endpoint(url, f"the log link of {name}")
            self._expiry[name] = link_expiry(url)
        self._refresh_due = False

    def _stale(self) -> bool:
        margin = self._settings.link_refresh_margin
        now = time.time()
        return any(expiry is not None and now >= expiry - margin for expiry in self._expiry.values())

    def _wanted(self) -> list[str]:
        if not self.merged:
            return [self._name] if self._name in self._links else []
        ranks = [(rank_of(name), name) for name in self._links]
        return [name for rank, name in sorted((r, n) for r, n in ranks if r is not None)]

    # ---- reading one file ----

    async def _read_file(self, client: Any, name: str, positions: dict[str, int]) -> AsyncIterator[bytes]:
        """Every byte of `name` past its position now; advances the position as bytes are yielded."""
        import aiohttp
        from azure.core.exceptions import AzureError

        failures = 0
        while True:
            url = self._links.get(name)
            if url is None:
                return
            position = positions.get(name, 0)
            got = 0
            try:
                response = await client.send_request(range_request(url, position), stream=True)
                try:
                    status = response.status_code
                    if status in (200, 206):
                        what = f"reading {name} of job {self._ref.name}"
                        async for chunk in chunks_from(response, position, what):
                            got += len(chunk)
                            positions[name] = positions.get(name, 0) + len(chunk)
                            yield chunk
                        self._forbidden[name] = 0
                    elif status == 403:
                        count = self._forbidden[name] = self._forbidden.get(name, 0) + 1
                        if count > 2:
                            raise BaiError(
                                f"reading {name} of job {self._ref.name}: the log link was refused "
                                "(403) even after fetching a fresh one from run history; check access "
                                "to the workspace's storage account"
                            )
                        self._links.pop(name, None)
                        self._refresh_due = True
                    elif status not in (404, 416):
                        await response.read()
                        raise BaiError(
                            f"reading {name} of job {self._ref.name} failed: HTTP {status} "
                            f"{scrub(response.reason or '')}; retry later"
                        )
                finally:
                    await response.close()
                return
            except (TimeoutError, AzureError, aiohttp.ClientError, ConnectionError) as exc:
                failures = 0 if got else failures + 1
                if failures > self._settings.retry_total:
                    raise translate(exc, f"reading {name} of job {self._ref.name}") from None
                await asyncio.sleep(min(self._settings.retry_backoff * failures, 10.0))

    # ---- the stream ----

    async def read(self, offset: int = 0, follow: bool = True) -> AsyncIterator[bytes]:
        if offset < 0:
            raise BaiError(f"offset {offset}: must be 0 or more")
        positions: dict[str, int] = {} if self.merged else {self._name: offset}
        skip = offset if self.merged else 0
        partial: dict[str, bytearray] = {}
        ended = False
        rounds = 0
        client = self._rest.plain_client

        def lines(name: str, chunk: bytes) -> bytes:
            buffer = partial.setdefault(name, bytearray())
            buffer += chunk
            cut = buffer.rfind(b"\n")
            if cut < 0:
                return b""
            complete = bytes(buffer[: cut + 1])
            del buffer[: cut + 1]
            prefix = f"[1,{rank_of(name)}]<stdout>:".encode()
            return b"".join(prefix + line + b"\n" for line in complete[:-1].split(b"\n"))

        def skipped(data: bytes) -> bytes:
            nonlocal skip
            if skip:
                cut = min(skip, len(data))
                data, skip = data[cut:], skip - cut
            return data

        while True:
            if self._refresh_due or self._stale():
                await self._refresh()
            names = self._wanted()
            if not names:
                if not follow or ended:
                    if self.merged:
                        return
                    where = "ended without" if ended else "has no"
                    raise NotFoundError(
                        f"job {self._ref.name} {where} log file {self._name}{'' if ended else ' yet'}; "
                        "list its files with `bai job file list`"
                    )
                ended = (await self._jobs.get(self._ref)).execution_state.is_final
                if not ended:
                    await asyncio.sleep(self._settings.stream_poll_interval)
                self._refresh_due = True
                continue
            got = 0
            for name in names:
                async for chunk in self._read_file(client, name, positions):
                    got += len(chunk)
                    out = skipped(lines(name, chunk) if self.merged else chunk)
                    if out:
                        yield out
            if got or self._refresh_due:
                continue
            if not follow or ended:
                for name in names:
                    rest = partial.get(name)
                    if rest:
                        out = skipped(f"[1,{rank_of(name)}]<stdout>:".encode() + bytes(rest) + b"\n")
                        if out:
                            yield out
                return
            ended = (await self._jobs.get(self._ref)).execution_state.is_final
            if ended:
                self._refresh_due = True  # a rank file written at the very end is picked up too
                continue
            await asyncio.sleep(self._settings.stream_poll_interval)
            rounds += 1
            if self.merged and rounds % _DISCOVER_EVERY == 0:
                self._refresh_due = True
