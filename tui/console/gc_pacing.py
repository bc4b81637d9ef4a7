"""The cyclic GC's older collections, run between key presses rather than inside them (issue 12).

CPython starts a collection when enough objects have been allocated since the last one, and nothing in the
console allocates more than answering a key (a tab switch lays out and renders a pane): so the collections
of the middle generation (2-4 ms) and the full ones (10-16 ms while workers stream into the live log)
started inside key presses far more often than by chance, and made the tail of the key latency. Once the
console is up, `GcPacer` takes their trigger over from the interpreter: it runs the collection the
interpreter would have run (the same counts and thresholds), but only just after a key's answer has been
painted (while the user reads it), or from a timer once no key has come for a while. Collections of the
youngest generation stay the interpreter's: they are short. The thresholds are given back when the console
ends.
"""

from __future__ import annotations

import gc
import time
from typing import Any

IDLE_CHECK_SECONDS = 0.5  # how often the timer checks whether a collection is due
IDLE_SECONDS = 1.0  # no key for this long: the timer collects (else the next key's answer does)
MAX_WAIT_SECONDS = 5.0  # keys that run no action (typing in a field) keep coming: the timer collects anyway
NEVER = 1 << 30  # the interpreter's own thresholds for the older generations while paced: never reached


class GcPacer:
    """Runs the collections of the older generations that are due at moments the console chooses."""

    def __init__(self) -> None:
        self.thresholds: tuple[int, int, int] | None = None  # the interpreter's, while paced
        self.last_key = 0.0  # time.monotonic() of the last key that came or was answered
        self.due_since: float | None = None  # time.monotonic() when the timer first saw a collection due
        self.collections = [0, 0, 0]  # run here, by generation (tests and benches read it)

    @property
    def pacing(self) -> bool:
        return self.thresholds is not None

    def start(self, app: Any) -> None:
        """Take the older generations' collections over (once; `app` runs the idle check until it ends)."""
        if self.thresholds is not None:
            return
        self.thresholds = gc.get_threshold()
        gc.set_threshold(self.thresholds[0], NEVER, NEVER)
        app.set_interval(IDLE_CHECK_SECONDS, self.collect_when_idle, name="gc-pacing")

    def stop(self) -> None:
        """Give the interpreter its thresholds back (the console ends; tests run more apps after it)."""
        if self.thresholds is not None:
            gc.set_threshold(*self.thresholds)
            self.thresholds = None

    def due(self) -> int | None:
        """The generation the interpreter would collect now (2 before 1, as it decides), None if neither:
        a generation is due once the one below it was collected more times than its threshold."""
        if self.thresholds is None:
            return None
        counts = gc.get_count()
        for generation in (2, 1):
            if counts[generation] > self.thresholds[generation]:
                return generation
        return None

    def key_came(self) -> None:
        """Called as a key arrives: the timer leaves the collections to its answer (it could otherwise run
        one between the key's handling and the paint: timers run in tasks of their own)."""
        self.last_key = time.monotonic()

    def key_answered(self) -> None:
        """Called once a key's answer is on screen: what is due runs now, before the next key comes."""
        self.last_key = time.monotonic()
        self.collect_if_due()

    def collect_when_idle(self) -> None:
        """The timer's check: collect what is due once no key came for IDLE_SECONDS, or once it has waited
        MAX_WAIT_SECONDS (keys typed into a field run no action, so no answer collects after them)."""
        now = time.monotonic()
        if self.due() is None:
            self.due_since = None
            return
        if self.due_since is None:
            self.due_since = now
        if now - self.last_key >= IDLE_SECONDS or now - self.due_since >= MAX_WAIT_SECONDS:
            self.collect_if_due()

    def collect_if_due(self) -> None:
        generation = self.due()
        if generation is not None:
            gc.collect(generation)
            self.collections[generation] += 1
            self.due_since = None
