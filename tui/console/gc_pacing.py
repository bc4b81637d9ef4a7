"""The cyclic GC's full collections, run between key presses rather than inside them (issue 12).

CPython starts a collection when enough objects have been allocated since the last one, and nothing in the
console allocates more than answering a key (a tab switch lays out and renders a pane): so the full
collections (10-16 ms each while workers stream into the live log) started inside key presses far more
often than by chance, and made the tail of the key latency. Once the console is up, `GcPacer` takes the
trigger of full collections over from the interpreter: it runs one when the interpreter would have (as many
younger collections since the last full one as its threshold says), but only just after a key's answer has
been painted (while the user reads it), or from a timer when no key comes. Young collections stay the
interpreter's: they are short. The thresholds are given back when the console ends.
"""

from __future__ import annotations

import gc
from typing import Any

IDLE_CHECK_SECONDS = 0.5  # how often a console with no key pressed checks whether a full collection is due
NEVER = 1 << 30  # the interpreter's own threshold for full collections while paced: never reached


class GcPacer:
    """Runs the full collections that are due at the moments the console chooses (`collect_if_due`)."""

    def __init__(self) -> None:
        self.thresholds: tuple[int, int, int] | None = None  # the interpreter's, while paced
        self.collections = 0  # full collections run here (tests and benches read it)

    @property
    def pacing(self) -> bool:
        return self.thresholds is not None

    def start(self, app: Any) -> None:
        """Take full collections over (once; `app` runs the idle check until it ends)."""
        if self.thresholds is not None:
            return
        self.thresholds = gc.get_threshold()
        young, middle, _ = self.thresholds
        gc.set_threshold(young, middle, NEVER)
        app.set_interval(IDLE_CHECK_SECONDS, self.collect_if_due, name="gc-pacing")

    def stop(self) -> None:
        """Give the interpreter its thresholds back (the console ends; tests run more apps after it)."""
        if self.thresholds is not None:
            gc.set_threshold(*self.thresholds)
            self.thresholds = None

    def due(self) -> bool:
        """A full collection is due when the interpreter would have started one: as many collections of the
        middle generation since the last full one as its threshold for the oldest."""
        return self.thresholds is not None and gc.get_count()[2] > self.thresholds[2]

    def collect_if_due(self) -> None:
        if self.due():
            gc.collect()
            self.collections += 1
