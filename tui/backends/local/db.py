"""The local backend's SQLite state: schema, connections and short write transactions.

Several processes share one database (consoles, `bai` commands, one supervisor per running job), so:
WAL journal (readers never block the writer), a generous busy timeout, autocommit by default and every
read-modify-write inside `BEGIN IMMEDIATE` (the write lock is taken up front, so two schedulers can never
claim the same idle node). Transactions stay short: no process is started and no file copied while one is
open. A process killed mid-transaction loses nothing: SQLite rolls the unfinished transaction back.

A full disk must not leave the state stuck (a job that cannot be recorded as ended, a terminate that cannot
be written): a small reserve file beside the database holds some space back while the disk has room, and a
write that finds the disk nearly full gives it up first. A write that still does not fit fails as one line
naming the folder, and nothing is changed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tui.core.errors import BaiError

# 2: the jobs_by_experiment index; 3: the jobs_unusual index. An older state gets what is new on first use.
SCHEMA_VERSION = 3

# jobs.priority: schedulingPriority as a sortable number (the scheduler runs the highest first).
PRIORITIES = {"low": -1, "normal": 0, "high": 1}
PRIORITY_NAMES = {value: name for name, value in PRIORITIES.items()}
# The states a job can be in (tui.core.model.ExecutionState's values; a test checks they agree).
JOB_STATES = ("queued", "running", "terminating", "succeeded", "failed", "canceled")

# A time exactly as `datetime.isoformat` writes the UTC times bai stores (`now_text`), with or without
# microseconds (never ".000000": isoformat leaves zero microseconds out).
_DIGITS = "[0-9]"
_SECONDS = "-".join((_DIGITS * 4, _DIGITS * 2, _DIGITS * 2)) + "T" + ":".join((_DIGITS * 2,) * 3)
_ISO_TIME = (
    "({c} IS NULL OR {c} GLOB '{s}+00:00'"
    " OR ({c} GLOB '{s}." + _DIGITS * 6 + "+00:00' AND {c} NOT GLOB '*.000000+00:00'))"
)
# Text holding a character JSON escapes: a quote, a backslash or a control character (NUL aside: SQLite's
# GLOB and printf stop at one, so a NUL is looked for with instr).
_ESCAPED = f"'*[' || char({', '.join(map(str, range(1, 32)))}) || '\"\\]*'"
# A job whose values az prints as they are stored: no errors or warnings to decode, values of the types
# bai writes, text that JSON writes as it is (between quotes), a known state and priority, times as
# `now_text` writes them. Nearly every job bai writes is plain until it gets errors or warnings; `bai job
# list` writes a plain job's text in SQL and makes a `Job` of the others (tui.backends.local.listing), which
# the jobs_unusual index finds without reading every job. Changing it needs a new SCHEMA_VERSION that drops
# and makes that index again.
PLAIN_JOB = " AND ".join(
    [
        "errors = '[]'",
        "warnings = '[]'",
        f"state IN ({', '.join(repr(state) for state in JOB_STATES)})",
        f"priority IN ({', '.join(map(str, PRIORITIES.values()))})",
        "typeof(node_count) = 'integer'",
        "typeof(exit_code) IN ('integer', 'null')",
        *(
            f"typeof({column}) = 'text' AND instr({column}, char(0)) = 0 AND {column} NOT GLOB {_ESCAPED}"
            for column in (
                "name",
                "resource_group",
                "workspace",
                "experiment",
                "cluster_name",
                "toolkit",
                "segment",
                "std_out_err_path_prefix",
            )
        ),
        *(
            _ISO_TIME.format(c=column, s=_SECONDS)
            for column in ("created", "transition_time", "start_time", "end_time")
        ),
    ]
)
# In a query, exactly this term (so that SQLite uses the index): the jobs that are not plain.
UNUSUAL_JOB = f"({PLAIN_JOB}) IS NOT 1"

SCHEMA = (
    """
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
CREATE INDEX IF NOT EXISTS jobs_by_experiment ON jobs (resource_group, workspace, experiment, id);
CREATE INDEX IF NOT EXISTS jobs_unusual ON jobs (resource_group, workspace, experiment, id)
    WHERE """
    + UNUSUAL_JOB
    + """;
"""
)
OUR_TABLES = {
    "meta",
    "resource_groups",
    "storage_accounts",
    "workspaces",
    "experiments",
    "clusters",
    "nodes",
    "jobs",
}

BUSY_TIMEOUT_MS = 30_000

RESERVE_FILE = "state.reserve"
RESERVE_BYTES = 1 << 20
# The reserve is made again only once the disk has this much room: never what fills it.
RESERVE_REMAKE_FREE = 16 << 20

_ready: set[Path] = set()
_ready_lock = threading.Lock()


class StateConnection(sqlite3.Connection):
    """A connection that knows its database file (for the reserve and for error lines) and whether it may
    write."""

    path: Path
    read_only: bool = False


class StateDamagedError(BaiError):
    """The state database cannot be read as bai's: it is left exactly as it is."""

    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = " ".join(what.split())
        super().__init__(f"the state at {path} is damaged: {self.what}; move it away to start afresh")


class ReadOnlyStateError(BaiError):
    """The state is read-only here (a read-only file system or no permission) and the command writes."""


class DiskFullError(BaiError):
    """A state write did not fit on the disk; nothing was changed."""


def free_bytes(path: Path) -> int | None:
    """Bytes an unprivileged writer can still use on the file system holding `path` (None if unknown)."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def _reserve(path: Path) -> Path:
    return path.with_name(RESERVE_FILE)


def _keep_reserve(path: Path) -> None:
    """Make the reserve file when it is missing and the disk has room (allocated, not sparse)."""
    reserve = _reserve(path)
    if reserve.exists():
        return
    free = free_bytes(path.parent)
    if free is None or free < RESERVE_REMAKE_FREE:
        return
    try:
        fd = os.open(reserve, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return
    try:
        os.posix_fallocate(fd, 0, RESERVE_BYTES)
    except (OSError, AttributeError):
        with contextlib.suppress(OSError):
            os.write(fd, bytes(RESERVE_BYTES))
    finally:
        os.close(fd)


def _release_reserve_if_low(path: Path) -> None:
    free = free_bytes(path.parent)
    if free is not None and free < 2 * RESERVE_BYTES:
        _reserve(path).unlink(missing_ok=True)


def _is_disk_full(error: BaseException) -> bool:
    if not isinstance(error, sqlite3.Error):
        return False
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(error)


def _disk_full(conn: sqlite3.Connection) -> DiskFullError:
    path = getattr(conn, "path", None)
    where = str(path.parent) if path else "BAI_HOME"
    return DiskFullError(
        f"the disk holding the local state ({where}) is full: nothing was changed; free space there and retry"
    )


def now() -> datetime:
    return datetime.now(UTC)


def now_text() -> str:
    return now().isoformat()


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL and the busy timeout; creates the schema on first use.

    A state that cannot be read is never written: a file that is no SQLite database, someone else's database,
    one from a newer bai, or one SQLite finds malformed raises StateDamagedError. On a read-only file system
    the connection is read-only (reads work; a write raises ReadOnlyStateError)."""
    if path.exists() and not path.is_file():
        raise StateDamagedError(path, "it is not a file")
    read_only = _read_only(path)
    if read_only:
        return _connect_read_only(path)
    # The first connection makes the WAL index (-shm) and log: on a full disk even a read needs that room.
    # Only then: a reader must not give the reserve away to a runaway job while a writer may still need it.
    if not path.with_name(path.name + "-shm").exists():
        _release_reserve_if_low(path)
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, factory=StateConnection
        )
    except sqlite3.Error as error:
        raise BaiError(f"cannot open the local state database {path}: {error}; check BAI_HOME") from error
    conn.path = path
    conn.read_only = False
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        with _ready_lock:
            if path not in _ready:
                _initialise(conn)
                _keep_reserve(path)
                _ready.add(path)
    except (sqlite3.Error, BaiError) as error:
        conn.close()
        if isinstance(error, BaiError):
            raise
        free = free_bytes(path.parent)
        if _is_disk_full(error) or (free is not None and free < RESERVE_BYTES):
            raise DiskFullError(
                f"the disk holding the local state ({path.parent}) is full ({free or 0} bytes free): "
                "even reading it needs a little room; free space there and retry"
            ) from error
        raise state_error(error, path) from error
    return conn


def _read_only(path: Path) -> bool:
    """True when this process cannot write the state (read-only file system, or no permission)."""
    folder = path.parent
    if not os.access(folder, os.W_OK):
        return True
    return path.exists() and not os.access(path, os.W_OK)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection. A WAL database needs its index (-shm) to be writable even for reading; on a
    read-only file system SQLite reads it as immutable instead, which is exact only when no change is waiting
    in the WAL file (a clean close leaves none): otherwise say so rather than show stale state."""
    if not path.exists():
        raise ReadOnlyStateError(
            f"BAI_HOME ({path.parent}) is read-only and holds no state yet: make it writable or point "
            "BAI_HOME at a writable folder"
        )
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0 and not os.access(path.parent, os.W_OK):
        raise ReadOnlyStateError(
            f"the state at {path} is on a read-only file system with changes still in {wal.name}: make "
            f"{path.parent} writable once (any bai command then merges them), then it can be read read-only"
        )
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, factory=StateConnection
        )
        conn.path = path
        conn.read_only = True
        conn.row_factory = sqlite3.Row
        _check_schema(conn)
    except sqlite3.Error as error:
        raise state_error(error, path) from error
    return conn


def _check_schema(conn: sqlite3.Connection) -> int:
    """The state's schema version, after checking the file is bai's (0: an empty database, ours to make)."""
    path = conn.path  # type: ignore[attr-defined]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    tables.discard("sqlite_sequence")
    if version > SCHEMA_VERSION:
        raise StateDamagedError(
            path, f"it was written by a newer bai (schema {version}, this one reads {SCHEMA_VERSION})"
        )
    if version == 0 and tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StateDamagedError(path, f"it is another program's database (tables {shown})")
    if version == SCHEMA_VERSION:
        missing = sorted(OUR_TABLES - tables)
        if missing:
            raise StateDamagedError(path, f"table {missing[0]} is missing")
    return version


def _initialise(conn: sqlite3.Connection) -> None:
    version = _check_schema(conn)  # before anything is written: a file we cannot read stays as it is
    # journal_mode is persistent in the file; setting it needs no write lock when it is already WAL.
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    if version == SCHEMA_VERSION:
        return
    try:
        with immediate(conn):
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.OperationalError:
        if version == 0:
            raise
        # An older state that cannot be written now (a read-only file): it reads as it is; what versions 2
        # and 3 add are indexes, which only make `job list` faster. The upgrade is tried again next time.


def state_error(error: BaseException, path: Path) -> BaiError:
    """The one line a user sees for an SQLite error on the state: full, read-only, busy or damaged."""
    if isinstance(error, BaiError):
        return error
    text = str(error)
    code = getattr(error, "sqlite_errorcode", None)
    if _is_disk_full(error):
        return DiskFullError(
            f"the disk holding the local state ({path.parent}) is full: nothing was changed; free space "
            "there and retry"
        )
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return ReadOnlyStateError(
            f"the state at {path} is read-only: this command changes it; make {path.parent} writable"
        )
    if "locked" in text or "busy" in text:
        return BaiError(f"the local state database is busy ({text}); another bai process holds it, try again")
    return StateDamagedError(path, text)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short write transaction that holds the write lock from its first statement (BEGIN IMMEDIATE)."""
    path = getattr(conn, "path", None)
    if getattr(conn, "read_only", False):
        raise state_error(sqlite3.OperationalError("attempt to write a readonly database"), path)
    if path is not None:
        _release_reserve_if_low(path)
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
        conn.execute("COMMIT")
    except BaseException as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if _is_disk_full(error):
            raise _disk_full(conn) from error
        raise


@contextmanager
def opened(path: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()
