"""Processes of local jobs: is a recorded process still the same one, and stop everything a job started.

A pid alone is not an identity (pids are reused), so every recorded process is stored with its start time
(`/proc/<pid>/stat` field 22 on Linux, psutil elsewhere) and compared before any signal is sent.
Horovod puts each rank in its own session, so killing horovodrun's process group is not enough: every
process a job starts carries `BAI_LOCAL_JOB_ID=<uuid>` in its environment, and the sweep finds them by it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

JOB_MARKER = "BAI_LOCAL_JOB_ID"
_PROC = Path("/proc")


def start_time(pid: int) -> str | None:
    """An opaque, stable start stamp of a live (non-zombie) process, or None when it is gone."""
    stat = _PROC / str(pid) / "stat"
    if _PROC.is_dir():
        try:
            text = stat.read_text()
        except OSError:
            return None
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] in ("Z", "X"):
            return None
        return fields[19]
    try:
        import psutil

        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return f"{process.create_time():.2f}"
    except Exception:
        return None


def is_same_process(pid: int | None, started: str | None) -> bool:
    """True when `pid` is alive and is the very process recorded with `started`."""
    if not pid:
        return False
    now = start_time(pid)
    return now is not None and (started is None or now == started)


def job_processes(job_uuid: str, pgid: int | None = None) -> list[int]:
    """Live (non-zombie) pids in the job's process group or marked with its id in their environment."""
    if not _PROC.is_dir():
        return []
    needle = f"{JOB_MARKER}={job_uuid}".encode()
    found = []
    me = os.getpid()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] in ("Z", "X"):
                continue
            if pgid and int(fields[2]) == pgid:
                found.append(int(entry.name))
                continue
            environ = (entry / "environ").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def signal_job(job_uuid: str, pgid: int | None, sig: int) -> int:
    """Send `sig` to the job's process group and to every process marked with its id; returns how many."""
    sent = 0
    if pgid:
        try:
            os.killpg(pgid, sig)
            sent += 1
        except (ProcessLookupError, PermissionError):
            pass
    for pid in job_processes(job_uuid, pgid):
        try:
            os.kill(pid, sig)
            sent += 1
        except (ProcessLookupError, PermissionError):
            pass
    return sent


def job_alive(job_uuid: str, pgid: int | None) -> bool:
    if not _PROC.is_dir() and pgid:
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    return bool(job_processes(job_uuid, pgid))


def stop_job(job_uuid: str, pgid: int | None, grace: float, reap: Callable[[], object] | None = None) -> None:
    """SIGTERM the whole job, wait up to `grace` seconds, then SIGKILL whatever is left.

    `reap` lets the job's parent collect its exited child while waiting (a zombie still owns its group).
    """
    signal_job(job_uuid, pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if reap:
            reap()
        if not job_alive(job_uuid, pgid):
            return
        time.sleep(0.1)
    signal_job(job_uuid, pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if reap:
            reap()
        if not job_alive(job_uuid, pgid):
            return
        time.sleep(0.05)


def kill_supervisor(pid: int | None, started: str | None) -> None:
    if is_same_process(pid, started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
