"""End-of-epoch loss and validation accuracy drawn with Unicode eighth blocks.

textual-plotext is not available, and a jump box terminal may have 16 colours: bars of `▁▂▃▄▅▆▇█` read
without colour, each series is labelled with its scale and last value, and colour only adds emphasis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.content import Content
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"


def bar_rows(
    values: Sequence[float], low: float, high: float, height: int, column_width: int = 1
) -> list[str]:
    """Rows (top first) of a bar chart, one column per value, each `column_width` wide plus a space."""
    height = max(1, height)
    span = (high - low) or 1.0
    columns: list[list[str]] = []
    for value in values:
        if value is None or math.isnan(value):
            eighths = 0
        else:
            fraction = min(1.0, max(0.0, (value - low) / span))
            eighths = round(fraction * height * 8)
        cells = []
        for row in range(height):  # row 0 = bottom
            filled = min(8, max(0, eighths - row * 8))
            cells.append(BLOCKS[filled] * column_width)
        columns.append(cells)
    rows = []
    for row in reversed(range(height)):
        rows.append(" ".join(column[row] for column in columns))
    return rows


def fit(values: Sequence[float], width: int, column_width: int) -> list[float]:
    """The last values that fit `width` cells (older epochs scroll off the left)."""
    per_column = column_width + 1
    count = max(1, (width + 1) // per_column)
    return list(values[-count:])


class EpochChart(Widget):
    """Two small bar charts side by side: loss per epoch, and validation accuracy per epoch."""

    DEFAULT_CSS = """
    EpochChart { height: 7; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.epochs: list[int] = []
        self.loss: list[float] = []
        self.val_accuracy: list[float] = []

    def set_history(self, history: Sequence[dict]) -> None:
        """Take the parser's per-epoch history (dicts with epoch, loss, val_accuracy)."""
        epochs, loss, accuracy = [], [], []
        for entry in history:
            epochs.append(int(entry.get("epoch") or len(epochs) + 1))
            loss.append(_number(entry.get("loss")))
            accuracy.append(_number(entry.get("val_accuracy")))
        if (epochs, loss, accuracy) != (self.epochs, self.loss, self.val_accuracy):
            self.epochs, self.loss, self.val_accuracy = epochs, loss, accuracy
            self.refresh()

    @property
    def filled_epochs(self) -> int:
        return len(self.epochs)

    def _panel(self, title: str, values: list[float], low: float, high: float, width: int) -> list[str]:
        height = max(1, self.size.height - 2)
        column_width = 2 if width >= 24 else 1
        shown = fit(values, width, column_width)
        known = [value for value in values if not math.isnan(value)]
        last = f"{known[-1]:.4f}" if known else "–"
        head = f"{title} (last {last}, top {high:.2f})"[:width]
        rows = bar_rows(shown, low, high, height, column_width)
        first_epoch = self.epochs[-len(shown)] if shown else 0
        foot = f"epoch {first_epoch}..{self.epochs[-1]}" if shown else "no finished epoch yet"
        return [head.ljust(width), *(row[:width].ljust(width) for row in rows), foot[:width].ljust(width)]

    def render(self) -> Content:
        width = max(10, self.size.width)
        half = max(8, (width - 3) // 2)
        known_loss = [value for value in self.loss if not math.isnan(value)]
        loss_high = max(known_loss) if known_loss else 1.0
        left = self._panel("loss", self.loss, 0.0, loss_high, half)
        right = self._panel("val acc", self.val_accuracy, 0.0, 1.0, half)
        parts: list[tuple[str, str] | str] = []
        for index, (one, two) in enumerate(zip(left, right, strict=True)):
            bar_line = 0 < index < len(left) - 1
            parts.append((one, "$warning" if bar_line else "bold"))
            parts.append(" │ ")
            parts.append((two, "$success" if bar_line else "bold"))
            if index < len(left) - 1:
                parts.append("\n")
        return Content.assemble(*parts)


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
