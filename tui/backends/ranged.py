"""Reading a remote file from a byte position: the ranged GET both Azure backends' streams run.

The Batch AI output-file stream and the Azure ML run-log stream resume a file the same way (GET with
`Range: bytes=<position>-`; a 200 answer is the whole file, so its first `position` bytes are skipped; a
206 answer must start at `position`). It lives here once so the two cannot drift apart in how a resumed
read lines up; each backend passes its own words for what is being read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tui.core.errors import BaiError

CHUNK = 64 * 1024


def range_request(url: str, position: int) -> Any:
    """The GET for every byte of `url` from `position` on (an azure.core HttpRequest)."""
    from azure.core.rest import HttpRequest

    return HttpRequest("GET", url, headers={"Range": f"bytes={position}-"})


def _content_range_start(header: str | None) -> int | None:
    """The first byte a 206 answer holds, from its Content-Range ("bytes 100-199/1234"); else None."""
    if not header or not header.startswith("bytes "):
        return None
    try:
        return int(header[6:].split("-", 1)[0])
    except ValueError:
        return None


async def chunks_from(response: Any, position: int, what: str) -> AsyncIterator[bytes]:
    """The bytes of a 200 or 206 answer to `range_request(url, position)`, from `position` on.

    `what` names the read for the error ("reading stdout.txt of job j1"): a 206 that starts elsewhere
    than `position` would splice the wrong bytes into the stream, so it is refused rather than yielded.
    """
    status = response.status_code
    skip = position if status == 200 else 0
    start = _content_range_start(response.headers.get("Content-Range"))
    if status == 206 and start is not None and start != position:
        raise BaiError(f"{what}: the service answered from byte {start}, not {position}; retry the stream")
    async for chunk in response.iter_raw(chunk_size=CHUNK):
        if skip:
            cut = min(skip, len(chunk))
            chunk, skip = chunk[cut:], skip - cut
        if chunk:
            yield bytes(chunk)
