"""The incremental parser: bytes in, per-rank state and events out (see the package docstring)."""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterable
from heapq import heappush
from itertools import repeat

from tui.core.logstream.bars import (
    _BAR_START,
    _SAYS_SOMETHING,
    _Bar,
    _bar_layout,
)
from tui.core.logstream.events import (
    UNRANKED,
    LineAdded,
    LogEvent,
    RankFailure,
    RankProgress,
    TestResult,
)
from tui.core.logstream.progress import _ProgressReader, _rank_order
from tui.core.logstream.runs import _MAX_HEAD, _RunReader
from tui.core.logstream.storage import _LineStore
from tui.core.logstream.streams import _RankState, _Stream
from tui.core.logstream.terminal import (
    _ANSI,
    _CONTROL,
    _ESCAPE_STARTS,
    MAX_SEGMENT_BYTES,
    _apply_backspaces,
    _cap_segments,
    _has_control,
    _has_long_segment,
    _overlay_all,
    _unescape,
)

# Limits that keep memory bounded whatever is fed.
MAX_TOTAL_CHARS = 16 * 1024 * 1024  # characters of finished lines kept over all ranks
MAX_TOTAL_LINES = 200_000  # finished lines kept over all ranks (each costs ~100 bytes besides its text)
MAX_RANKS = 256  # distinct rank labels; further ones are read as unprefixed text
MAX_HISTORY = 10_000  # end-of-epoch entries kept per rank
MAX_HISTORY_TOTAL = 50_000  # ... over all ranks but rank 0 (the one charted) and the rank-less stream
_MIN_HISTORY = 16  # what a rank keeps however many there are
_FEED_SLICE = 1 << 20  # large chunks are processed in blocks of this size

# A launcher's tag, seen as the part of a segment before ">:": horovodrun's "[R]<stdout", mpirun's
# "[J,R]<stdout", SageMaker's "[J,mpirank:R,host]<stdout". Any text may precede it: horovodrun's timestamp,
# or the prefix of a logger that relays the output line by line (Airflow's "[date] {bash.py:173} INFO - ").
_TAG = re.compile(
    rb".{0,120}?\[(?:(\d{1,9}),)?(?:mpirank:)?(\d{1,9})(?:,[^\[\]<>\s]{1,64})?\]<(stdout|stderr)\Z",
    re.S,
)
# A line start ("\n" before it) that `_read_line` may act on (a superset): a bar or an epoch's end, "Epoch
# N/M", "Exit code:", "Test ...", "Process ...", mpirun's "noticed that process rank" (after a first byte that
# `_SAYS_SOMETHING` lets through). Searched for in b"\n" + block: the leading literal lets the regex engine
# skip from one \n to the next instead of trying every byte.
# Where `_MAY_SAY`'s first branch can match (a superset, cheaper to search for: no lookahead at every line).
_MAY_START = re.compile(rb"\n[0-9 \t\-ETP]")
_MAY_SAY = re.compile(
    rb"\n(?=[ \t]*+(?:[0-9-]|Epoch |Exit code|Test |Process )"
    rb"|[0-9 \t\-ETPmop][^\n]*? noticed that process rank )"
)
# The start of a finished line that `_read_line` may act on (a superset of what its patterns match): a line
# that starts with a byte of `_SAYS_SOMETHING` but not with this ("2000 train samples", "Epoch 1: saving
# model to ...", an indented traceback line) is only stored, without flushing its rank's pending progress.
_ACTIVE = re.compile(
    rb"\s*+(?:\d{1,12}/|(?:- )?\d{1,9}s - |Epoch \d{1,9}/|Exit code|Test |Process "
    rb"|\S{0,40} noticed that process rank )"
)


class LogStream(_LineStore, _ProgressReader, _RunReader):
    """Feed it the bytes of a training log in any chunking; read `ranks`, `test`, `failed`, `lines()`.

    `default_rank` labels unprefixed output: "-" (no rank) by default, or a rank number when reading
    a per-rank file. `feed` and `close` return the events since the last call; state is exact after
    every call whatever the chunking, events are coalesced (one `StepProgress` per rank per call).
    """

    def __init__(self, max_lines_per_rank: int = 5000, default_rank: str = UNRANKED) -> None:
        self.max_lines_per_rank = max(1, int(max_lines_per_rank))
        self.default_rank = default_rank
        self.ranks: dict[str, RankProgress] = {}
        self.test: TestResult | None = None
        self.failed: list[RankFailure] = []
        self._states: dict[str, _RankState] = {}
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._heads: dict[bytes, _Stream | None] = {}
        self._default: _Stream | None = None
        self._tail = bytearray()  # an incomplete segment (at most MAX_SEGMENT_BYTES)
        self._discarding = False  # the incomplete segment is over the cap: drop bytes to its end
        self._held = b""  # a chunk's end that may begin an escape ("#01" of "#015", see _unescape)
        self._cont: _Stream | None = None  # stream an untagged segment continues (mpirun)
        self._seq = 0
        self._chars = 0
        self._kept = 0  # lines kept over all ranks
        self._max_chars = MAX_TOTAL_CHARS  # the limits as they are when the parser is made
        self._max_lines = MAX_TOTAL_LINES
        self._oldest: list[tuple[int, _RankState]] = []  # see _evict
        self._test_rank: str | None = None
        self._events: list[LogEvent] = []
        self._progressed: dict[str, None] = {}
        self._lazy: list[_RankState] = []
        self._patterned: list[_Stream] = []  # streams with a plain prefix ("[1]<stdout>"), latest run's first
        self._block = b""  # the block being read, and whether it has control characters (see _has_controls)
        self._block_controls: bool | None = None
        self._max_ranks = MAX_RANKS

    # --- public API ------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> list[LogEvent]:
        """Parse more bytes; returns the events they caused. Never raises."""
        # The parser makes no reference cycles, so the collector would only rescan its short-lived
        # objects (events, matches, stored numbers): pausing it for the call saves about a tenth of the time.
        collecting = gc.isenabled()
        if collecting:
            gc.disable()
        try:
            data = bytes(chunk)
            for start in range(0, len(data), _FEED_SLICE):
                self._feed(data[start : start + _FEED_SLICE] if len(data) > _FEED_SLICE else data)
        except Exception as exc:  # never raise into the console; keep the input as text
            self._internal_error(exc)
        finally:
            if collecting:
                gc.enable()
        return self._take_events()

    def close(self) -> list[LogEvent]:
        """End of input: a last line without a newline, and lines still being written, are finished."""
        try:
            if self._held:
                held, self._held = self._held, b""
                self._feed_bytes(held)
            if self._tail:
                tail = bytes(self._tail)
                self._tail.clear()
                self._discarding = False
                self._process(tail + b"\r")
            for stream in list(self._streams.values()):
                if stream.pending:
                    stream.settle()
                if stream.open:
                    self._finish_open_line(stream)
            self._cont = None
        except Exception as exc:
            self._internal_error(exc)
        return self._take_events()

    def partial_lines(self) -> dict[str, str]:
        """Per rank, the line being written now (a progress bar mid-epoch), if any."""
        out: dict[str, str] = {}
        for (rank, name), stream in self._streams.items():
            if stream.pending:
                stream.settle()
            if stream.open and (rank not in out or name == "stdout"):
                out[rank] = stream.open.decode("utf-8", "replace").rstrip()
        return out

    def summary(self) -> dict:
        """The JSON shape of `bai logs summarize -o json` (NaN and infinity become null)."""
        ranks = {}
        for rank in sorted(self.ranks, key=_rank_order):
            p = self.ranks[rank]
            ranks[rank] = {
                "epoch": p.epoch,
                "epochs": p.epochs,
                "step": p.step,
                "steps": p.steps,
                "metrics": {k: _finite(v) for k, v in p.metrics.items()},
                "history": [{k: _finite(v) for k, v in h.items()} for h in p.history],
            }
        test = None
        if self.test is not None:
            test = {"loss": _finite(self.test.loss), "accuracy": _finite(self.test.accuracy)}
        failed = [{"rank": f.rank, "exit_code": f.exit_code} for f in self.failed]
        return {"ranks": ranks, "test": test, "failed": failed}

    # --- byte level --------------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        if self._held:
            data = self._held + data
            self._held = b""
        # A memchr first: a two-byte search costs a loop per byte. (`find`, not `in`: for a bytes argument
        # `in` first tries it as an integer, and formats and drops the error that raises.)
        if data.find(b"#") >= 0 and data.find(b"#0") >= 0:
            data = _unescape(data)
        cut = data.rfind(b"#", max(0, len(data) - 3))
        if cut >= 0 and data[cut:] in _ESCAPE_STARTS:  # the chunk may end inside "#015": wait for the rest
            self._held = data[cut:]
            data = data[:cut]
        self._feed_bytes(data)

    def _feed_bytes(self, data: bytes) -> None:
        if self._discarding:
            cr, lf = data.find(b"\r"), data.find(b"\n")
            cut = lf if cr < 0 else cr if lf < 0 else min(cr, lf)
            if cut < 0:
                return
            self._discarding = False
            self._tail += data[cut : cut + 1]
            data = data[cut + 1 :]
            block = bytes(self._tail)
            self._tail.clear()
            self._process(block)
        last = max(data.rfind(b"\r"), data.rfind(b"\n"))
        if last < 0:
            self._tail += data
        else:
            view = memoryview(data)  # slices of it are not copies: the block is copied once, if at all
            if self._tail:
                block = b"".join((self._tail, view[: last + 1]))
                self._tail.clear()
            else:
                block = data[: last + 1] if last + 1 < len(data) else data
            self._tail += view[last + 1 :]
            view.release()
            self._process(block)
        if len(self._tail) > MAX_SEGMENT_BYTES:
            del self._tail[MAX_SEGMENT_BYTES:]
            self._discarding = True

    def _process(self, block: bytes) -> None:
        """Handle complete segments (block ends with \r or \n)."""
        if len(block) > MAX_SEGMENT_BYTES and _has_long_segment(block):
            block = _cap_segments(block)
        if block.find(b"\x1b") >= 0:
            block = _ANSI.sub(b"", block)
        cont = self._cont
        has_cr = block.find(b"\r") >= 0
        # With progress rewrites most of the block is never read: control characters are dropped from each
        # text that is (they are deleted, so that is the same as from the block), checking the whole block
        # costs more. Other output mostly has none: a memchr per character is a fifth of a translate's cost.
        cleaned = block
        self._block = block
        self._block_controls = None
        if not has_cr and _has_control(block):
            cleaned = block.translate(None, _CONTROL)
        # (">" first: a memchr, where a two-byte search costs a loop per byte.)
        no_tag = cleaned.find(b">") < 0 or cleaned.find(b">:") < 0
        if cont is None and not has_cr and no_tag and cleaned.find(b"\x08") < 0:
            default = self._default or self._default_stream()
            if default.pending:
                default.settle()
            if not default.open:
                self._plain(cleaned, default)
                self._end_block()
                return
        # Each \n-ended line as (b"\r" and its \r segments before the last one, or b"" where it has none; the
        # last segment), and what follows the last \n: \r segments (the block ends with \r), or nothing.
        if has_cr:  # long lines (progress rewrites): memchr from \n to \n beats a split's loop per byte
            pieces: Iterable[tuple[bytes, bytes]] = _cr_lines(cleaned)
            last = cleaned.rfind(b"\n") + 1
            rest = cleaned[last:]
        else:
            ended = cleaned.split(b"\n")
            rest = ended.pop()
            pieces = zip(repeat(b""), ended)
        heads_get = self._heads.get
        says = _SAYS_SOMETHING
        active = _ACTIVE.match
        append_event = self._events.append
        make = tuple.__new__
        seq = self._seq
        for probe, piece in pieces:
            if probe:  # \r segments before this \n one: only their streams' last ones are read
                self._seq = seq
                cont = self._overwrites(probe, cont)
                seq = self._seq
            if has_cr:
                piece = piece.translate(None, _CONTROL)
            # The \n segment (what `_line` does, inlined for the lines that say nothing: most of them).
            head, sep, body = piece.partition(b">:")
            stream = heads_get(head) if sep else None
            if stream is None:
                if sep and len(head) <= _MAX_HEAD and head not in self._heads:
                    stream = self._resolve_head(head)
                if stream is None:
                    body = piece
                    if cont is not None and (cont.mpi or not piece):
                        stream = cont  # mpirun tags line starts only; "\r\n" split by a chunk edge
                    else:
                        stream = self._default or self._default_stream()
            cont = None
            if body.find(b"\x08") >= 0:
                body = _apply_backspaces(body)
            if stream.pending:
                stream.settle()
            opened = stream.open
            if opened:
                if body and len(body) >= len(opened) and body.isascii():
                    line = body
                else:
                    line = _overlay_all(opened, [body]) if body else opened
                stream.open = b""
            else:
                line = body
            said = body or line  # "X\r\n" says what was written before the \r
            if said and said[0] in says and active(said) is not None:
                self._seq = seq
                self._said(stream, body, line, said)
                seq = self._seq
                continue
            text = line.decode("utf-8", "replace").rstrip()
            seq += 1
            state = stream.state
            lines = state.texts
            if len(lines) == lines.maxlen:
                self._chars -= len(lines[0])
            else:
                if not lines:
                    heappush(self._oldest, (seq, state))
                self._kept += 1
            lines.append(text)
            state.seqs.append(seq)
            self._chars += len(text)
            if self._chars > self._max_chars or self._kept > self._max_lines:
                self._evict()
            append_event(make(LineAdded, (stream.rank, text)))
        self._seq = seq
        if rest:
            cont = self._overwrites(b"\r" + rest[:-1], cont)
        self._cont = cont
        self._end_block()

    def _end_block(self) -> None:
        """After a block: every rank's latest progress applied, and its details read."""
        self._flush(self._streams.values())
        for state in self._lazy:
            self._materialize(state)
        self._lazy.clear()

    def _plain(self, block: bytes, stream: _Stream) -> None:
        """A block of whole lines of one stream, without \r, \b or prefixes (a plain `print` log).

        The block is decoded and split once (C loops); the lines that may say something are read one by
        one, the runs between them stored and reported in bulk. Those lines start with a byte up to "T"
        (`_MAY_START`): when every line that is not empty starts above it (lower case, "[": as `print`
        lines often do), the least of them (a C loop) tells that there is none; otherwise one regex search
        finds them. Lines that end with white space are rare: when none does, the block's length counts the
        characters stored instead of a `len` per line.
        """
        decoded = block.decode("utf-8", "replace")
        split = decoded.split("\n")
        split.pop()  # the nothing after the last \n
        texts = list(map(str.rstrip, split))
        # `rstrip` gives back the same object when there is nothing to strip, so when no line ends with white
        # space (most logs) this compares pointers, and the text's length tells the characters of its lines.
        unstripped = texts == split
        exact = unstripped and decoded.isascii()  # ... and for ASCII, so do the bytes of each run
        state = stream.state
        if block.find(b" noticed that process rank ") >= 0:
            found_all: Iterable[re.Match[bytes]] = _MAY_SAY.finditer(b"\n" + block)
        else:
            least = min(texts, default="U")
            if not least:
                least = min(filter(None, texts), default="U")
            if least >= "U":
                self._store_texts(state, texts, len(decoded) - len(texts) if unstripped else None)
                return
            # Then only _MAY_SAY's first branch can match: at a line start that _MAY_START finds.
            text = b"\n" + block
            may_say = _MAY_SAY.match
            found_all = filter(None, (may_say(text, found.start()) for found in _MAY_START.finditer(text)))
        at = line = 0  # where the lines not read yet start: in `block`, in `texts`
        count = block.count
        for found in found_all:
            start = found.start()  # of the line in `block`
            if start > at:
                end = line + count(b"\n", at, start)
                self._store_texts(state, texts[line:end], start - at - (end - line) if exact else None)
                line = end
            at = block.index(b"\n", start) + 1
            line += 1
            self._line(block[start : at - 1], None)
        if line < len(texts):
            rest = texts[line:] if line else texts
            self._store_texts(state, rest, len(block) - at - len(rest) if exact else None)

    def _line(self, seg: bytes, cont: _Stream | None) -> None:
        """A segment ended by \n (without it): the stream's line is finished, stored and read."""
        head, sep, body = seg.partition(b">:")
        stream = self._heads.get(head) if sep else None
        if stream is None:
            if sep and len(head) <= _MAX_HEAD and head not in self._heads:
                stream = self._resolve_head(head)
            if stream is None:
                body = seg
                if cont is not None and (cont.mpi or not seg):
                    stream = cont  # mpirun tags line starts only; "\r\n" split by a chunk edge
                else:
                    stream = self._default or self._default_stream()
        text = _apply_backspaces(body) if body.find(b"\x08") >= 0 else body
        # The line a terminal shows: the overwrites folded in already, then this segment.
        if stream.pending:
            stream.settle()
        opened = stream.open
        if text and (not opened or (len(text) >= len(opened) and text.isascii())):
            line = text
        elif opened:
            line = _overlay_all(opened, [text]) if text else opened
        else:
            line = text
        stream.open = b""
        # What it says: "X\r\n" says what was written before the \r.
        said = text or line
        if not said or said[0] not in _SAYS_SOMETHING:
            self._store(stream.state, line)
        else:
            self._said(stream, text, line, said)

    def _said(self, stream: _Stream, text: bytes, line: bytes, said: bytes) -> None:
        """A finished line that may say something (`said`): stored, then read."""
        state = stream.state
        # First the rank's pending progress, in order: the line may read it (an epoch's start or end).
        streams = state.streams
        holders = 0  # streams of the rank with a progress update not applied yet
        for other in streams:
            if other.pending:
                other.settle()
            if other.bar is not None:
                holders += 1
        bar = None  # the line as a progress bar (what `_read_line` would make of it)
        if text and text[0] in _BAR_START:
            layout = _bar_layout(text)
            if layout is not None:
                bar = _Bar(text, layout, completed=True)
        if holders:
            if bar is not None and not bar.final:
                # Everything the pending updates would set, this one sets after them: "last wins".
                for other in streams:
                    other.bar = None
            elif bar is not None and holders == 1 and stream.bar is not None and self._ends_epoch(state, bar):
                # It ends the epoch: the flush would set nothing that ending it does not.
                stream.bar = None
                self._store_text(state, line.decode("utf-8", "replace").rstrip())
                self._end_epoch(state, bar, bar.details())
                return
            else:
                self._flush(streams)
        self._store_text(state, line.decode("utf-8", "replace").rstrip())
        if bar is not None:
            self._on_bar(state, bar)
        else:
            self._read_line(stream, said)

    def _default_stream(self) -> _Stream:
        if self._default is None:
            self._default = self._stream(self.default_rank, "", mpi=False)
        return self._default

    def _resolve_head(self, head: bytes) -> _Stream | None:
        match = _TAG.match(head)
        stream = None
        if match is not None:
            rank = str(int(match.group(2)))
            if rank in self._states or len(self._states) < MAX_RANKS:
                stream = self._stream(rank, match.group(3).decode(), mpi=match.group(1) is not None)
        if stream is not None and not stream.marker and head[:1] == b"[" and head.count(b"[") == 1:
            stream.marker = b"\r" + head + b">:"  # a plain prefix: the fast way can find its segments
            self._patterned.append(stream)
        if len(self._heads) > 4096:  # timestamps make every second's head new
            self._heads.clear()
        self._heads[head] = stream
        return stream

    def _stream(self, rank: str, name: str, mpi: bool) -> _Stream:
        key = (rank, name)
        stream = self._streams.get(key)
        if stream is None:
            state = self._states.get(rank)
            if state is None:
                progress = RankProgress(rank=rank)
                state = _RankState(progress, self.max_lines_per_rank)
                self._states[rank] = state
                self.ranks[rank] = progress
            stream = _Stream(state, mpi)
            state.streams.append(stream)
            self._streams[key] = stream
        return stream

    def _history_limit(self, rank: str) -> int:
        """How many epochs a rank's history keeps (read here, so the limits are this module's).

        The chart's rank (0, or the rank-less stream) keeps MAX_HISTORY epochs; the others share
        MAX_HISTORY_TOTAL, so a run of many ranks stays bounded as a whole.
        """
        if rank in (UNRANKED, "0"):
            return MAX_HISTORY
        return min(MAX_HISTORY, max(_MIN_HISTORY, MAX_HISTORY_TOTAL // len(self._states)))

    def _finish_open_line(self, stream: _Stream) -> None:
        """At close: a line left without a newline. A bar in it was read as progress already."""
        line = stream.open
        stream.open = b""
        self._store(stream.state, line)
        if _bar_layout(line) is None:
            self._read_line(stream, line)

    def _internal_error(self, exc: Exception) -> None:
        """A bug must not take the console down: drop what was pending and say so in the log."""
        self._tail.clear()
        self._discarding = False
        self._held = b""
        self._lazy.clear()
        for stream in self._streams.values():
            stream.bar = None
            stream.pending.clear()
        for state in self._states.values():
            state.lazy = None
        self._store(self._default_stream().state, f"[bai: log parser error: {exc!r}]".encode())


def _cr_lines(block: bytes) -> Iterable[tuple[bytes, bytes]]:
    """The \n-ended lines of `block`, found by memchr (for blocks of long lines), each as `_process` reads it.

    (b"\r" and the line's \r segments before its last one, or b"" where it has no \r; its last segment.)
    The segments before the last are copied once, from a view of the block: progress rewrites make them
    most of it.
    """
    find, rfind = block.find, block.rfind
    view = memoryview(block)
    start = 0
    end = find(b"\n")
    while end >= 0:
        cut = rfind(b"\r", start, end)
        if cut < 0:
            yield b"", block[start:end]
        else:
            yield b"\r" + view[start:cut], block[cut + 1 : end]
        start = end + 1
        end = find(b"\n", start)


def _finite(value: float | int | None) -> float | int | None:
    return value if value is None or math.isfinite(value) else None
