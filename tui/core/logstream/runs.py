"""Which stream each \\r segment of an input line belongs to, and what each stream reads of its segments.

A mixin of `LogStream` (its attributes are the parser's), split from parser.py: `_overwrites` takes the
\\r segments of one input line (a "run"), finds each one's stream by its plain prefix when the streams'
prefixes account for every segment (counted by C loops), and otherwise walks the run a segment at a time
(`_walk`: prefixes not seen before, timestamps, mpirun's untagged segments).
"""

from __future__ import annotations

from itertools import islice

from tui.core.logstream.bars import _BAR_START, _bar_layout
from tui.core.logstream.streams import _Stream
from tui.core.logstream.terminal import _CONTROL, _apply_backspaces, _has_control

_MAX_HEAD = 200  # longest text before ">:" that is tried as a tag
# Streams tried with their own pattern on a run (those present in the latest runs first); when they do not
# account for every segment, the general way is faster.
_MAX_PATTERNED = 8


class _RunReader:
    """The \\r runs of `LogStream` (a mixin)."""

    _seq: int  # the parser's sequence numbers (a run's segments are spaced by their place in it)
    _heads: dict[bytes, _Stream | None]  # prefix (the text before ">:") -> its stream, None for no stream
    _patterned: list[_Stream]  # streams with a plain prefix ("[1]<stdout>"), latest run's first
    _default: _Stream | None
    _block: bytes  # the block being read, and whether it has control characters (see _has_controls)
    _block_controls: bool | None

    def _default_stream(self) -> _Stream:
        raise NotImplementedError  # the parser's: it makes the streams

    def _resolve_head(self, head: bytes) -> _Stream | None:
        raise NotImplementedError  # the parser's: it makes the streams

    def _overwrites(self, probe: bytes, cont: _Stream | None) -> _Stream:
        """The \r segments of one input line (`probe`: each after a \r); returns the last one's stream.

        Each segment goes to the stream its prefix names; untagged ones continue an mpirun stream or
        go to the unprefixed one. Of a stream's segments in the run only the last non-empty one (the
        line a terminal shows, when each rewrite covers the one before, as progress bars do) and the
        last progress update matter: they are found by searching backwards from the run's end, so the
        segments before them are never looked at. When the streams' plain prefixes do not account for
        every segment, the run is walked one segment at a time.
        """
        base = self._seq
        self._seq += len(probe)
        if probe.find(b"\r", 1) < 0:  # one segment (a Keras bar's "\b" run, a bar before its final line)
            head, sep, body = probe.partition(b">:")  # (the head with the \r)
            stream = self._heads.get(head[1:]) if sep else None
            if stream is not None and stream.marker == head + sep:  # what `take` would find
                stream.take_one(body, base)
                if len(self._patterned) > _MAX_PATTERNED:
                    self._to_front([stream])
                return stream
        if probe.find(b">:") < 0 and (probe.find(b">") < 0 or not self._has_controls()):  # no (hidden) tag
            stream = cont if cont is not None and cont.mpi else self._default or self._default_stream()
            stream.take(probe, b"\r", base)
            return stream
        patterned = self._patterned
        if patterned:
            # Segments. `count` is a loop per byte, `replace` a memchr per \r and copies: for long runs.
            count = probe.count(b"\r") if len(probe) < 256 else len(probe) - len(probe.replace(b"\r", b""))
            present: list[_Stream] = []
            total = 0
            tried = patterned if len(patterned) <= _MAX_PATTERNED else islice(patterned, _MAX_PATTERNED)
            for stream in tried:  # (with many: the streams of the last runs first)
                found = probe.count(stream.marker)
                if found:
                    present.append(stream)
                    total += found
                    if total >= count:
                        break
            if total == count:
                if len(patterned) > _MAX_PATTERNED:
                    self._to_front(present)
                for stream in present:
                    stream.take(probe, stream.marker, base)
                if len(present) == 1:
                    return present[0]
                last = probe.rfind(b"\r")
                for stream in present:
                    if probe.startswith(stream.marker, last):
                        break
                return stream
        return self._walk(probe[1:], cont, base)

    def _has_controls(self) -> bool:
        """Whether the block has control characters (which dropped could join a ">" and a ":" into a tag).

        Asked only for an untagged run with a ">" (a Keras 2 bar of unprefixed output): once per block.
        """
        if self._block_controls is None:
            self._block_controls = _has_control(self._block)
        return self._block_controls

    def _walk(self, run: bytes, cont: _Stream | None, base: int) -> _Stream:
        """`_overwrites` a segment at a time: prefixes not seen before, timestamps, mpirun's untagged ones."""
        heads = self._heads
        owners: list[_Stream] = []
        texts: list[bytes] = []
        for part in run.split(b"\r"):
            part = part.translate(None, _CONTROL)
            head, sep, body = part.partition(b">:")
            stream = heads.get(head) if sep else None
            if stream is None:
                if sep and len(head) <= _MAX_HEAD and head not in heads:
                    stream = self._resolve_head(head)
                if stream is None:
                    body = part
                    stream = cont if cont is not None and cont.mpi else self._default_stream()
            owners.append(stream)
            texts.append(body)
            cont = stream
        done: dict[_Stream, bool] = {}  # False: its open line is set; True: its last update found too
        for i in range(len(owners) - 1, -1, -1):
            stream = owners[i]
            if done.get(stream):
                continue
            text = texts[i]
            if text.find(b"\x08") >= 0:
                text = _apply_backspaces(text)
            if not text:
                continue
            if stream not in done:
                if stream.pending:
                    stream.settle()  # the runs before this one first
                stream.open = text
                done[stream] = False
            if text[0] in _BAR_START:
                layout = _bar_layout(text)
                if layout is not None:
                    stream.hold(text, layout, base + i)
                    done[stream] = True
        if len(self._patterned) > _MAX_PATTERNED:
            self._to_front([stream for stream in done if stream.marker])
        return owners[-1]

    def _to_front(self, streams: list[_Stream]) -> None:
        """Put `streams` (patterned) first in `_patterned`: with many ranks, the next run is likely theirs."""
        patterned = self._patterned
        if streams and patterned[: len(streams)] != streams:
            for stream in streams:
                patterned.remove(stream)
            patterned[:0] = streams
