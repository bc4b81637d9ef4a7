"""What the log parser reports: per-rank progress, the test result, failures, and the events of a `feed`.

Plain data classes, so the console and `bai logs summarize` can use them without the parser's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

UNRANKED = "-"


@dataclass
class RankProgress:
    """What one worker (or the rank-less stream "-") is doing now, and its finished epochs.

    `workers` is 1 for a real rank; for an unprefixed stream in which several workers' output is
    interleaved (the tutorial's stdout.txt), it is how many workers printed the same `Epoch N/M` line,
    and the progress shown is the latest update of any of them (Horovod keeps workers within a step
    of each other, so that is accurate to a step, except for a moment at an epoch's end). The
    history then holds each epoch once, with the metrics of the first worker to finish it.
    """

    rank: str
    epoch: int | None = None
    epochs: int | None = None
    step: int | None = None
    steps: int | None = None
    eta_seconds: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    steps_per_second: float | None = None
    history: list[dict[str, float | int]] = field(default_factory=list)
    workers: int = 1


@dataclass
class TestResult:
    """`Test loss:` / `Test accuracy:` printed at the end of training."""

    __test__ = False  # not a pytest test class
    loss: float | None = None
    accuracy: float | None = None


@dataclass
class RankFailure:
    """A worker that the launcher reported as exited with a non-zero status."""

    rank: str
    exit_code: int


@dataclass(frozen=True, init=False)
class EpochStarted:
    rank: str
    epoch: int
    epochs: int

    def __init__(self, rank: str, epoch: int, epochs: int) -> None:
        self.__dict__.update(rank=rank, epoch=epoch, epochs=epochs)  # see LineAdded


@dataclass(frozen=True, init=False)
class StepProgress:
    """The latest progress of a rank's epoch; one per rank per `feed` (updates are coalesced)."""

    rank: str
    step: int
    steps: int | None

    def __init__(self, rank: str, step: int, steps: int | None) -> None:
        self.__dict__.update(rank=rank, step=step, steps=steps)  # see LineAdded


@dataclass(frozen=True, init=False)
class EpochEnded:
    """An epoch's end-of-epoch metrics (train and `val_*`).

    May come a second time for the same epoch when a later final line adds metrics (Keras 3 prints
    the bar once more with `val_*` after a checkpoint message); the later one is the complete one.
    """

    rank: str
    epoch: int
    metrics: dict[str, float]

    def __init__(self, rank: str, epoch: int, metrics: dict[str, float]) -> None:
        self.__dict__.update(rank=rank, epoch=epoch, metrics=metrics)  # see LineAdded


class LineAdded(NamedTuple):
    """A finished line (after `\\r` overwrites, `\\b` and ANSI codes are applied) of one rank.

    A named tuple, not a data class: there is one per line of a log that may be gigabytes, and the
    parser makes them with `tuple.__new__` (a C call) at a tenth of a data class's cost.
    """

    rank: str
    text: str


@dataclass(frozen=True)
class TestFinished:
    """`Test loss:` or `Test accuracy:` was read; `result` holds both values known so far."""

    __test__ = False
    result: TestResult
    rank: str = UNRANKED


@dataclass(frozen=True)
class RankFailed:
    failure: RankFailure

    @property
    def rank(self) -> str:
        return self.failure.rank


LogEvent = EpochStarted | StepProgress | EpochEnded | LineAdded | TestFinished | RankFailed
