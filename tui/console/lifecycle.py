"""How the console ends: on a hang-up or SIGTERM (terminal or SSH session gone), and on an internal error.

A hang-up asks the app to exit and starts a watchdog that ends the process after a grace period, since with
the terminal gone Textual's output can block for good. An internal error never puts a traceback (with local
variables, maybe a secret) on the screen: it goes to a private crash log and the terminal gets one line.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

from tui.console.settings import crash_log_path

HANG_UP_GRACE_SECONDS = 5.0  # after SIGHUP/SIGTERM, the longest an orderly exit may take


def install_signal_handlers(app: Any) -> None:
    """Leave cleanly when the SSH session or terminal goes away (SIGHUP) or on SIGTERM.

    A plain signal handler, not the event loop's: the loop may be the thing that is stuck (blocked on
    output to a terminal that is gone), and a handler that waits for the loop would never run.
    """
    import asyncio

    loop = asyncio.get_running_loop()

    def on_signal(number: int, frame: object) -> None:
        # With the terminal gone, Textual's driver can block for good (its writer thread died on the
        # dead terminal, so its bounded output queue never drains): seen when SIGHUP and SIGCONT come
        # together. Nothing is left to restore then, jobs run on without the console and backend
        # writes are committed as they happen, so after a grace period the process just ends.
        start_exit_watchdog(HANG_UP_GRACE_SECONDS)
        with contextlib.suppress(RuntimeError):  # the loop has already closed
            loop.call_soon_threadsafe(app.exit, 0)

    for number in (signal.SIGHUP, signal.SIGTERM):
        # not the main thread (tests): nothing to install
        with contextlib.suppress(ValueError, OSError):
            signal.signal(number, on_signal)


def start_exit_watchdog(seconds: float) -> None:
    """End the process after `seconds` unless it has ended by then (a daemon thread waits)."""
    import threading
    import time

    def wait_then_exit() -> None:
        time.sleep(seconds)
        os._exit(0)

    threading.Thread(target=wait_then_exit, name="bai-exit-watchdog", daemon=True).start()


def crash_report(error: BaseException | None) -> str:
    """Write the traceback (no local variables) to console-crash.log, mode 0600; the one line to show."""
    import traceback

    path = crash_log_path()
    detail = "".join(traceback.format_exception(error)) if error is not None else "no exception recorded\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write(detail + "\n")
        where = f"details in {path}"
    except OSError:
        where = "the details could not be written"
    name = type(error).__name__ if error is not None else "error"
    return f"bai: the console stopped on an internal error ({name}); {where}. Please report it."
