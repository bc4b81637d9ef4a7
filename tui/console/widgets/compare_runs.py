"""Compare runs: every job of an experiment side by side, so a user sees which run did best in the terminal.

A table (state, nodes, epochs, best and final validation accuracy, duration) and the runs' validation
accuracy curves on one chart. Each job's stdout.txt is read once (not followed) through the same log parser
as the live log (`tui.core.logstream`), so whatever Keras or launcher format the live log understands is
compared too. Curves are told apart by a marker character per run (1-9, then a-z) as well as by colour, so
the chart reads on a 16-colour or colourless terminal.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from tui.core import format as fmt
from tui.core.logstream import LogStream
from tui.core.model import ExperimentRef, Job

MARKERS = "123456789abcdefghijklmnopqrstuvwxyz"
# Curve colours by theme role, in turn; the marker tells the runs apart where colours are few.
COLOURS = ("$primary", "$success", "$warning", "$error", "$accent", "$secondary", "$foreground")
VALIDATION_KEYS = ("val_accuracy", "val_acc", "val_categorical_accuracy")
COLUMNS = ("", "Job", "State", "Nodes", "Epochs", "Best val acc", "Final val acc", "Duration")


@dataclass
class RunSummary:
    """One job's row of the comparison and its curve (validation accuracy per finished epoch)."""

    name: str
    state: str
    nodes: int
    epochs_done: int = 0
    epochs_total: int | None = None
    curve: list[float] = field(default_factory=list)
    test_accuracy: float | None = None
    duration_seconds: float | None = None
    note: str = ""  # why there is no curve (no stdout.txt yet, could not be read)

    @property
    def best(self) -> float | None:
        known = [value for value in self.curve if not math.isnan(value)]
        return max(known) if known else None

    @property
    def final(self) -> float | None:
        known = [value for value in self.curve if not math.isnan(value)]
        return known[-1] if known else None


def _validation(entry: dict[str, Any]) -> float:
    for key in VALIDATION_KEYS:
        value = entry.get(key)
        if isinstance(value, int | float):
            return float(value)
    return math.nan


def duration_of(job: Job, now: datetime | None = None) -> float | None:
    """Seconds from start to end (to now while it runs); None before it started."""
    if job.start_time is None:
        return None
    end = job.end_time or now or datetime.now(UTC)
    start = job.start_time
    if (start.tzinfo is None) != (end.tzinfo is None):
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return max(0.0, (end - start).total_seconds())


def summarize_run(job: Job, stream: LogStream | None, note: str = "") -> RunSummary:
    """The comparison row of `job` from its parsed stdout.txt (None when there is none to read)."""
    state = getattr(job.execution_state, "value", str(job.execution_state))
    summary = RunSummary(job.name, state, job.node_count, duration_seconds=duration_of(job), note=note)
    if stream is None:
        return summary
    ranks = stream.ranks
    # rank 0 carries the validation metrics (Horovod's convention); else the rank with the longest history
    chosen = ranks.get("0") if "0" in ranks and ranks["0"].history else None
    if chosen is None and ranks:
        chosen = max(ranks.values(), key=lambda rank: len(rank.history))
    if chosen is not None:
        summary.curve = [_validation(entry) for entry in chosen.history]
        summary.epochs_done = len(chosen.history)
        summary.epochs_total = chosen.epochs
    if stream.test is not None:
        summary.test_accuracy = stream.test.accuracy
    return summary


async def read_run(backend: Any, job: Job) -> RunSummary:
    """Parse the job's stdout.txt as it is now (not followed), chunk by chunk: memory stays the parser's."""
    from tui.core.errors import BaiError

    stream = LogStream(max_lines_per_rank=20)  # only the epochs matter here, not the text
    try:
        async for chunk in backend.jobs.stream_file(job.ref, "stdout.txt", follow=False):
            stream.feed(chunk)
    except BaiError as error:
        return summarize_run(job, None, note=f"no stdout.txt yet ({error})")
    stream.close()
    return summarize_run(job, stream)


async def load_runs(backend: Any, ref: ExperimentRef) -> list[RunSummary]:
    """Every job of the experiment, oldest first, each with its parsed output."""
    jobs = await backend.jobs.list(ref.resource_group, ref.workspace, ref.name)
    jobs.sort(key=lambda job: (job.creation_time is None, job.creation_time or 0, job.name))
    return [await read_run(backend, job) for job in jobs]


def format_accuracy(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.4f}"


def format_duration(seconds: float | None) -> str:
    return "–" if seconds is None else fmt.duration(seconds)


def row_cells(index: int, run: RunSummary, best_name: str | None) -> tuple[str, ...]:
    """A table row as the user reads it; the best run's name carries a star (not only a colour)."""
    epochs = str(run.epochs_done)
    if run.epochs_total:
        epochs = f"{run.epochs_done}/{run.epochs_total}"
    name = f"★ {run.name}" if run.name == best_name else run.name
    return (
        MARKERS[index % len(MARKERS)],
        name,
        run.state,
        str(run.nodes),
        epochs,
        format_accuracy(run.best),
        format_accuracy(run.final),
        format_duration(run.duration_seconds),
    )


def best_run(runs: Sequence[RunSummary]) -> str | None:
    """The run with the highest validation accuracy at any epoch (ties: the earlier run)."""
    scored = [(run.best, -index, run.name) for index, run in enumerate(runs) if run.best is not None]
    return max(scored)[2] if scored else None


def chart_rows(runs: Sequence[RunSummary], width: int, height: int) -> tuple[list[str], list[list[int]], str]:
    """The curves on one grid: rows of characters (top first), which run drew each cell (-1: none), and
    the x axis caption. A run's points are its marker; `·` joins them; the y axis is labelled at its ends.
    """
    label_width = 7
    plot_width = max(4, width - label_width)
    height = max(3, height)
    curves = [run.curve for run in runs]
    values = [value for curve in curves for value in curve if not math.isnan(value)]
    grid = [[" "] * plot_width for _ in range(height)]
    owner = [[-1] * plot_width for _ in range(height)]
    epochs = max((len(curve) for curve in curves), default=0)
    if not values or epochs == 0:
        empty = "no finished epoch with a validation accuracy yet"
        rows = [" " * label_width + empty[:plot_width].ljust(plot_width)] + [" " * width] * (height - 1)
        return rows, [[-1] * width for _ in range(height)], ""
    low, high = min(values), max(values)
    if high - low < 0.01:
        low, high = low - 0.005, high + 0.005

    def column(epoch_index: int) -> int:
        return 0 if epochs == 1 else round(epoch_index * (plot_width - 1) / (epochs - 1))

    def row(value: float) -> int:
        return height - 1 - round((value - low) / (high - low) * (height - 1))

    for run_index, curve in enumerate(curves):
        points = [(column(i), row(v)) for i, v in enumerate(curve) if not math.isnan(v)]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            steps = max(abs(x1 - x0), abs(y1 - y0))
            for step in range(1, steps):
                x = x0 + round((x1 - x0) * step / steps)
                y = y0 + round((y1 - y0) * step / steps)
                if grid[y][x] == " ":
                    grid[y][x], owner[y][x] = "·", run_index
        for x, y in points:
            marker = MARKERS[run_index % len(MARKERS)]
            taken = grid[y][x] not in (" ", "·") and grid[y][x] != marker
            grid[y][x], owner[y][x] = ("*" if taken else marker), run_index
    rows, owners = [], []
    for index, cells in enumerate(grid):
        label = f"{high:.3f}" if index == 0 else f"{low:.3f}" if index == height - 1 else ""
        rows.append(f"{label:>6} " + "".join(cells))
        owners.append([-1] * label_width + owner[index])
    caption = f"{'':>{label_width}}epoch 1{'':>{max(1, plot_width - 7 - len(str(epochs)) - 6)}}epoch {epochs}"
    return rows, owners, caption


class RunsChart(Widget):
    """Every run's validation accuracy per epoch on one chart (marker = the table's first column)."""

    DEFAULT_CSS = """
    RunsChart { height: 1fr; min-height: 6; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.runs: list[RunSummary] = []

    def set_runs(self, runs: list[RunSummary]) -> None:
        self.runs = list(runs)
        self.refresh()

    def plain_rows(self) -> list[str]:
        """The chart as text (what a test or a colourless terminal sees)."""
        rows, _owners, caption = chart_rows(self.runs, self.size.width or 60, max(3, self.size.height - 2))
        return ["validation accuracy by epoch", *rows, caption]

    def render(self) -> Content:
        width = max(20, self.size.width)
        rows, owners, caption = chart_rows(self.runs, width, max(3, self.size.height - 2))
        parts: list[tuple[str, str] | str] = [("validation accuracy by epoch", "bold"), "\n"]
        for row, owner in zip(rows, owners, strict=True):
            start = 0
            for index in range(1, len(row) + 1):
                if index == len(row) or owner[index] != owner[start]:
                    text = row[start:index]
                    run = owner[start]
                    parts.append((text, COLOURS[run % len(COLOURS)]) if run >= 0 else text)
                    start = index
            parts.append("\n")
        parts.append((caption, "dim"))
        return Content.assemble(*parts)


class CompareRunsScreen(Screen[None]):
    """The comparison of an experiment's runs; Escape goes back to the console, r reads the logs again."""

    DEFAULT_CSS = """
    CompareRunsScreen #compare-title { height: 1; text-style: bold; padding: 0 1; }
    CompareRunsScreen #compare-status { height: auto; padding: 0 1; color: $text-muted; }
    CompareRunsScreen DataTable { height: auto; max-height: 50%; }
    CompareRunsScreen RunsChart { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back", id="compare.back"),
        Binding("r", "reload", "Reload", id="compare.reload"),
    ]

    def __init__(self, backend: Any, ref: ExperimentRef) -> None:
        super().__init__()
        self.backend = backend
        self.ref = ref
        self.runs: list[RunSummary] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Compare runs: experiment {self.ref.name}", id="compare-title", markup=False)
            yield Static("reading each job's stdout.txt…", id="compare-status", markup=False)
            table: DataTable[str] = DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
            table.add_columns(*COLUMNS)
            yield table
            yield RunsChart(id="compare-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.loaded = False
        self._load()

    @work(exclusive=True, group="compare-load", exit_on_error=False)
    async def _load(self) -> None:
        status = self.query_one("#compare-status", Static)
        try:
            runs = await load_runs(self.backend, self.ref)
        except Exception as error:
            status.update(f"could not list the jobs: {error}; press r to try again")
            return
        self.show_runs(runs)

    def show_runs(self, runs: list[RunSummary]) -> None:
        self.runs = runs
        table = self.query_one(DataTable)
        table.clear()
        best = best_run(runs)
        for index, run in enumerate(runs):
            table.add_row(*row_cells(index, run, best), key=run.name)
        self.query_one(RunsChart).set_runs(runs)
        status = self.query_one("#compare-status", Static)
        if not runs:
            status.update("no jobs in this experiment yet: press Escape, then 2 for the job form")
        else:
            best_text = f"; best: {best} ({format_accuracy(max(r.best or 0 for r in runs))})" if best else ""
            status.update(f"{len(runs)} run(s){best_text}. r reads the logs again, Escape goes back")
        self.loaded = True

    def table_rows(self) -> list[tuple[str, ...]]:
        """The table as text, row by row (what a test compares)."""
        table = self.query_one(DataTable)
        return [tuple(str(cell) for cell in table.get_row_at(index)) for index in range(table.row_count)]
