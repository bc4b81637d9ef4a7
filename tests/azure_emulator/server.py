"""The emulator process: one aiohttp server on 127.0.0.1 (random port) serving ARM and Azure Files.

It runs on its own event loop in a background thread, so synchronous tests, async tests and a `bai`
subprocess can all talk to it. Tests steer it through a few methods: `add_fault` (throttle, fail, delay or
cut a request), `revoke_links` (make every issued download SAS invalid), and read `requests`.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs

from aiohttp import web

from . import arm, files, ml
from .world import Timings, World

T = TypeVar("T")


@dataclass
class Fault:
    """Do something bad to the next `times` requests matching `method` and the `path` regex."""

    path: re.Pattern[str]
    method: str | None = None
    status: int | None = None
    code: str = "ServerBusy"
    message: str = "The server is busy."
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop_after: int | None = None  # file GET: send this many body bytes, then cut the connection
    disconnect: bool = False  # cut the connection before answering at all
    body: Any = None  # with `status`: answer this JSON body instead (a real service's answer, replayed)
    text: str | None = None  # with `status`: answer these bytes as they are (an XML, HTML or empty body)
    content_type: str = "application/xml"  # of `text`
    times: int = 1
    hits: int = 0


class AzureEmulator:
    def __init__(
        self,
        timings: Timings | None = None,
        stdout: bytes | None = None,
        subscription: str = "00000000-0000-0000-0000-0000000000e1",
    ) -> None:
        self.subscription = subscription
        self.token = "emu-token-" + secrets.token_hex(24)
        self.world = World(subscription, timings or Timings(), stdout)
        self.port = 0
        self.requests: list[tuple[str, str, int]] = []
        self.faults: list[Fault] = []
        self.issued_signatures: set[str] = set()
        self.latest_expiry: datetime | None = None
        self.revoked_until: datetime | None = None  # links expiring at or before this are refused
        self.sas_refused = 0
        self.page_size: int | None = None  # ARM lists: items per page, the rest behind nextLink
        self.next_failure: dict[str, Any] | None = None  # the error the next long-running operation ends with
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.ml = ml.MLWorld(self)  # Azure Machine Learning: workspaces, computes, jobs, run history

    # ---- what clients need ----

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment for a client of this emulator, with fast polling and retries."""
        return {
            "BAI_BACKEND": "batchai",
            "AZURE_SUBSCRIPTION_ID": self.subscription,
            "BAI_ACCESS_TOKEN": self.token,
            "BAI_ARM_ENDPOINT": self.base_url,
            "BAI_FILE_ENDPOINT": self.base_url + "/{account}",
            "BAI_POLL_INTERVAL": "0.05",
            "BAI_RETRY_BACKOFF": "0.05",
            "BAI_RETRY_TOTAL": "4",
            "BAI_STREAM_POLL_INTERVAL": "0.05",
            "BAI_LINK_REFRESH_MARGIN": "0.5",
        }

    def ml_env(self) -> dict[str, str]:
        """`env()` for the azureml backend."""
        return {**self.env(), "BAI_BACKEND": "azureml"}

    # ---- steering from tests (any thread) ----

    def add_fault(self, path: str, **kwargs: Any) -> Fault:
        fault = Fault(path=re.compile(path, re.IGNORECASE), **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def fail_next_operation(
        self, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        """The next long-running operation ends `Failed` with this ARM error (as a quota failure would)."""
        error: dict[str, Any] = {"code": code, "message": message}
        if details:
            error["details"] = details
        with self._lock:
            self.next_failure = error

    def take_failure(self) -> dict[str, Any] | None:
        with self._lock:
            error, self.next_failure = self.next_failure, None
            return error

    def link_expiry(self, wanted: datetime) -> datetime:
        """The expiry a new link gets: as wanted, but after every revoked one (so its signature differs)."""
        with self._lock:
            if self.revoked_until is not None and wanted <= self.revoked_until:
                wanted = self.revoked_until + timedelta(seconds=1)
            return wanted

    def record_link(self, query: str) -> None:
        fields = parse_qs(query)
        expiry = datetime.fromisoformat(fields["se"][0].replace("Z", "+00:00"))
        with self._lock:
            self.issued_signatures.update(fields.get("sig", []))
            if self.latest_expiry is None or expiry > self.latest_expiry:
                self.latest_expiry = expiry

    def revoke_links(self) -> None:
        """Every download SAS issued so far is refused from now on (as if it had expired)."""
        with self._lock:
            self.revoked_until = self.latest_expiry

    def link_revoked(self, expiry_text: str) -> bool:
        expiry = datetime.fromisoformat(expiry_text.replace("Z", "+00:00"))
        with self._lock:
            return self.revoked_until is not None and expiry <= self.revoked_until

    def pause_jobs(self) -> None:
        """Running jobs stop writing and stay running until `resume_jobs`."""
        self.call(self.world.pause)

    def resume_jobs(self) -> None:
        """Held jobs go on from where they were (Batch AI's and Azure ML's alike)."""

        def resume() -> None:
            paused_since = self.world.paused_since
            self.world.resume()
            if paused_since is not None:
                self.ml.resume(paused_since)

        self.call(resume)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the emulator's loop (to read or change the world safely) and return its result."""
        assert self._loop is not None

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def count(self, method: str, path_regex: str, status: int | None = None) -> int:
        pattern = re.compile(path_regex, re.IGNORECASE)
        with self._lock:
            return sum(
                1
                for m, p, s in self.requests
                if m == method and pattern.search(p) and (status is None or s == status)
            )

    # ---- serving ----

    def _take_fault(self, request: web.Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if (
                    fault.hits < fault.times
                    and (fault.method in (None, request.method))
                    and fault.path.search(request.path)
                ):
                    fault.hits += 1
                    return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        fault = self._take_fault(request)
        response: web.StreamResponse
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.disconnect:
            if request.transport is not None:
                request.transport.close()
            with self._lock:
                self.requests.append((request.method, request.path, 0))
            return web.Response(status=500)  # never sent: the socket is gone
        if fault is not None and fault.status is not None:
            if fault.text is not None:
                response = web.Response(status=fault.status, headers=fault.headers, body=fault.text.encode())
                if fault.text:
                    response.content_type = fault.content_type
            elif fault.body is not None:
                response = web.json_response(fault.body, status=fault.status, headers=fault.headers)
            elif request.path.lower().startswith("/subscriptions"):
                response = arm.ArmError(
                    fault.status, fault.code, fault.message, headers=fault.headers
                ).response()
            else:
                response = files.storage_error(fault.status, fault.code, fault.message, method=request.method)
                response.headers.update(fault.headers)
        else:
            if fault is not None and fault.drop_after is not None:
                request[files.DROP_AFTER] = fault.drop_after
            response = await handler(request)
        with self._lock:
            self.requests.append((request.method, request.path, response.status))
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        answered = await ml.dispatch(self, request)
        if answered is not None:
            return answered
        if request.path.lower().startswith("/subscriptions"):
            return await arm.handle(self, request)
        return await files.handle(self, request)

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]
        self._site = site

    def outage(self, seconds: float) -> None:
        """The service goes away for `seconds`: the port refuses connections and every open connection is
        cut, then it listens on the same port again (the world keeps running meanwhile)."""
        assert self._loop is not None and self._runner is not None

        async def down() -> None:
            server = self._site._server if self._site is not None else None
            if server is not None:
                server.close()  # no new connections: connection refused
            handler = self._runner.server
            for connection in list(getattr(handler, "connections", [])):
                connection.force_close()
                if connection.transport is not None:
                    connection.transport.close()

        async def up() -> None:
            site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
            await site.start()
            self._site = site

        asyncio.run_coroutine_threadsafe(down(), self._loop).result(10)
        self._loop.call_soon_threadsafe(
            lambda: self._loop.call_later(seconds, lambda: self._loop.create_task(up()))  # type: ignore[union-attr]
        )

    async def _tick_forever(self) -> None:
        while True:
            self.world.tick()
            self.ml.tick()
            await asyncio.sleep(self.world.timings.tick)

    def start(self) -> AzureEmulator:
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # surface bind errors to start()
                failure.append(exc)
                ready.set()
                return
            ticker = loop.create_task(self._tick_forever())
            ready.set()
            loop.run_forever()
            ticker.cancel()
            loop.run_until_complete(asyncio.gather(ticker, return_exceptions=True))
            if self._runner is not None:
                loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="azure-emulator", daemon=True)
        self._thread.start()
        ready.wait(15)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(15)
            self._thread = None

    def __enter__(self) -> AzureEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
