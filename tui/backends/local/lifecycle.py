"""How local jobs end: normally (the supervisor records it), by deletion, or because their supervisor died.

`finish` is the one place a job becomes final: it records the exit, frees the nodes (a leaving node goes
away; an abnormal end leaves them unusable) and moves the cluster back to steady when nothing is leaving.
`reconcile` is run by every reader (console, `bai` commands): a running job whose supervisor is gone (pid and
start time no longer match) is failed and its processes stopped, so a killed supervisor is noticed by the
next process that looks, and the state never claims a job runs when nothing runs it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path, PurePosixPath

from tui.backends.local import db, nodes, procs, scheduler, secrets
from tui.backends.local.context import LocalContext
from tui.backends.local.home import Layout
from tui.core.model import ExecutionState

ACTIVE = (ExecutionState.RUNNING.value, ExecutionState.TERMINATING.value)
SECRETS_FILE = "secrets.json"
# A dispatched job whose supervisor never recorded itself within this long is considered lost.
SUPERVISOR_START_GRACE = timedelta(seconds=60)


def error(code: str, message: str, **details: str) -> dict[str, object]:
    return {"code": code, "message": message, "details": details}


def finish(
    conn: sqlite3.Connection,
    job_id: int,
    state: ExecutionState,
    exit_code: int | None,
    errors: list[dict[str, object]],
    unusable: bool = False,
    only_if: tuple[str, ...] = ACTIVE,
) -> bool:
    """Make the job final (inside the caller's transaction); False when it was not in `only_if` any more."""
    stamp = db.now_text()
    placeholders = ",".join("?" for _ in only_if)
    changed = conn.execute(
        f"UPDATE jobs SET state = ?, transition_time = ?, end_time = ?, exit_code = ?, errors = ? "
        f"WHERE id = ? AND state IN ({placeholders})",
        (state.value, stamp, stamp, exit_code, json.dumps(errors), job_id, *only_if),
    ).rowcount
    if changed:
        nodes.release(conn, job_id, unusable=unusable)
    return bool(changed)


def discard_secrets(layout: Layout, job_uuid: str) -> None:
    """Secret values live only while the job does: the submitted file (until the command starts) and the
    ranks' 0600 env file (until the job ends) both go when it ends."""
    (layout.job_dir(job_uuid) / SECRETS_FILE).unlink(missing_ok=True)
    secrets.remove(layout.job_dir(job_uuid) / secrets.ENV_FILE)


def process_record(layout: Layout, job_uuid: str) -> Path:
    """The job's recorded process tree (see tui.backends.local.procs), for sweeps by other processes."""
    return layout.job_dir(job_uuid) / procs.RECORD_FILE


def reconcile(layout: Layout) -> None:
    """Fail active jobs whose supervisor is gone; then let the scheduler use whatever was freed."""
    with db.opened(layout.database) as conn:
        if getattr(conn, "read_only", False):
            return  # a read-only state is shown as it is: nothing here may change it
        rows = conn.execute(
            f"SELECT * FROM jobs WHERE state IN ({','.join('?' for _ in ACTIVE)})", ACTIVE
        ).fetchall()
        lost = [row for row in rows if _supervisor_lost(row)]
        if not lost:
            if scheduler.pending(conn):
                scheduler.dispatch(layout)
            return
        for row in lost:
            layout.stop_job(
                row["uuid"], row["job_pgid"], grace=2.0, record=process_record(layout, row["uuid"])
            )
            with db.immediate(conn):
                fresh = conn.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
                if fresh is None or not _supervisor_lost(fresh):
                    continue
                node_ids = nodes.job_node_ids(conn, row["id"])
                message = (
                    f"the local job supervisor (pid {fresh['supervisor_pid']}) stopped unexpectedly; "
                    "the job's processes were stopped"
                )
                if node_ids:
                    message += (
                        f" and its nodes ({', '.join(node_ids)}) marked unusable: resize the cluster "
                        "to replace them"
                    )
                finish(conn, row["id"], ExecutionState.FAILED, None, [error("SupervisorLost", message)], True)
            discard_secrets(layout, row["uuid"])
    scheduler.dispatch(layout)


def _supervisor_lost(row: sqlite3.Row) -> bool:
    if row["state"] not in ACTIVE:
        return False
    if row["supervisor_pid"] is None:
        dispatched = db.parse_time(row["dispatched_at"])
        return dispatched is not None and db.now() - dispatched > SUPERVISOR_START_GRACE
    if row["supervisor_started"] is None:
        # Recorded by the dispatcher only: until the supervisor records itself, only "alive" can be checked.
        return procs.start_time(row["supervisor_pid"]) is None and _older_than_grace(row)
    return not procs.is_same_process(row["supervisor_pid"], row["supervisor_started"])


def _older_than_grace(row: sqlite3.Row) -> bool:
    dispatched = db.parse_time(row["dispatched_at"])
    return dispatched is None or db.now() - dispatched > timedelta(seconds=5)


def delete_jobs(ctx: LocalContext, where: str, params: tuple[object, ...]) -> int:
    """Delete the matching jobs: rows first (so no supervisor can record anything), then their processes and
    work folders; their nodes go back to the clusters and queued jobs may start. Outputs on shares stay, as
    in Batch AI. Returns how many jobs were deleted."""
    with ctx.connection() as conn, db.immediate(conn):
        rows = conn.execute(f"SELECT * FROM jobs WHERE {where}", params).fetchall()
        for row in rows:
            nodes.release(conn, row["id"])
            conn.execute("DELETE FROM jobs WHERE id = ?", (row["id"],))
    for row in rows:
        if row["state"] in ACTIVE:
            procs.kill_supervisor(row["supervisor_pid"], row["supervisor_started"])
            ctx.layout.stop_job(
                row["uuid"], row["job_pgid"], grace=2.0, record=process_record(ctx.layout, row["uuid"])
            )
        shutil.rmtree(ctx.layout.job_dir(row["uuid"]), ignore_errors=True)
        _remove_node_outputs(ctx.layout, row)
    if rows:
        scheduler.dispatch(ctx.layout)
    return len(rows)


def _remove_node_outputs(layout: Layout, row: sqlite3.Row) -> None:
    """Outputs the job wrote under $AZ_BATCHAI_JOB_TEMP_DIR (its stdouterr or output directories there) were
    on the node's own disk in Batch AI, gone with the node; here they are in $BAI_HOME/jobs, so they go with
    the job: its `<prefix>/<segment>` folder, then the folders the segment made that are left empty."""
    plan = json.loads(row["plan"])
    folders = [row["stdouterr_dir"], *plan.get("output_dirs", {}).values()]
    root = layout.jobs.resolve()
    segment = PurePosixPath(row["segment"])
    for folder in folders:
        path = Path(folder).resolve()
        if root not in path.parents:
            continue  # on a share or a cluster mount: kept, as in Batch AI
        text = path.as_posix()
        marker = f"/{segment.as_posix()}/"
        if marker not in f"{text}/":
            continue
        top = Path(text[: f"{text}/".index(marker)])  # <prefix>
        job_folder = top / segment
        shutil.rmtree(job_folder, ignore_errors=True)
        parent = job_folder.parent
        while parent != top and root in parent.parents:
            try:
                parent.rmdir()  # only if empty: another job of the same experiment may still be there
            except OSError:
                break
            parent = parent.parent
