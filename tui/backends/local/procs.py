"""Processes of local jobs: is a recorded process still the same one, and stop everything a job started.

A pid alone is not an identity (pids are reused), so every recorded process is stored with its start time
(`/proc/<pid>/stat` field 22 on Linux, psutil elsewhere) and compared before any signal is sent.
Horovod puts each rank in its own session, so killing horovodrun's process group is not enough, and a
process can leave both the group and the marker behind (`env -i setsid sleep 777`). The sweep therefore
finds a job's processes four ways, any of which suffices:
- its cgroup (v2): where the machine lets us make one (`<cgroup2 mount>/bai-jobs/<uuid>`), every process the
  job starts is put in it before it runs and stays there whatever it does to its session or environment;
- the process tree the supervisor records (`processes` in the job's folder, pid and start time per line):
  the supervisor is the subreaper of the job, so an orphaned descendant comes back to it, not to init;
- `BAI_LOCAL_JOB_ID=<uuid>` in the environment, which every process inherits unless it clears it;
- the launcher's process group.
Set BAI_NO_CGROUP=1 to do without the cgroup (the other three remain).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

JOB_MARKER = "BAI_LOCAL_JOB_ID"
# How long a job stopped from outside its supervisor must show no process before it counts as stopped: a
# launcher forked by a supervisor just killed takes the marker only when it exec's (see stop_job).
SETTLE_SECONDS = 0.5
RECORD_FILE = "processes"
CGROUP_PARENT = "bai-jobs"
_PROC = Path("/proc")
_PR_SET_CHILD_SUBREAPER = 36


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


def _stat_fields(entry: Path) -> list[str]:
    """/proc/<pid>/stat after the command name: state, ppid, pgrp, session, ... (raises OSError if gone)."""
    stat = (entry / "stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()


def job_processes(job_uuid: str, pgid: int | None = None, record: Path | None = None) -> list[int]:
    """Live (non-zombie) pids of the job: in its cgroup, its recorded process tree, its process group, or
    marked with its id in their environment."""
    if not _PROC.is_dir():
        return []
    needle = f"{JOB_MARKER}={job_uuid}".encode()
    me = os.getpid()
    known = set(cgroup_pids(job_uuid)) | set(recorded_pids(record))
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fields = _stat_fields(entry)
            if fields[0] in ("Z", "X"):
                continue
            if int(entry.name) in known or (pgid and int(fields[2]) == pgid):
                found.append(int(entry.name))
                continue
            environ = (entry / "environ").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def signal_job(job_uuid: str, pgid: int | None, sig: int, record: Path | None = None) -> int:
    """Send `sig` to the job's process group and to every process of the job; returns how many."""
    sent = 0
    if pgid:
        try:
            os.killpg(pgid, sig)
            sent += 1
        except (ProcessLookupError, PermissionError):
            pass
    if sig == signal.SIGKILL:
        kill_cgroup(job_uuid)
    for pid in job_processes(job_uuid, pgid, record):
        try:
            os.kill(pid, sig)
            sent += 1
        except (ProcessLookupError, PermissionError):
            pass
    return sent


def job_alive(job_uuid: str, pgid: int | None, record: Path | None = None) -> bool:
    if not _PROC.is_dir() and pgid:
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    return bool(job_processes(job_uuid, pgid, record))


def stop_job(
    job_uuid: str,
    pgid: int | None,
    grace: float,
    reap: Callable[[], object] | None = None,
    record: Path | None = None,
    settle: float = 0.0,
) -> None:
    """SIGTERM the whole job, wait up to `grace` seconds, then SIGKILL whatever is left; then its cgroup
    (if it had one) is removed.

    `reap` lets the job's parent collect its exited child while waiting (a zombie still owns its group).
    `settle`: how long "nothing left" must hold before it is believed. A supervisor killed from outside
    may have just forked the job's launcher, which carries the job's marker only once it has exec'd; a
    process that shows up meanwhile is sent SIGTERM too, and SIGKILL with the rest after `grace`.
    """
    try:
        signal_job(job_uuid, pgid, signal.SIGTERM, record)
        deadline = time.monotonic() + grace
        quiet_since: float | None = None
        while (now := time.monotonic()) < deadline:
            if reap:
                reap()
            if job_alive(job_uuid, pgid, record):
                if quiet_since is not None:
                    signal_job(job_uuid, pgid, signal.SIGTERM, record)  # a late one: it was not told yet
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            if quiet_since is not None and now - quiet_since >= settle:
                return
            time.sleep(0.1)
        signal_job(job_uuid, pgid, signal.SIGKILL, record)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if reap:
                reap()
            if not job_alive(job_uuid, pgid, record):
                return
            time.sleep(0.05)
    finally:
        remove_cgroup(job_uuid)


# ------------------------------------------------------------------------------------------- cgroup (v2)


def cgroup_root() -> Path | None:
    """Where this machine's cgroup v2 hierarchy is mounted (None without one, or with BAI_NO_CGROUP=1)."""
    from tui.core import settings

    if settings.no_cgroup():
        return None
    try:
        mounts = (_PROC / "self" / "mounts").read_text()
    except OSError:
        return None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            return Path(fields[1].replace("\\040", " "))
    return None


def job_cgroup(job_uuid: str) -> Path | None:
    root = cgroup_root()
    return root / CGROUP_PARENT / job_uuid if root else None


def make_cgroup(job_uuid: str) -> Path | None:
    """The job's own cgroup, made now; None where the machine does not let us (not root, no cgroup v2)."""
    path = job_cgroup(job_uuid)
    if path is None:
        return None
    _remove_stale_cgroups(path.parent)
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path / "cgroup.procs", os.W_OK):
            path.rmdir()
            return None
    except OSError:
        return None
    return path


def _remove_stale_cgroups(parent: Path, older_than: float = 60.0) -> None:
    """Empty job cgroups left behind (a supervisor killed before it removed its own), a minute old or more:
    a fresh one may still be waiting for its first process."""
    try:
        children = [child for child in parent.iterdir() if child.is_dir()]
    except OSError:
        return
    now = time.time()
    for child in children:
        with contextlib.suppress(OSError, ValueError):
            if now - child.stat().st_mtime < older_than:
                continue
            events = dict(line.split(" ", 1) for line in (child / "cgroup.events").read_text().splitlines())
            if events.get("populated", "1").strip() == "0":
                child.rmdir()


def enter_cgroup(path: Path | None) -> Callable[[], None] | None:
    """A `preexec_fn` that moves the new process into `path` before it runs anything, so everything it
    starts is born there (None when there is no cgroup: nothing to do)."""
    if path is None:
        return None
    procs_file = str(path / "cgroup.procs")

    def enter() -> None:
        with contextlib.suppress(OSError), open(procs_file, "w") as writer:
            writer.write("0")

    return enter


def cgroup_pids(job_uuid: str) -> list[int]:
    path = job_cgroup(job_uuid)
    if path is None:
        return []
    try:
        return [int(line) for line in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def kill_cgroup(job_uuid: str) -> None:
    """SIGKILL everything in the job's cgroup at once (cgroup.kill, Linux 5.14+), forks in flight included."""
    path = job_cgroup(job_uuid)
    if path is not None and (path / "cgroup.kill").exists():
        with contextlib.suppress(OSError):
            (path / "cgroup.kill").write_text("1")


def remove_cgroup(job_uuid: str) -> None:
    path = job_cgroup(job_uuid)
    if path is not None:
        with contextlib.suppress(OSError):
            path.rmdir()  # only once empty; a later sweep tries again


# -------------------------------------------------------------------------------- the recorded process tree


def become_subreaper() -> bool:
    """Make orphaned descendants of this process its children rather than init's (Linux prctl)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(root: int, skip_reaping: int | None = None) -> list[tuple[int, str]]:
    """(pid, start time) of every live process under `root`; exited children of `root` other than
    `skip_reaping` are reaped on the way (a subreaper adopts them and must collect them)."""
    if not _PROC.is_dir():
        return []
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry)
        except (OSError, ValueError):
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if fields[0] in ("Z", "X"):
            if ppid == root == os.getpid() and pid != skip_reaping:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
            continue
        children.setdefault(ppid, []).append((pid, fields[19]))
    found: list[tuple[int, str]] = []
    queue = [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child[0])
    return found


def record_tree(record: Path, root: int, skip_reaping: int | None = None) -> None:
    """Add `root`'s live descendants to the job's record; a recorded process stays in it while it lives,
    even once it left the tree (its parent died and it was adopted elsewhere)."""
    lines = {f"{pid} {started}" for pid, started in descendants(root, skip_reaping)}
    with contextlib.suppress(OSError):
        before = set(record.read_text().splitlines()) if record.exists() else set()
        still = set(recorded_pids(record))
        lines |= {line for line in before if int(line.partition(" ")[0]) in still}
        if lines != before:
            record.write_text("".join(f"{line}\n" for line in sorted(lines)))


def recorded_pids(record: Path | None) -> list[int]:
    """The recorded processes that are still the very processes recorded (pid and start time)."""
    if record is None:
        return []
    try:
        lines = record.read_text().splitlines()
    except OSError:
        return []
    alive = []
    for line in lines:
        pid, _, started = line.partition(" ")
        if pid.isdigit() and start_time(int(pid)) == started:
            alive.append(int(pid))
    return alive


def kill_supervisor(pid: int | None, started: str | None) -> None:
    if is_same_process(pid, started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
