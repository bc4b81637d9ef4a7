"""Pieces both backends run the same way: waiting for a job to end, and walking a folder to upload.

They live here, backend-neutral, so the local and the Batch AI backends cannot drift apart in how a
`job wait` polls or how an upload's progress adds up; each backend keeps its own words for the user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tui.backends.base import ProgressCallback
from tui.core.errors import BaiError, ConflictError, Hint
from tui.core.model import Job


async def wait_until_final(
    get_job: Callable[[], Awaitable[Job]],
    poll_interval: float,
    timeout: float | None,
    still_running: Callable[[Job, float], str],
    *,
    clamp_to_deadline: bool = True,
) -> Job:
    """Poll `get_job` until the job is succeeded or failed; past `timeout` seconds raise
    `BaiError(still_running(job, timeout))`.

    With `clamp_to_deadline` the last sleep is cut short at the deadline, so the wait ends when asked;
    without it every sleep is a whole `poll_interval` (the batchai backend has always polled that way).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = await get_job()
        if job.execution_state.is_final:
            return job
        if deadline is not None and time.monotonic() >= deadline:
            assert timeout is not None
            raise BaiError(still_running(job, timeout))
        if deadline is None or not clamp_to_deadline:
            pause = poll_interval
        else:
            pause = min(poll_interval, max(0.0, deadline - time.monotonic()))
        await asyncio.sleep(pause)


def files_to_upload(source: Path) -> tuple[list[Path], int]:
    """Every file below `source`, in a stable order, and their total size (what the progress counts to)."""
    files = sorted(path for path in source.rglob("*") if path.is_file())
    return files, sum(path.stat().st_size for path in files)


def offset_progress(
    progress: ProgressCallback | None, base: int, total: int
) -> Callable[[int, int | None], None] | None:
    """A per-file progress callback counting the bytes of the whole upload (`base` were done before)."""
    if progress is None:
        return None

    def report(current: int, _size: int | None) -> None:
        progress(base + current, total)

    return report


def file_in_the_way(account: str, share: str, path: str) -> ConflictError:
    """The error when a file sits where a directory is needed (az's `upload --path cifar` before
    `directory create` makes a FILE named cifar): name the file and how to clear it, on both backends."""
    return ConflictError(
        f"{path!r} is a file on share {share!r}, where a directory is needed",
        hint=Hint("delete", "file", {"name": path, "share": share, "account": account}),
    )
