"""How the console ends: on a hang-up or SIGTERM (terminal or SSH session gone), and on an internal error.

A hang-up asks the app to exit and starts a watchdog that ends the process after a grace period, since with
the terminal gone Textual's output can block for good. An internal error never puts a traceback (with local
variables, maybe a secret) on the screen: Textual's report of it is written to the app's error console, which
is a `CrashLog`; that goes, without the local variables, to a private file, and the terminal gets one line.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
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

    detail = "".join(traceback.format_exception(error)) if error is not None else "no exception recorded\n"
    return file_crash(detail, type(error).__name__ if error is not None else "error")


def file_crash(detail: str, name: str) -> str:
    """Append `detail` to console-crash.log (mode 0600); the one line that says so."""
    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write(detail + "\n")
        where = f"details in {path}"
    except OSError:
        where = "the details could not be written"
    return f"bai: the console stopped on an internal error ({name}); {where}. Please report it."


class CrashLog(io.StringIO):
    """The file of the app's error console: what Textual would print on the terminal after a crash.

    Textual renders an unhandled error as a traceback with each frame's local variables (where a token or
    a storage key may sit) and prints it when the app has ended. Here it is kept until `file()` writes it,
    the local variables cut out, to the private crash log.
    """

    def file(self) -> str | None:
        """Write what was reported to console-crash.log; the one line to show, None when nothing was."""
        text = self.getvalue()
        if not text.strip():
            return None
        self.seek(0)
        self.truncate()
        lines = text.rstrip().splitlines()
        last = lines[-1].strip() if lines else ""
        found = re.match(r"([A-Za-z_][\w.]*)(?::|$)", last)
        return file_crash(without_locals(text), found.group(1) if found else "error")


def without_locals(report: str) -> str:
    """A rendered Rich traceback without its "locals" panels (each frame's variables and their values)."""
    kept: list[str] = []
    column: int | None = None  # where the panel being cut opened
    for line in report.splitlines():
        if column is None:
            start = line.find("╭")
            if start >= 0 and " locals " in line[start:]:
                column = start
                continue
            kept.append(line)
        elif line[column : column + 1] == "╰":
            column = None
    return "\n".join(kept) + "\n"
