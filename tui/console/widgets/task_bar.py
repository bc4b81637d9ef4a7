"""A one-line bar at the bottom that shows long work (uploads, downloads, submissions) and its progress.

Transfer callbacks may come from another thread, so they only record numbers; a timer draws them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

_ids = itertools.count(1)


@dataclass
class Task:
    label: str
    done: int = 0
    total: int | None = None
    id: int = 0

    def progress(self, done: int, total: int | None) -> None:
        """A `ProgressCallback` for the backend's transfers."""
        self.done, self.total = done, total


class TaskBar(Horizontal):
    DEFAULT_CSS = """
    TaskBar { dock: bottom; height: 1; display: none; background: $panel; padding: 0 1; }
    TaskBar.-busy { display: block; }
    TaskBar Label { width: 1fr; }
    TaskBar ProgressBar { width: 40; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tasks: dict[int, Task] = {}

    def compose(self) -> ComposeResult:
        yield Label("", id="task-label", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="task-progress")

    def on_mount(self) -> None:
        self.set_interval(0.2, self._draw)

    def start(self, label: str) -> Task:
        task = Task(label, id=next(_ids))
        self.tasks[task.id] = task
        self._draw()
        return task

    def finish(self, task: Task) -> None:
        self.tasks.pop(task.id, None)
        self._draw()

    def _draw(self) -> None:
        self.set_class(bool(self.tasks), "-busy")
        if not self.tasks:
            return
        task = list(self.tasks.values())[-1]
        more = f" (+{len(self.tasks) - 1} more)" if len(self.tasks) > 1 else ""
        self.query_one("#task-label", Label).update(f"⏳ {task.label}…{more}")
        self.query_one("#task-progress", ProgressBar).update(total=task.total, progress=task.done)
