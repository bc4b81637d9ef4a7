"""The busy line a verb shows on a terminal while it waits: `- Running .. 12s`, as az printed.

Why: on Azure, `cluster create`, `group delete`, `job wait` and the like are long-running operations that take
minutes; a command that prints nothing for that long looks hung. az drew a spinner on stderr meanwhile, so
`bai` does too, on the same terms:

- only when stderr is a terminal: scripts and pipes get exactly the output they always did;
- only once the operation has taken `DELAY` seconds, so an instant (local) operation prints nothing;
- erased (`\\r\\x1b[K`) before anything else reaches the terminal (the result, a warning, an error) and when
  the operation ends for any reason, Ctrl-C included.

It is drawn by a daemon thread rather than an asyncio task, so it keeps turning even while the event loop is
busy in synchronous work (SQLite, credential look-ups, the SDK's own set-up). While it is on, `sys.stdout` and
`sys.stderr` are wrapped so that whatever is written meanwhile (a Python warning, a log record) first erases
the line; the thread redraws it on its next turn.

Verbs opt in with `run_with_backend(..., busy=True)`. Never for `job file stream` (the job's output goes to
stdout, often the same terminal) nor for storage transfers (they draw their own progress line).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

DELAY = 0.5  # seconds of quiet before the line appears
INTERVAL = 0.2  # seconds between redraws
FRAMES = "-\\|/"  # the order humanfriendly's spinner (which az used) turns in
ERASE = "\r\x1b[K"


class _Spinner:
    """The line's state, shared by the drawing thread and the writers; every write to the terminal holds
    `lock`, so a redraw never lands in the middle of someone else's text."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.drawn = False
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="bai-busy", daemon=True)

    def _run(self) -> None:
        if self.stop.wait(DELAY):
            return
        turn = 0
        while not self.stop.is_set():
            with self.lock:
                if self.stop.is_set():
                    break
                elapsed = int(time.monotonic() - self.started)
                self._write(f"\r{FRAMES[turn % len(FRAMES)]} {self.label} .. {elapsed}s\x1b[K")
                self.drawn = True
            turn += 1
            self.stop.wait(INTERVAL)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: nothing left to draw on
            self.stop.set()

    def erase(self) -> None:
        """Take the line off the terminal (the caller holds `lock`)."""
        if self.drawn:
            self.drawn = False
            self._write(ERASE)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        with self.lock:
            self.erase()


class _Guarded:
    """A text stream that erases the busy line before anything is written through it."""

    def __init__(self, inner: TextIO, spinner: _Spinner) -> None:
        self._inner = inner
        self._spinner = spinner

    def write(self, text: str) -> int:
        with self._spinner.lock:
            if text:
                self._spinner.erase()
            return self._inner.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def wanted(stream: TextIO) -> bool:
    """A spinner only for a person watching: stderr must be a terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def busy(enabled: bool = True, label: str = "Running") -> Iterator[None]:
    """Show the busy line on stderr while the body runs (when enabled and stderr is a terminal)."""
    stream = sys.stderr
    if not enabled or not wanted(stream):
        yield
        return
    spinner = _Spinner(stream, label)
    saved_out, saved_err = sys.stdout, sys.stderr
    sys.stdout = _Guarded(saved_out, spinner)  # type: ignore[assignment]
    sys.stderr = _Guarded(saved_err, spinner)  # type: ignore[assignment]
    spinner.thread.start()
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved_out, saved_err
        spinner.finish()
