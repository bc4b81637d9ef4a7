"""The parser's per-rank state and output streams, and how a stream reads its \\r rewrites of a run."""

from __future__ import annotations

from tui.core.logstream.bars import _BAR_START, _Bar, _bar_layout, _Layout
from tui.core.logstream.events import RankProgress
from tui.core.logstream.storage import _Lines
from tui.core.logstream.terminal import _segment_text


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

    Its `\r` segments are not kept: of each run of them (what the stream wrote between two `\n` of the
    input) only the last non-empty one (`open`) and the last progress update (`bar`, with its place in the
    input in `bar_seq`) matter, and those are read only when something needs them: the runs are kept
    unread in `pending` until then (`settle`), and most are overwritten by a later run first. What reads
    `open` or `bar` (a line of the stream, a line of the rank that says something, the end of a block)
    settles the stream first.
    """

    __slots__ = (
        "bar",
        "bar_layout",
        "bar_seq",
        "marker",
        "mpi",
        "open",
        "pending",
        "process_name",
        "rank",
        "state",
    )

    def __init__(self, state: _RankState, mpi: bool) -> None:
        self.state = state
        self.rank = state.progress.rank
        self.mpi = mpi  # mpirun tags only line starts: untagged \r segments after one belong here
        self.open = b""  # the line being written, every overwrite so far applied (once settled)
        self.bar: bytes | None = None  # the latest progress update not applied yet (once settled)
        self.bar_layout: _Layout | None = None  # ... its layout
        self.bar_seq = 0
        self.process_name: str | None = None  # "Process name: X" waiting for its "Exit code: N"
        self.marker = b""  # "\r" and the plain prefix its segments start with ("\r[1]<stdout>:"), if any
        # Runs not read yet, oldest first: (probe, marker, base) as `take` was given them. At most a block's.
        self.pending: list[tuple[bytes, bytes, int]] = []

    def take(self, probe: bytes, marker: bytes, base: int) -> None:
        """This stream's \r segments in `probe` (b"\r" and a run), each after a `marker`: read when needed.

        `base` + a segment's place in `probe` orders the progress updates (see `settle`).
        """
        self.pending.append((probe, marker, base))

    def settle(self) -> None:
        """Read the runs `take` put off, as reading each at once would have: newest first, as far as needed.

        Each run is searched backwards: the first non-empty segment found (of the newest run that has one)
        is the open line, the first progress update found the pending one, and the runs before it do not
        matter (everything an update sets is "last wins").
        """
        runs = self.pending
        opened = False
        for index in range(len(runs) - 1, -1, -1):
            probe, marker, base = runs[index]
            size = len(marker)
            at = len(probe)
            while True:
                at = probe.rfind(marker, 0, at)
                if at < 0:
                    break
                start = at + size
                end = probe.find(b"\r", start)
                text = _segment_text(probe[start:end] if end >= 0 else probe[start:])
                if text:
                    if not opened:
                        self.open = text
                        opened = True
                    if text[0] in _BAR_START:
                        layout = _bar_layout(text)
                        if layout is not None:
                            self.hold(text, layout, base + at)
                            runs.clear()
                            return
        runs.clear()

    def hold(self, text: bytes, layout: _Layout, seq: int) -> None:
        """`text` (of `layout`, written `seq`-th) is the latest progress update, applied when needed."""
        self.bar = text
        self.bar_layout = layout
        self.bar_seq = seq

    def take_one(self, body: bytes, seq: int) -> None:
        """`take` of a run of one segment, `body` its text after the stream's marker, `seq` its place.

        Read at once (it is one segment): a progress update makes the runs before it irrelevant, other
        text is the open line once they are read.
        """
        text = _segment_text(body)
        if text:
            if text[0] in _BAR_START:
                layout = _bar_layout(text)
                if layout is not None:
                    self.pending.clear()
                    self.open = text
                    self.hold(text, layout, seq)
                    return
            if self.pending:
                self.settle()
            self.open = text
