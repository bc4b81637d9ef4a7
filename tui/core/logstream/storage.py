"""Finished lines of every rank, kept within the limits, in the order they were written.

Each rank keeps its texts and their sequence numbers in two deques rather than one of (number, text)
pairs: a log of short lines stores tens of thousands per MB, and a pair is an object to make, track
(the garbage collector scans it) and free, where a number in a deque of numbers is only a number.
The order over all ranks is rebuilt from the numbers when someone asks (`records`).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable
from heapq import heappop, heappush
from itertools import islice, repeat

from tui.core.logstream.events import UNRANKED, LineAdded, LogEvent, RankProgress


class _Lines:
    """One rank's kept lines: `texts[i]` was written `seqs[i]`-th (numbers shared by all ranks)."""

    __slots__ = ("progress", "seqs", "texts")

    def __init__(self, progress: RankProgress, max_lines: int) -> None:
        self.progress = progress
        self.texts: deque[str] = deque(maxlen=max_lines)
        self.seqs: deque[int] = deque(maxlen=max_lines)


class _LineStore:
    """The line keeping of `LogStream` (a mixin: its attributes are the parser's)."""

    _seq: int  # the last sequence number given (the parser also spaces them by the \r runs it reads)
    _chars: int  # characters kept over all ranks
    _kept: int  # lines kept over all ranks
    _max_chars: int  # the limits of these two (the parser's MAX_TOTAL_CHARS and MAX_TOTAL_LINES)
    _max_lines: int
    _oldest: list[tuple[int, _Lines]]  # see _evict
    _events: list[LogEvent]
    _states: dict[str, _Lines]  # the parser's per-rank states hold their lines

    def lines(self, rank: str | None = None) -> list[str]:
        """Finished lines as a terminal shows them: one rank's, or (None) all ranks' in order.

        With `None`, lines of a rank are shown as "[R] text" (horovodrun's prefix, shortened);
        rank-less lines as they are.
        """
        if rank is not None:
            kept = self._states.get(rank)
            return list(kept.texts) if kept else []
        return [text if r == UNRANKED else f"[{r}] {text}" for r, text in self.records()]

    def records(self) -> list[tuple[str, str]]:
        """All finished lines in order, as (rank, text)."""
        tagged = [zip(kept.seqs, repeat(rank), kept.texts) for rank, kept in self._states.items()]
        return [(rank, text) for _, rank, text in heapq.merge(*tagged)]

    def _store(self, kept: _Lines, line: bytes) -> None:
        self._store_text(kept, line.decode("utf-8", "replace").rstrip())

    def _store_text(self, kept: _Lines, text: str) -> None:
        """Keep a finished line of a rank (within the limits) and report it."""
        seq = self._seq = self._seq + 1
        texts = kept.texts
        if len(texts) == texts.maxlen:
            self._chars -= len(texts[0])
        else:
            if not texts:
                heappush(self._oldest, (seq, kept))
            self._kept += 1
        texts.append(text)
        kept.seqs.append(seq)
        self._chars += len(text)
        if self._chars > self._max_chars or self._kept > self._max_lines:
            self._evict()
        self._events.append(tuple.__new__(LineAdded, (kept.progress.rank, text)))

    def _store_texts(self, kept: _Lines, texts: list[str], size: int | None = None) -> None:
        """Store finished lines of a rank (stripped already) as `_store_text` does one at a time.

        `size` is their characters together when the caller knows it (a plain block's length tells it):
        then no `len` is taken per line.
        """
        count = len(texts)
        chars = _length_of(texts) if size is None else size
        if self._kept + count > self._max_lines or self._chars + chars > self._max_chars:
            for text in texts:  # near the limits: exactly as one line at a time
                self._store_text(kept, text)
            return
        lines = kept.texts
        before = len(lines)
        room = lines.maxlen or 0
        if count > room:  # the rank's limit drops all but its last `room` lines at once
            keep = texts[count - room :]
            chars = _length_of(keep)
        else:
            keep = texts
        old = min(before, before + len(keep) - room)  # kept lines of the rank that make way
        if old > 0:
            self._chars -= _length_of(lines if old == before else islice(lines, old))
        lines.extend(keep)
        kept.seqs.extend(range(self._seq + count - len(keep) + 1, self._seq + count + 1))
        self._seq += count
        self._chars += chars
        self._kept += len(lines) - before
        if not before:
            heappush(self._oldest, (kept.seqs[0], kept))
        rank = kept.progress.rank
        self._events.extend(map(tuple.__new__, repeat(LineAdded), zip(repeat(rank), texts)))

    def _evict(self) -> None:
        """Drop the oldest lines of all ranks together until the totals are within the limits.

        `_oldest` holds one (sequence number, lines) per rank that keeps lines, at most that rank's oldest
        line's: an entry a rank's own limit made stale is renewed when it comes up.
        """
        heap = self._oldest
        while self._chars > self._max_chars or self._kept > self._max_lines:
            seq, kept = heappop(heap)
            seqs = kept.seqs
            if seqs[0] == seq:
                seqs.popleft()
                self._chars -= len(kept.texts.popleft())
                self._kept -= 1
            if seqs:
                heappush(heap, (seqs[0], kept))


def _length_of(texts: Iterable[str]) -> int:
    """The characters of `texts` together: a join copies them in C, 4x faster than a `len` call per text."""
    return len("".join(texts))
