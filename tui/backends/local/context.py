"""What every local service shares: the `$BAI_HOME` layout and a way to run blocking work off the event loop.

SQLite and file copies block, and the console's event loop must never wait on them, so every service method
does its work in a worker thread with its own short-lived connection (connections are cheap; a shared one
would need a lock and would outlive a fork).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tui.backends.local import db
from tui.backends.local.home import Layout

T = TypeVar("T")


class LocalContext:
    def __init__(self, layout: Layout):
        self.layout = layout
        layout.ensure()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with db.opened(self.layout.database) as conn:
            yield conn

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.to_thread(fn, *args)
