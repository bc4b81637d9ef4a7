"""The parser's per-rank state and output streams, and how a stream reads its \\r rewrites of a run."""

from __future__ import annotations

from tui.core.logstream.bars import _BAR_START, _Bar, _bar_layout, _Layout
from tui.core.logstream.events import RankProgress
from tui.core.logstream.storage import _Lines
from tui.core.logstream.terminal import _CONTROL, _apply_backspaces


class _RankState(_Lines):
    """Per-rank parser state the public `RankProgress` does not show, and the rank's lines."""

    __slots__ = (
        "dupe_finals",
        "end_keys",
        "end_steps",
        "ended",
        "epoch_bars",
        "epoch_dupes",
        "in_epoch",
        "last_end_sps",
        "lazy",
        "streams",
    )

    def __init__(self, progress: RankProgress, max_lines: int) -> None:
        super().__init__(progress, max_lines)
        self.streams: list[_Stream] = []
        self.lazy: _Bar | None = None  # the applied progress update whose details are not read yet
        self.in_epoch = False
        self.epoch_bars = False  # a progress update was seen since the epoch started or ended
        self.epoch_dupes = 0  # repeated `Epoch N/M` lines for the current epoch (interleaved workers)
        self.ended: int | None = None  # the epoch that ended last, while no new one started
        self.end_steps: int | None = None
        self.end_keys: frozenset[str] = frozenset()
        self.dupe_finals = 0  # final lines still expected from the other interleaved workers
        self.last_end_sps: float | None = None


class _Stream:
    """One output stream (a rank's stdout or stderr, or the unprefixed stream).

    Its `\r` segments are not kept: each run of them (what the stream wrote between two `\n` of the
    input) is folded into `open` at once by C loops (`map`, `max`), and of the progress updates among
    them only the last is kept (`bar`, with its place in the input in `bar_seq`) until the rank's state
    needs it: before a line of the rank that says something, and at the end of each block.
    """

    __slots__ = ("bar", "bar_layout", "bar_seq", "marker", "mpi", "open", "process_name", "rank", "state")

    def __init__(self, state: _RankState, mpi: bool) -> None:
        self.state = state
        self.rank = state.progress.rank
        self.mpi = mpi  # mpirun tags only line starts: untagged \r segments after one belong here
        self.open = b""  # the line being written, every overwrite so far applied
        self.bar: bytes | None = None  # the latest progress update not applied yet
        self.bar_layout: _Layout | None = None  # ... its layout
        self.bar_seq = 0
        self.process_name: str | None = None  # "Process name: X" waiting for its "Exit code: N"
        self.marker = b""  # "\r" and the plain prefix its segments start with ("\r[1]<stdout>:"), if any

    def take(self, probe: bytes, marker: bytes, base: int) -> None:
        """Read this stream's \r segments in `probe` (b"\r" and a run): each follows a `marker`.

        Searched backwards, and only as far as needed: the last non-empty one is the open line, the
        last progress update the rank's pending one. `base` + a segment's place orders the updates.
        """
        size = len(marker)
        at = len(probe)
        opened = False
        while True:
            at = probe.rfind(marker, 0, at)
            if at < 0:
                return
            start = at + size
            end = probe.find(b"\r", start)
            # (Trailing \b first: a terminal ignores them at a segment's end, and they are most of its bytes.)
            text = (probe[start:end] if end >= 0 else probe[start:]).rstrip(b"\x08").translate(None, _CONTROL)
            if text.find(b"\x08") >= 0:
                text = _apply_backspaces(text)
            if text:
                if not opened:
                    self.open = text
                    opened = True
                if text[0] in _BAR_START:
                    layout = _bar_layout(text)
                    if layout is not None:
                        self.bar = text
                        self.bar_layout = layout
                        self.bar_seq = base + at
                        return
