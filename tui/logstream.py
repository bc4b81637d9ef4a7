"""Incremental parser for live training output: bytes in, per-rank state and events out.

Skeleton committed early so the console can code against the API; the implementation follows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RankProgress:
    """What one worker (or the rank-less stream "-") is doing now, and its finished epochs."""

    rank: str
    epoch: int | None = None
    epochs: int | None = None
    step: int | None = None
    steps: int | None = None
    eta_seconds: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    steps_per_second: float | None = None
    history: list[dict[str, float | int]] = field(default_factory=list)


@dataclass
class TestResult:
    """`Test loss:` / `Test accuracy:` printed at the end of training."""

    __test__ = False  # not a pytest test class
    loss: float | None = None
    accuracy: float | None = None


@dataclass
class RankFailure:
    """A worker that horovodrun reported as exited with a non-zero status."""

    rank: str
    exit_code: int


@dataclass(frozen=True)
class EpochStarted:
    rank: str
    epoch: int
    epochs: int


@dataclass(frozen=True)
class StepProgress:
    rank: str
    step: int
    steps: int | None


@dataclass(frozen=True)
class EpochEnded:
    rank: str
    epoch: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class LineAdded:
    rank: str
    text: str


@dataclass(frozen=True)
class TestFinished:
    __test__ = False
    result: TestResult
    rank: str = "-"


@dataclass(frozen=True)
class RankFailed:
    failure: RankFailure

    @property
    def rank(self) -> str:
        return self.failure.rank


LogEvent = EpochStarted | StepProgress | EpochEnded | LineAdded | TestFinished | RankFailed


class LogStream:
    """Feed it the bytes of a training log in any chunking; read `ranks`, `test`, `failed`, `lines()`."""

    def __init__(self, max_lines_per_rank: int = 5000, default_rank: str = "-") -> None:
        self.max_lines_per_rank = max_lines_per_rank
        self.default_rank = default_rank
        self.ranks: dict[str, RankProgress] = {}
        self.test: TestResult | None = None
        self.failed: list[RankFailure] = []

    def feed(self, chunk: bytes) -> list[LogEvent]:
        return []

    def close(self) -> list[LogEvent]:
        return []

    def lines(self, rank: str | None = None) -> list[str]:
        return []

    def summary(self) -> dict:
        return {"ranks": {}, "test": None, "failed": []}
