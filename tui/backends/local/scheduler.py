"""The scheduler: gives idle nodes to queued jobs and starts one detached supervisor per dispatched job.

Any process may call `dispatch` at any time (a `bai job create`, a resize, the supervisor of a job that just
ended, a console noticing a dead supervisor): the claim happens in one `BEGIN IMMEDIATE` transaction, so two
callers can never hand the same node to two jobs, and a job is dispatched exactly once.

Order: scheduling priority (high, normal, low), then submission order. A job that needs more nodes than the
cluster can ever offer right now (its usable nodes) is passed over rather than blocking everything behind it;
otherwise the first job that does not fit waits, and so does everything behind it (no starvation of big jobs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tui.backends.local import db, nodes
from tui.backends.local.home import Layout
from tui.backends.local.procs import JOB_MARKER
from tui.core.model import ExecutionState, NodeState

PRIORITIES = db.PRIORITIES


def dispatch(layout: Layout) -> list[str]:
    """Claim nodes for every queued job that fits, then start their supervisors; returns their uuids."""
    with db.opened(layout.database) as conn:
        with db.immediate(conn):
            started = _claim_all(conn)
        for job_uuid in started:
            try:
                pid = spawn_supervisor(layout, job_uuid)
            except OSError as error:
                _fail_dispatch(conn, job_uuid, f"could not start the job supervisor: {error}")
                (layout.job_dir(job_uuid) / "secrets.json").unlink(missing_ok=True)
                continue
            with db.immediate(conn):
                # The supervisor records itself too; this covers the moment before it does.
                conn.execute(
                    "UPDATE jobs SET supervisor_pid = COALESCE(supervisor_pid, ?) WHERE uuid = ?",
                    (pid, job_uuid),
                )
    return started


def _claim_all(conn) -> list[str]:  # type: ignore[no-untyped-def]
    started: list[str] = []
    clusters = [
        row["cluster_id"]
        for row in conn.execute(
            "SELECT DISTINCT cluster_id FROM jobs WHERE state = ? AND cluster_id IS NOT NULL",
            (ExecutionState.QUEUED.value,),
        )
    ]
    for cluster_id in clusters:
        usable = conn.execute(
            "SELECT COUNT(*) FROM nodes WHERE cluster_id = ? AND state NOT IN (?, ?)",
            (cluster_id, NodeState.LEAVING.value, NodeState.UNUSABLE.value),
        ).fetchone()[0]
        queued = conn.execute(
            "SELECT id, uuid, node_count FROM jobs WHERE state = ? AND cluster_id = ? "
            "ORDER BY priority DESC, id ASC",
            (ExecutionState.QUEUED.value, cluster_id),
        ).fetchall()
        for job in queued:
            if job["node_count"] > usable:
                continue
            claimed = nodes.claim(conn, cluster_id, job["id"], job["node_count"])
            if claimed is None:
                break
            stamp = db.now_text()
            conn.execute(
                "UPDATE jobs SET state = ?, transition_time = ?, dispatched_at = ? WHERE id = ?",
                (ExecutionState.RUNNING.value, stamp, stamp, job["id"]),
            )
            started.append(job["uuid"])
    return started


def pending(conn) -> bool:  # type: ignore[no-untyped-def]
    """Read-only: would `dispatch` start a job now? (A submitter killed between its insert and its dispatch,
    or a supervisor killed after recording its end, leaves such a job; the next reader starts it.)"""
    for cluster in conn.execute(
        "SELECT DISTINCT cluster_id FROM jobs WHERE state = ? AND cluster_id IS NOT NULL",
        (ExecutionState.QUEUED.value,),
    ).fetchall():
        cluster_id = cluster["cluster_id"]
        states = dict(
            conn.execute(
                "SELECT state, COUNT(*) FROM nodes WHERE cluster_id = ? GROUP BY state", (cluster_id,)
            ).fetchall()
        )
        idle = states.get(NodeState.IDLE.value, 0)
        usable = sum(
            n
            for state, n in states.items()
            if state not in (NodeState.LEAVING.value, NodeState.UNUSABLE.value)
        )
        for job in conn.execute(
            "SELECT node_count FROM jobs WHERE state = ? AND cluster_id = ? ORDER BY priority DESC, id ASC",
            (ExecutionState.QUEUED.value, cluster_id),
        ):
            if job["node_count"] > usable:
                continue
            if job["node_count"] <= idle:
                return True
            break
    return False


def _fail_dispatch(conn, job_uuid: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with db.immediate(conn):
        row = conn.execute("SELECT id FROM jobs WHERE uuid = ?", (job_uuid,)).fetchone()
        if row is None:
            return
        errors = [{"code": "SupervisorStartFailed", "message": message, "details": {}}]
        stamp = db.now_text()
        conn.execute(
            "UPDATE jobs SET state = ?, transition_time = ?, end_time = ?, errors = ? WHERE id = ?",
            (ExecutionState.FAILED.value, stamp, stamp, json.dumps(errors), row["id"]),
        )
        nodes.release(conn, row["id"])


def spawn_supervisor(layout: Layout, job_uuid: str) -> int:
    """Start `python -m tui.backends.local.supervisor` fully detached; returns the supervisor's pid.

    The module forks once more and prints the grandchild's pid, so the supervisor is nobody's child here (no
    zombie in a long-lived console) and lives in its own session (a Ctrl-C in the console does not reach it).
    """
    job_dir = layout.job_dir(job_uuid)
    job_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(layout.supervisor_env())
    # A job that submits jobs must not make them look like its own processes (terminate would kill them).
    env.pop(JOB_MARKER, None)
    with open(job_dir / "supervisor.log", "ab") as log:
        output = subprocess.run(
            [sys.executable, "-m", layout.supervisor_module, "--detach", job_uuid],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=job_dir,
            check=False,
            timeout=60,
        )
    text = output.stdout.decode().strip()
    if output.returncode != 0 or not text.isdigit():
        raise OSError(f"supervisor exited with code {output.returncode}; see {job_dir / 'supervisor.log'}")
    return int(text)
