"""One row per worker: epoch x/y, a step bar, ETA, loss, accuracy, steps/s, and the slowest worker marked.

Rendered as plain text plus colour, so a 16-colour terminal (or none) reads the same facts; the bar uses
block characters and the slowest worker says so in words. At most `MAX_ROWS` lines: with more workers than
that, the first ones, the slowest (wherever it sorts) and a line counting the rest. Only those rows are
laid out: a job of 256 workers redraws 9 rows ten times a second, not 256 of which 247 fall off the pane.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

from tui.core import format as fmt
from tui.core.logstream import RankProgress

SLOW_MARK = "◀ slowest"
MAX_ROWS = 9  # lines the rows take at most (the rest of the pane is the chart and the text)


def format_eta(seconds: float | None) -> str:
    return "--:--" if seconds is None else fmt.clock(seconds)


def _metric(metrics: Mapping[str, float], *names: str) -> float | None:
    for name in names:
        if name in metrics:
            return metrics[name]
    return None


def slowest_rank(ranks: Mapping[str, RankProgress]) -> str | None:
    """The worker furthest behind (epoch, then step), or among workers level with each other the one more
    than 10% slower in steps/s; None with fewer than two workers, or when all have finished together."""
    workers = {name: rank for name, rank in ranks.items() if rank.epoch is not None}
    if len(workers) < 2:
        return None

    def position(rank: RankProgress) -> tuple[int, int]:
        return (rank.epoch or 0, rank.step or 0)

    behind = min(workers, key=lambda name: (position(workers[name]), _rank_sort_key(name)))
    if position(workers[behind]) < max(position(rank) for rank in workers.values()):
        return behind
    finished = all(
        rank.epochs and rank.epoch == rank.epochs and rank.steps and rank.step == rank.steps
        for rank in workers.values()
    )
    speeds = {name: rank.steps_per_second for name, rank in workers.items() if rank.steps_per_second}
    if finished or len(speeds) < 2:
        return None
    slow = min(speeds, key=lambda name: speeds[name])
    return slow if speeds[slow] < 0.9 * max(speeds.values()) else None


_rank_sort_key = fmt.rank_order


def row_fields(name: str, rank: RankProgress) -> dict[str, str]:
    """One worker's facts as the texts its row shows."""
    loss_value = _metric(rank.metrics, "loss")
    acc_value = _metric(rank.metrics, "accuracy", "acc")
    return {
        "label": f"w{name}" if name.isdigit() else name,
        "epoch": f"ep {rank.epoch or 0}/{rank.epochs or '?'}",
        "steps": f"{rank.step or 0}/{rank.steps or '?'}",
        "eta": f"ETA {format_eta(rank.eta_seconds)}",
        "speed": f"{rank.steps_per_second:.1f} st/s" if rank.steps_per_second else "– st/s",
        "loss": f"loss {loss_value:.3f}" if loss_value is not None else "loss –",
        "acc": f"acc {acc_value:.3f}" if acc_value is not None else "acc –",
    }


COLUMNS = ("label", "epoch", "bar", "steps", "eta", "speed", "loss", "acc")
DROP_ORDER = ("steps", "speed", "eta")  # the first to go when rows are too narrow (the bar shows steps)
MIN_BAR, MAX_BAR = 6, 30


def layout_rows(
    ranks: Mapping[str, RankProgress], width: int, slowest: str | None
) -> list[list[tuple[str, str] | str]]:
    """Every worker's row as aligned columns fitted to `width` cells; the same columns in every row."""
    names = sorted(ranks, key=_rank_sort_key)
    fields = {name: row_fields(name, ranks[name]) for name in names}
    widths = {key: max(len(fields[name][key]) for name in names) for key in COLUMNS if key != "bar"}
    mark = SLOW_MARK if slowest else ""
    shown = [key for key in COLUMNS if key != "bar"]
    drops = list(DROP_ORDER)
    while True:
        used = sum(widths[key] + 1 for key in shown) + 3 + (len(mark) + 1 if mark else 0)  # "[", "] "
        bar_width = width - used
        if bar_width >= MIN_BAR or not drops:
            break
        shown.remove(drops.pop(0))
    if bar_width < MIN_BAR and mark:
        mark = "◀"
        bar_width += len(SLOW_MARK) - 1
    bar_width = max(3, min(MAX_BAR, bar_width))
    styles = {"label": "bold", "loss": "$warning", "acc": "$success"}
    rows = []
    for name in names:
        rank = ranks[name]
        fraction = min(1.0, (rank.step or 0) / rank.steps) if rank.steps else 0.0
        filled = round(fraction * bar_width)
        parts: list[tuple[str, str] | str] = []
        for key in COLUMNS:
            if key == "bar":
                parts.append(("[" + "█" * filled + "░" * (bar_width - filled) + "]", "$primary"))
                parts.append(" ")
                continue
            if key not in shown:
                continue
            text = fields[name][key]
            text = text.rjust(widths[key]) if key in ("steps", "speed") else text.ljust(widths[key])
            parts.append((text, styles[key]) if key in styles else text)
            parts.append(" ")
        if mark and name == slowest:
            parts.append((mark, "bold $error"))
        rows.append(parts)
    return rows


def shown_ranks(names: list[str], slowest: str | None, rows: int = MAX_ROWS) -> tuple[list[str], int]:
    """The workers that get a row (in `names`' order) within `rows` lines, and how many are left out.

    All of them when they fit; else the first ones and a last line counting the others, with the slowest
    worker kept in view (as the last row) wherever it sorts: it is the one a user looks for.
    """
    if len(names) <= rows:
        return names, 0
    shown = names[: rows - 1]
    if slowest is not None and slowest not in shown:
        shown = [*names[: rows - 2], slowest]
    return shown, len(names) - len(shown)


class ProgressRows(Widget):
    """Renders the parser's per-rank state; `update_ranks` is cheap to call often (it only marks dirty)."""

    DEFAULT_CSS = f"""
    ProgressRows {{
        height: auto; max-height: {MAX_ROWS}; min-height: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }}
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ranks: dict[str, RankProgress] = {}
        self.note = "no training progress yet"
        self.updates = 0  # counts the updates: the strips made for one are kept until the next
        self.strips_made: tuple[tuple[Any, ...], list[Strip] | None] | None = None

    def update_ranks(self, ranks: Mapping[str, RankProgress], note: str = "") -> None:
        fresh = {name: rank for name, rank in ranks.items() if rank.epoch is not None or rank.steps}
        rows_changed = min(len(fresh), MAX_ROWS) != min(len(self.ranks), MAX_ROWS)
        self.ranks = fresh
        self.note = note or "no training progress yet"
        self.updates += 1
        self.refresh(layout=rows_changed)  # a new height only when a worker appears and there is room

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return max(1, min(len(self.ranks), MAX_ROWS))

    def lines(self) -> list[list[tuple[str, str] | str]]:
        """What `render` shows, line by line: each a list of texts and (text, style) pairs."""
        width = max(20, self.size.width)
        slowest = slowest_rank(self.ranks)
        names, left_out = shown_ranks(sorted(self.ranks, key=_rank_sort_key), slowest)
        lines = layout_rows({name: self.ranks[name] for name in names}, width, slowest)
        if left_out:
            lines.append([(f"… and {left_out} more workers ({len(self.ranks)} in all)", "dim")])
        return lines

    def render(self) -> Content:
        if not self.ranks:
            return Content(self.note)
        parts: list[tuple[str, str] | str] = []
        for index, line in enumerate(self.lines()):
            if index:
                parts.append("\n")
            parts += line
        return Content.assemble(*parts)

    def render_line(self, y: int) -> Strip:
        """The rows as Textual paints `render()`'s text, but built here from segments whose styles are made
        once per repaint (Textual's own path made a style for every span of every line: 2-3 ms a repaint of
        8 rows, at each redraw tick while the log is shown and at each switch to the log tab).

        Textual's path is kept for what this one does not do: the note shown before any progress, a text
        selection (it highlights what is selected), and a line too long for the pane (cut with an ellipsis).
        """
        if not self.ranks or self.text_selection is not None:
            return super().render_line(y)
        key = (self.updates, self.size.width, self.visual_style, self.app.theme)
        if self.strips_made is None or self.strips_made[0] != key:
            self.strips_made = (key, self.build_strips())
        strips = self.strips_made[1]
        if strips is None:
            return super().render_line(y)
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, self.visual_style.rich_style)

    def build_strips(self) -> list[Strip] | None:
        """One strip per line, as `Content.render_strips` makes them: runs of plain text in the widget's
        style, each styled text in that style plus its own, every segment marked with its offset (which text
        selection reads). None when a line is wider than the pane."""
        base = self.visual_style
        styles: dict[str, Any] = {}
        width = self.size.width
        strips = []
        for y, line in enumerate(self.lines()):
            segments: list[Segment] = []
            x = 0
            plain = ""
            for part in line:
                if isinstance(part, str):
                    plain += part
                    continue
                if plain:
                    segments.append(Segment(plain, base.rich_style_with_offset(x, y)))
                    x += len(plain)
                    plain = ""
                text, style = part
                if style not in styles:
                    styles[style] = base + Style.parse(style, self.app.theme_variables)
                segments.append(Segment(text, styles[style].rich_style_with_offset(x, y)))
                x += len(text)
            if plain:
                segments.append(Segment(plain, base.rich_style_with_offset(x, y)))
            length = sum(cell_len(segment.text) for segment in segments)
            if length > width:
                return None
            strips.append(Strip(segments, length))
        return strips

    def row_texts(self) -> list[str]:
        """The rows as plain text (what a user reads; used by tests and screen readers alike)."""
        return str(self.render()).splitlines()
