"""Jobs on the local backend: submission (checked in full before anything exists), state, outputs, streaming.

A submitted job is a row in `queued` state plus its work folder; the scheduler dispatches it when enough
nodes are idle and a detached supervisor (see `supervisor.py`) runs it. Everything here only reads or
writes the database and files, so any number of consoles can watch the same job, and a console that starts
later sees exactly what an earlier one saw.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from tui.backends.base import JobSubmitOptions
from tui.backends.common import wait_until_final
from tui.backends.local import db, lifecycle, names, scheduler
from tui.backends.local.clusters import require_cluster_row
from tui.backends.local.context import LocalContext
from tui.backends.local.listing import JOB_COLUMNS, job_from_row, job_from_values
from tui.backends.local.plan import LaunchPlan, PlanInput, build_plan
from tui.backends.local.storage import list_folder
from tui.backends.local.workspaces import require_experiment
from tui.core import settings
from tui.core.errors import BaiError, ConflictError, JobSpecError, NotFoundError
from tui.core.model import ExecutionState, FileEntry, Job, JobRef

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters

STREAM_POLL_SECONDS = 0.2
READ_CHUNK = 1 << 20
SECRETS_FILE = lifecycle.SECRETS_FILE
_BY_NAME = "resource_group = ? AND workspace = ? AND experiment = ? AND name = ?"


def terminate_grace_seconds() -> float:
    """Seconds between SIGTERM and SIGKILL on terminate (`BAI_TERMINATE_GRACE_SECONDS`, default 10)."""
    return settings.terminate_grace_seconds()


def run_job_preparation_setting() -> bool:
    """`BAI_RUN_JOB_PREPARATION=1`: always run jobPreparation locally, as asking at submission does."""
    return settings.run_job_preparation()


def _priority(value: object) -> int:
    """schedulingPriority as a sortable number (validate_job_spec has already refused unknown values)."""
    text = str(getattr(value, "value", value) or "normal").lower()
    return scheduler.PRIORITIES.get(text, 0)


def _subscription_id(conn) -> str:  # type: ignore[no-untyped-def]
    """A stable id for this `$BAI_HOME`, standing in for the subscription in output path segments."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'subscription_id'").fetchone()
    if row:
        return row["value"]
    with db.immediate(conn):
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('subscription_id', ?)", (str(uuid.uuid4()),)
        )
    return conn.execute("SELECT value FROM meta WHERE key = 'subscription_id'").fetchone()["value"]


class LocalJobs:
    def __init__(self, ctx: LocalContext):
        self._ctx = ctx

    # ------------------------------------------------------------------------------------------------ create

    async def create(
        self,
        ref: JobRef,
        cluster: str,
        spec: JobCreateParameters,
        options: JobSubmitOptions | None = None,
    ) -> Job:
        return await self._ctx.call(self._create, ref, cluster, spec, options or JobSubmitOptions())

    def _create(self, ref: JobRef, cluster: str, spec: JobCreateParameters, options: JobSubmitOptions) -> Job:
        from tui.core import jobspec

        names.check_resource("job", ref.name)
        spec = copy.deepcopy(spec)
        jobspec.apply_storage_account(spec, options.storage_account_name)
        errors = jobspec.validate_job_spec(spec)
        if errors:
            raise JobSpecError(errors)
        priority = _priority(spec.scheduling_priority)
        layout = self._ctx.layout
        with self._ctx.connection() as conn:
            experiment = require_experiment(conn, ref.experiment_ref)
            cluster_row = require_cluster_row(
                conn, _cluster_ref(experiment.resource_group, experiment.workspace, cluster)
            )
            subscription = _subscription_id(conn)
            accounts = {row["name"] for row in conn.execute("SELECT name FROM storage_accounts")}
        shares = {
            account: {p.name for p in layout.account_dir(account).iterdir() if p.is_dir()}
            if layout.account_dir(account).is_dir()
            else set()
            for account in accounts
        }
        job_uuid = str(uuid.uuid4())
        segment = (
            f"{subscription}/{experiment.resource_group}/workspaces/{experiment.workspace}/experiments/"
            f"{experiment.name}/jobs/{ref.name}/{job_uuid}"
        )
        run_preparation = options.run_job_preparation or run_job_preparation_setting()
        plan = self._plan(PlanInput(job_uuid, segment, spec, run_preparation), shares, cluster_row)
        secrets = {secret.name: secret.value or "" for secret in spec.secrets or []}
        job_dir = layout.job_dir(job_uuid)
        job_dir.mkdir(parents=True)
        try:
            if secrets:
                _write_private(job_dir / SECRETS_FILE, json.dumps(secrets))
            with self._ctx.connection() as conn, db.immediate(conn):
                if conn.execute(
                    "SELECT 1 FROM jobs WHERE " + _BY_NAME,
                    (experiment.resource_group, experiment.workspace, experiment.name, ref.name),
                ).fetchone():
                    raise ConflictError(
                        f"job {ref.name!r} already exists in experiment {experiment.name!r}: "
                        "choose another name, or delete the old job first"
                    )
                if (
                    conn.execute("SELECT 1 FROM clusters WHERE id = ?", (cluster_row["id"],)).fetchone()
                    is None
                ):
                    raise NotFoundError(f"cluster {cluster!r} was deleted while the job was being submitted")
                stamp = db.now_text()
                conn.execute(
                    "INSERT INTO jobs (uuid, resource_group, workspace, experiment, name, cluster_id,"
                    " cluster_name,"
                    " state, priority, node_count, toolkit, plan, segment, std_out_err_path_prefix,"
                    " stdouterr_dir, created, transition_time, warnings)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        job_uuid,
                        experiment.resource_group,
                        experiment.workspace,
                        experiment.name,
                        ref.name,
                        cluster_row["id"],
                        cluster_row["name"],
                        ExecutionState.QUEUED.value,
                        priority,
                        spec.node_count,
                        plan.toolkit,
                        json.dumps(plan.to_dict()),
                        segment,
                        spec.std_out_err_path_prefix or "",
                        plan.stdouterr_real,
                        stamp,
                        stamp,
                        json.dumps(plan.warnings),
                    ),
                )
        except BaseException:
            shutil.rmtree(job_dir, ignore_errors=True)
            raise
        scheduler.dispatch(layout)
        return self._get(ref, reconcile=False)

    def _plan(self, request: PlanInput, shares: dict[str, set[str]], cluster_row: sqlite3.Row) -> LaunchPlan:
        """The job's launch plan, checked in full (the ssh backend also checks the cluster's hosts here)."""
        return build_plan(self._ctx.layout, request, shares)

    # ----------------------------------------------------------------------------------------------- queries

    def _row(self, conn, ref: JobRef):  # type: ignore[no-untyped-def]
        require_experiment(conn, ref.experiment_ref)
        row = conn.execute(
            "SELECT * FROM jobs WHERE " + _BY_NAME,
            (ref.resource_group, ref.workspace, ref.experiment, ref.name),
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"job {ref.name!r} not found in experiment {ref.experiment!r}: list the jobs with "
                f"`bai job list -g {ref.resource_group} -w {ref.workspace} -e {ref.experiment}`"
            )
        return row

    async def get(self, ref: JobRef) -> Job:
        return await self._ctx.call(self._get, ref)

    def _get(self, ref: JobRef, reconcile: bool = True) -> Job:
        if reconcile:
            lifecycle.reconcile(self._ctx.layout)
        with self._ctx.connection() as conn:
            return job_from_row(self._row(conn, ref))

    async def list(self, resource_group: str, workspace: str, experiment: str) -> list[Job]:
        return await self._ctx.call(self._list, resource_group, workspace, experiment)

    def _list(self, resource_group: str, workspace: str, experiment: str) -> list[Job]:
        lifecycle.reconcile(self._ctx.layout)
        with self._ctx.connection() as conn:
            found = require_experiment(conn, JobRef(resource_group, workspace, experiment, "").experiment_ref)
            cursor = conn.cursor()
            cursor.row_factory = None  # plain tuples, read by position
            rows = cursor.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs"
                " WHERE resource_group = ? AND workspace = ? AND experiment = ?"
                " ORDER BY id",
                (found.resource_group, found.workspace, found.name),
            ).fetchall()
        return list(map(job_from_values, rows))

    async def wait(self, ref: JobRef, poll_interval: float = 2.0, timeout: float | None = None) -> Job:
        def still_running(job: Job, timeout: float) -> str:
            return (
                f"job {ref.name!r} is still {job.execution_state.value} after {timeout:g} s: "
                "wait again, or stop it with `bai job terminate`"
            )

        return await wait_until_final(lambda: self.get(ref), poll_interval, timeout, still_running)

    # ------------------------------------------------------------------------------------------- terminate

    async def terminate(self, ref: JobRef) -> Job:
        job_uuid = await self._ctx.call(self._request_terminate, ref)
        lifecycle.discard_secrets(self._ctx.layout, job_uuid)
        deadline = time.monotonic() + terminate_grace_seconds() + 20
        while time.monotonic() < deadline:
            job = await self.get(ref)
            if job.execution_state.is_final:
                return job
            await asyncio.sleep(0.2)
        return await self.get(ref)

    def _request_terminate(self, ref: JobRef) -> str:
        """Fail a queued job at once, or ask a running job's supervisor to stop it; returns the job's uuid."""
        with self._ctx.connection() as conn, db.immediate(conn):
            row = self._row(conn, ref)
            state = ExecutionState(row["state"])
            if state.is_final:
                return row["uuid"]
            if state is ExecutionState.QUEUED:
                lifecycle.finish(
                    conn,
                    row["id"],
                    ExecutionState.FAILED,
                    None,
                    [
                        lifecycle.error(
                            "JobTerminated", "the job was terminated by the user before it started"
                        )
                    ],
                    only_if=(ExecutionState.QUEUED.value,),
                )
                return row["uuid"]
            conn.execute(
                "UPDATE jobs SET state = ?, transition_time = ?, terminate_requested_at = COALESCE("
                "terminate_requested_at, ?) WHERE id = ? AND state IN (?, ?)",
                (
                    ExecutionState.TERMINATING.value,
                    db.now_text(),
                    db.now_text(),
                    row["id"],
                    *lifecycle.ACTIVE,
                ),
            )
            return row["uuid"]

    async def delete(self, ref: JobRef) -> None:
        await self._ctx.call(self._delete, ref)

    def _delete(self, ref: JobRef) -> None:
        with self._ctx.connection() as conn:
            row = self._row(conn, ref)
        lifecycle.delete_jobs(self._ctx, "id = ?", (row["id"],))

    # ----------------------------------------------------------------------------------------------- outputs

    def _output_folder(self, ref: JobRef, output_directory_id: str) -> Path:
        with self._ctx.connection() as conn:
            row = self._row(conn, ref)
        plan = LaunchPlan.from_dict(json.loads(row["plan"]))
        if output_directory_id.lower() == "stdouterr":
            return Path(plan.stdouterr_real)
        by_lower = {key.lower(): value for key, value in plan.output_dirs.items()}
        folder = plan.output_dirs.get(output_directory_id) or by_lower.get(output_directory_id.lower())
        if folder is None:
            known = ", ".join(["stdouterr", *plan.output_dirs])
            raise NotFoundError(
                f"job {ref.name!r} has no output directory {output_directory_id!r}: use one of {known}"
            )
        return Path(folder)

    async def list_output_files(
        self, ref: JobRef, output_directory_id: str = "stdouterr", directory: str = "."
    ) -> list[FileEntry]:
        return await self._ctx.call(self._list_output_files, ref, output_directory_id, directory)

    def _list_output_files(self, ref: JobRef, output_directory_id: str, directory: str) -> list[FileEntry]:
        parts = names.share_path_parts(directory or ".")
        folder = self._output_folder(ref, output_directory_id).joinpath(*parts)
        if folder.is_file():
            raise BaiError(f"{directory!r} is a file, not a directory: list its folder instead")
        if not folder.is_dir():
            return []
        return list_folder(folder, "/".join(parts))

    async def stream_file(
        self,
        ref: JobRef,
        name: str,
        output_directory_id: str = "stdouterr",
        offset: int = 0,
        follow: bool = True,
    ) -> AsyncIterator[bytes]:
        parts = names.share_path_parts(name)
        if not parts:
            raise BaiError("a file name is required (e.g. stdout.txt)")
        folder = await self._ctx.call(self._output_folder, ref, output_directory_id)
        path = folder.joinpath(*parts)
        position = max(0, offset)
        polls = 0
        while True:
            chunk = await asyncio.to_thread(_read_from, path, position)
            if chunk:
                position += len(chunk)
                yield chunk
                continue
            if not follow:
                break
            polls += 1
            ended = await self._ctx.call(self._has_ended, ref, polls % 25 == 0)
            chunk = await asyncio.to_thread(_read_from, path, position)
            if chunk:
                position += len(chunk)
                yield chunk
                continue
            if ended:
                break
            await asyncio.sleep(STREAM_POLL_SECONDS)
        if not path.is_file() and position == 0:
            raise NotFoundError(
                f"job {ref.name!r} has no file {name!r} in {output_directory_id}: list the files with "
                "`bai job file list`"
            )

    def _has_ended(self, ref: JobRef, reconcile: bool) -> bool:
        """True when the job is final (or gone): from then on, no byte is added to its files."""
        if reconcile:
            lifecycle.reconcile(self._ctx.layout)
        with self._ctx.connection() as conn:
            row = conn.execute(
                "SELECT state FROM jobs WHERE " + _BY_NAME,
                (ref.resource_group, ref.workspace, ref.experiment, ref.name),
            ).fetchone()
        return row is None or ExecutionState(row["state"]).is_final


def _read_from(path: Path, position: int) -> bytes:
    try:
        with open(path, "rb") as reader:
            reader.seek(position)
            return reader.read(READ_CHUNK)
    except FileNotFoundError:
        return b""


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as writer:
        writer.write(text)


def _cluster_ref(resource_group: str, workspace: str, name: str):  # type: ignore[no-untyped-def]
    from tui.core.model import ClusterRef

    return ClusterRef(resource_group, workspace, name)
