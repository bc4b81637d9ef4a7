"""What the lines that say something do to a rank's progress: epochs, progress bars, the test, failures.

A mixin of `LogStream` (its attributes are the parser's): `_read_line` reads a finished line, the
`_on_*` methods change the state and report events, `_flush` applies the progress updates that the
\\r rewrites left pending.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

from tui.core.logstream.bars import (
    _EPOCH,
    _EXIT_CODE,
    _MPI_SIGNAL,
    _PROCESS_EXIT,
    _PROCESS_NAME,
    _SUMMARY,
    _TEST,
    _Bar,
    _bar_layout,
    _Summary,
)
from tui.core.logstream.events import (
    EpochEnded,
    EpochStarted,
    LogEvent,
    RankFailed,
    RankFailure,
    RankProgress,
    StepProgress,
    TestFinished,
    TestResult,
)
from tui.core.logstream.streams import _RankState, _Stream

_FIRST = itemgetter(0)
# Short texts starting with "E" read as `_EPOCH` (epoch, epochs), or () where it does not match: at most
# _MAX_EPOCHS of at most _MAX_EPOCH_TEXT bytes.
_EPOCHS: dict[bytes, tuple[int, int] | tuple[()]] = {}
_MAX_EPOCHS = 1024
_MAX_EPOCH_TEXT = 64


class _ProgressReader:
    """The state changes of `LogStream` (a mixin)."""

    ranks: dict[str, RankProgress]
    test: TestResult | None
    failed: list[RankFailure]
    _states: dict[str, _RankState]
    _events: list[LogEvent]
    _progressed: dict[str, None]
    _lazy: list[_RankState]
    _test_rank: str | None
    _max_ranks: int  # failures kept (MAX_RANKS)

    def _history_limit(self, rank: str) -> int:
        raise NotImplementedError  # the parser's: it holds the limits

    def _flush(self, streams: Iterable[_Stream]) -> None:
        """Apply the latest progress update written to these streams and not applied yet.

        Only the last update of a burst is read (everything it sets is "last wins"); updates of
        several streams are applied in the order they were written. Ranks are independent: before a
        rank's line only that rank's streams are flushed, and only when the line may read them.
        """
        for stream in streams:
            if stream.pending:
                stream.settle()
        found = [(stream.bar_seq, stream) for stream in streams if stream.bar is not None]
        if len(found) > 1:
            found.sort(key=_FIRST)
        for _, stream in found:
            bar = stream.bar
            stream.bar = None
            self._on_bar(stream.state, _Bar(bar, stream.bar_layout, completed=False))  # type: ignore[arg-type]

    @staticmethod
    def _ends_epoch(state: _RankState, bar: _Bar) -> bool:
        """Whether `_on_bar` would end the rank's epoch with this final line (before anything else).

        Then the progress updates written over the line before it need not be read: ending the epoch
        sets everything they would set (step, steps, the lazy details, "a bar was seen").
        """
        if not bar.final or not state.in_epoch or state.progress.epoch is None:
            return False
        return not (state.dupe_finals > 0 and bar.steps == state.end_steps)  # another worker's copy

    def _read_line(self, stream: _Stream, text: bytes) -> None:
        first = text[:1]
        # Whitespace (b"" too: `find` gives 0) then the first byte after it. (`find`, not `in`: for a bytes
        # argument `in` first tries it as an integer, and formats and drops the error that raises.)
        if b" \t\n\r\x0b\x0c".find(first) >= 0:
            first = text.lstrip()[:1]
            if not first:
                return
        if first.isdigit() or first == b"-":
            layout = _bar_layout(text)
            if layout is not None:
                self._on_bar(stream.state, _Bar(text, layout, completed=True))
                return
            summary = _SUMMARY.match(text)
            if summary is not None and stream.state.progress.epoch is not None:
                self._on_bar(stream.state, _Summary(summary))
            return
        if first == b"E":
            # "Epoch N/M" comes once per rank (and per interleaved worker): its reading is remembered.
            numbers = _EPOCHS.get(text)
            if numbers is None:
                epoch = _EPOCH.match(text)
                numbers = (int(epoch.group(1)), int(epoch.group(2))) if epoch is not None else ()
                if len(text) <= _MAX_EPOCH_TEXT:
                    if len(_EPOCHS) >= _MAX_EPOCHS:
                        _EPOCHS.clear()
                    _EPOCHS[text] = numbers
            if numbers:
                self._on_epoch(stream.state, *numbers)
                return
            code = _EXIT_CODE.match(text)
            if code is not None and stream.process_name is not None:
                self._on_failure(stream.process_name, int(code.group(1)), named=True)
                stream.process_name = None
            return
        if first == b"T":
            test = _TEST.match(text)
            if test is not None:
                value = float(test.group(2))
                self._on_test(stream.rank, test.group(1), value / 100 if test.group(3) else value)
            return
        if first == b"P":
            exited = _PROCESS_EXIT.match(text)
            if exited is not None:
                self._on_failure(exited.group(1).decode("utf-8", "replace"), int(exited.group(2)))
                return
            name = _PROCESS_NAME.match(text)
            if name is not None:
                label = name.group(1) or name.group(2) or name.group(3)
                stream.process_name = label.decode("utf-8", "replace")
            return
        if text.find(b" noticed that process rank ") >= 0:
            signal = _MPI_SIGNAL.match(text)
            if signal is not None:
                # As a shell reports a process killed by signal S: 128 + S (137 for the OOM killer's 9).
                self._on_failure(signal.group(1).decode(), 128 + int(signal.group(2)))

    # --- state changes -------------------------------------------------------------------------

    def _on_epoch(self, state: _RankState, epoch: int, epochs: int) -> None:
        progress = state.progress
        if progress.epoch == epoch and progress.epochs == epochs and state.in_epoch:
            # The same `Epoch N/M` again within the epoch: another worker's copy in an interleaved
            # stream (Horovod's allreduce keeps every worker at the same step), not a restart.
            state.epoch_dupes += 1
            if not state.epoch_bars:  # before the first step every worker has printed its copy
                progress.workers = max(progress.workers, state.epoch_dupes + 1)
            if state.epoch_dupes >= progress.workers - 1:
                state.dupe_finals = 0  # every worker began this epoch: no copy of the last end is due
            return
        self._materialize(state)
        state.epoch_dupes = 0
        state.in_epoch = True
        state.epoch_bars = False
        progress.epoch = epoch
        progress.epochs = epochs
        progress.step = 0 if progress.steps is not None else None
        progress.eta_seconds = None
        self._events.append(EpochStarted(progress.rank, epoch, epochs))

    def _on_bar(self, state: _RankState, bar: _Bar | _Summary) -> None:
        progress = state.progress
        if bar.final:
            if state.dupe_finals > 0 and bar.steps == state.end_steps:
                state.dupe_finals -= 1  # another interleaved worker's copy of the last end
                return
            if state.in_epoch and progress.epoch is not None:
                self._end_epoch(state, bar, bar.details())
                return
            if (
                state.ended is not None
                and state.ended == progress.epoch
                and bar.steps == state.end_steps
                and not state.epoch_bars
            ):
                details = bar.details()
                if state.end_keys < details[0].keys():
                    self._end_epoch(state, bar, details, again=True)  # Keras 3: again, with val_*
                    return
        state.epoch_bars = True
        if progress.epoch is not None and not state.in_epoch:
            return  # evaluate()/predict() after fit(): not an epoch
        progress.step = bar.step
        progress.steps = bar.steps
        if state.lazy is None:
            self._lazy.append(state)
        state.lazy = bar
        self._progressed[progress.rank] = None

    def _materialize(self, state: _RankState) -> None:
        """Read the metrics, ETA and speed of the rank's latest update (see `_Bar`)."""
        bar = state.lazy
        if bar is None:
            return
        state.lazy = None
        progress = state.progress
        progress.metrics, progress.eta_seconds, sps = bar.details()
        progress.steps_per_second = sps if sps is not None else state.last_end_sps

    def _end_epoch(
        self,
        state: _RankState,
        bar: _Bar | _Summary,
        details: tuple[dict[str, float], float | None, float | None],
        again: bool = False,
    ) -> None:
        progress = state.progress
        epoch = progress.epoch
        assert epoch is not None
        metrics, _, sps = details
        state.lazy = None
        progress.step = bar.step
        progress.steps = bar.steps
        progress.eta_seconds = 0.0
        progress.metrics = metrics
        if sps is not None:
            state.last_end_sps = sps
        progress.steps_per_second = state.last_end_sps
        entry: dict[str, float | int] = {"epoch": epoch, **metrics}
        history = progress.history
        if again and history and history[-1].get("epoch") == epoch:
            history[-1] = entry
        else:
            history.append(entry)
            limit = self._history_limit(progress.rank)
            if len(history) > limit:
                del history[: len(history) - limit]
            state.dupe_finals = progress.workers - 1
        state.in_epoch = False
        state.epoch_bars = False
        state.ended = epoch
        state.end_steps = bar.steps
        state.end_keys = frozenset(metrics)
        self._progressed.pop(progress.rank, None)
        self._events.append(EpochEnded(progress.rank, epoch, dict(metrics)))

    def _on_test(self, rank: str, what: bytes, value: float) -> None:
        if self._test_rank is not None and rank != self._test_rank:
            if _rank_order(rank) >= _rank_order(self._test_rank):
                return  # rank 0 (or the lowest rank) speaks for the job
            self.test = None
        self._test_rank = rank
        if self.test is None:
            self.test = TestResult()
        if what == b"loss":
            self.test.loss = value
        else:
            self.test.accuracy = value
        self._events.append(TestFinished(TestResult(self.test.loss, self.test.accuracy), rank))

    def _on_failure(self, name: str, exit_code: int, named: bool = False) -> None:
        rank = str(int(name)) if name.isdigit() else name
        if any(f.rank == rank for f in self.failed) or len(self.failed) >= self._max_ranks:
            return
        if named and not name.isdigit() and self.failed:
            # Elastic horovodrun's "Process name: host[slot]" names the first failed process, which its
            # "Process N exit with status code C." already reported by rank: not a second failure.
            return
        failure = RankFailure(rank, exit_code)
        self.failed.append(failure)
        self._events.append(RankFailed(failure))

    # --- events ------------------------------------------------------------------------------

    def _take_events(self) -> list[LogEvent]:
        events = self._events
        for rank in self._progressed:
            progress = self.ranks[rank]
            if progress.step is not None:
                events.append(StepProgress(rank, progress.step, progress.steps))
        self._progressed = {}
        self._events = []
        return events


def _rank_order(rank: str) -> tuple[int, int | str]:
    return (0, int(rank)) if rank.isdigit() else (1, rank)
