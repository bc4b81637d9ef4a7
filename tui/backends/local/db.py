"""The local backend's SQLite state: schema, connections and short write transactions.

Several processes share one database (consoles, `bai` commands, one supervisor per running job), so:
WAL journal (readers never block the writer), a generous busy timeout, autocommit by default and every
read-modify-write inside `BEGIN IMMEDIATE` (the write lock is taken up front, so two schedulers can never
claim the same idle node). Transactions stay short: no process is started and no file copied while one is
open. A process killed mid-transaction loses nothing: SQLite rolls the unfinished transaction back.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tui.core.errors import BaiError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resource_groups (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    location TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS storage_accounts (
    name TEXT PRIMARY KEY,
    resource_group TEXT NOT NULL COLLATE NOCASE,
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workspaces (
    resource_group TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    location TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (resource_group, name)
);
CREATE TABLE IF NOT EXISTS experiments (
    resource_group TEXT NOT NULL COLLATE NOCASE,
    workspace TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    created TEXT NOT NULL,
    PRIMARY KEY (resource_group, workspace, name)
);
CREATE TABLE IF NOT EXISTS clusters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_group TEXT NOT NULL COLLATE NOCASE,
    workspace TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    vm_size TEXT NOT NULL,
    vm_priority TEXT NOT NULL,
    target_node_count INTEGER NOT NULL,
    allocation_state TEXT NOT NULL,
    transition_time TEXT NOT NULL,
    created TEXT NOT NULL,
    next_node_seq INTEGER NOT NULL DEFAULT 0,
    UNIQUE (resource_group, workspace, name)
);
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    job_id INTEGER,
    rank_base INTEGER
);
CREATE INDEX IF NOT EXISTS nodes_by_cluster ON nodes (cluster_id, state);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    resource_group TEXT NOT NULL COLLATE NOCASE,
    workspace TEXT NOT NULL COLLATE NOCASE,
    experiment TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    cluster_id INTEGER,
    cluster_name TEXT NOT NULL,
    state TEXT NOT NULL,
    priority INTEGER NOT NULL,
    node_count INTEGER NOT NULL,
    toolkit TEXT NOT NULL,
    plan TEXT NOT NULL,
    segment TEXT NOT NULL,
    std_out_err_path_prefix TEXT NOT NULL,
    stdouterr_dir TEXT NOT NULL,
    created TEXT NOT NULL,
    transition_time TEXT NOT NULL,
    dispatched_at TEXT,
    start_time TEXT,
    end_time TEXT,
    exit_code INTEGER,
    errors TEXT NOT NULL DEFAULT '[]',
    warnings TEXT NOT NULL DEFAULT '[]',
    supervisor_pid INTEGER,
    supervisor_started TEXT,
    job_pgid INTEGER,
    terminate_requested_at TEXT,
    UNIQUE (resource_group, workspace, experiment, name)
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, cluster_id);
"""

BUSY_TIMEOUT_MS = 30_000

_ready: set[Path] = set()
_ready_lock = threading.Lock()


def now() -> datetime:
    return datetime.now(UTC)


def now_text() -> str:
    return now().isoformat()


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL and the busy timeout; creates the schema on first use."""
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as error:
        raise BaiError(f"cannot open the local state database {path}: {error}; check BAI_HOME") from error
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    with _ready_lock:
        if path not in _ready:
            _initialise(conn)
            _ready.add(path)
    return conn


def _initialise(conn: sqlite3.Connection) -> None:
    # journal_mode is persistent in the file; setting it needs no write lock when it is already WAL.
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    with immediate(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short write transaction that holds the write lock from its first statement (BEGIN IMMEDIATE)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise BaiError(
                    f"the local state database is busy ({error}); another bai process holds it, try again"
                ) from error
            time.sleep(0.05)
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


@contextmanager
def opened(path: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()
