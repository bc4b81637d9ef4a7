"""What every local service shares: the `$BAI_HOME` layout and a way to run blocking work off the event loop.

SQLite and file copies block, and the console's event loop must never wait on them, so every service method
does its work in a worker thread with its own short-lived connection (connections are cheap; a shared one
would need a lock and would outlive a fork).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tui.backends.local import db
from tui.backends.local.home import Layout
from tui.core.errors import BaiError

T = TypeVar("T")


class LocalContext:
    def __init__(self, layout: Layout):
        self.layout = layout
        try:
            layout.ensure()
        except OSError as error:
            if not layout.database.is_file():
                raise BaiError(
                    f"BAI_HOME ({layout.root}) cannot be set up ({error.strerror or error}): make it "
                    "writable or point BAI_HOME at another folder"
                ) from None
            # A read-only BAI_HOME that holds a state can still be read.

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with db.opened(self.layout.database) as conn:
            yield conn

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn` in a worker thread; an SQLite error on the state becomes the one line that says what is
        wrong with it (full, read-only, busy, damaged), never a traceback."""
        import asyncio  # here: `bai job list` reads the state without an event loop (see listing.py)

        try:
            return await asyncio.to_thread(fn, *args)
        except sqlite3.Error as error:
            raise db.state_error(error, self.layout.database) from error
