"""One row per worker: epoch x/y, a step bar, ETA, loss, accuracy, steps/s, and the slowest worker marked.

Rendered as plain text plus colour, so a 16-colour terminal (or none) reads the same facts; the bar uses
block characters and the slowest worker says so in words.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.widget import Widget

from tui.logstream import RankProgress

SLOW_MARK = "◀ slowest"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _metric(metrics: Mapping[str, float], *names: str) -> float | None:
    for name in names:
        if name in metrics:
            return metrics[name]
    return None


def slowest_rank(ranks: Mapping[str, RankProgress]) -> str | None:
    """The worker furthest behind (by epoch then step; ties broken by steps/s); None with fewer than two."""
    workers = {name: rank for name, rank in ranks.items() if rank.epoch is not None}
    if len(workers) < 2:
        return None

    def position(item: tuple[str, RankProgress]) -> tuple[float, float, float]:
        _name, rank = item
        done = (rank.epoch or 0) * 1_000_000 + (rank.step or 0)
        return (done, rank.steps_per_second if rank.steps_per_second is not None else 0.0, 0.0)

    ordered = sorted(workers.items(), key=position)
    slowest, fastest = ordered[0], ordered[-1]
    if position(slowest)[:2] == position(fastest)[:2]:
        return None
    return slowest[0]


def _rank_sort_key(name: str) -> tuple[int, str]:
    return (0, f"{int(name):08d}") if name.isdigit() else (1, name)


def progress_line(name: str, rank: RankProgress, width: int, slowest: bool) -> list[tuple[str, str] | str]:
    """The parts of one worker's row, fitted to `width` cells (less important fields go first)."""
    label = (f"w{name}" if name.isdigit() else name).ljust(3)
    epoch = f"ep {rank.epoch or 0}/{rank.epochs or '?'}"
    steps = f"{rank.step or 0}/{rank.steps or '?'}"
    eta = f"ETA {format_eta(rank.eta_seconds)}"
    loss_value = _metric(rank.metrics, "loss")
    acc_value = _metric(rank.metrics, "accuracy", "acc")
    loss = f"loss {loss_value:.3f}" if loss_value is not None else "loss –"
    acc = f"acc {acc_value:.3f}" if acc_value is not None else "acc –"
    speed = f"{rank.steps_per_second:.1f} st/s" if rank.steps_per_second else "– st/s"
    optional = [steps, eta, speed]
    drop_order = [steps, speed, eta]  # the first to go when the row is too narrow (the bar shows steps)
    mark = SLOW_MARK if slowest else ""
    min_bar = 6
    while True:
        words = [label, epoch, *optional, loss, acc, *([mark] if mark else [])]
        fixed = sum(len(word) for word in words) + len(words)  # one space after each word, 2 for [ ]
        bar_width = width - fixed - 2
        if bar_width >= min_bar or not drop_order:
            break
        optional.remove(drop_order.pop(0))
    if bar_width < min_bar and mark:
        mark = "◀"
        bar_width += len(SLOW_MARK) - 1
    bar_width = max(3, min(30, bar_width))
    fraction = min(1.0, (rank.step or 0) / rank.steps) if rank.steps else 0.0
    filled = round(fraction * bar_width)
    bar = "█" * filled + "░" * (bar_width - filled)
    parts: list[tuple[str, str] | str] = [(label, "bold"), " ", epoch, " ", ("[" + bar + "]", "$primary")]
    for text in optional:
        parts += [" ", text]
    parts += [" ", (loss, "$warning"), " ", (acc, "$success")]
    if mark:
        parts += [" ", (mark, "bold $error")]
    return parts


class ProgressRows(Widget):
    """Renders the parser's per-rank state; `update_ranks` is cheap to call often (it only marks dirty)."""

    DEFAULT_CSS = """
    ProgressRows { height: auto; max-height: 9; min-height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ranks: dict[str, RankProgress] = {}
        self.note = "no training progress yet"

    def update_ranks(self, ranks: Mapping[str, RankProgress], note: str = "") -> None:
        fresh = {name: rank for name, rank in ranks.items() if rank.epoch is not None or rank.steps}
        rows_changed = len(fresh) != len(self.ranks)
        self.ranks = fresh
        self.note = note or "no training progress yet"
        self.refresh(layout=rows_changed)  # a new height only when a worker appears

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return max(1, len(self.ranks))

    def render(self) -> Content:
        if not self.ranks:
            return Content(self.note)
        width = max(20, self.size.width)
        slow = slowest_rank(self.ranks)
        parts: list[tuple[str, str] | str] = []
        for index, name in enumerate(sorted(self.ranks, key=_rank_sort_key)):
            if index:
                parts.append("\n")
            parts += progress_line(name, self.ranks[name], width, name == slow)
        return Content.assemble(*parts)

    def row_texts(self) -> list[str]:
        """The rows as plain text (what a user reads; used by tests and screen readers alike)."""
        return str(self.render()).splitlines()
