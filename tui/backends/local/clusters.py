"""Clusters: N local worker slots ("nodes") whose states and allocation state are what really happens.

Creating or growing a cluster adds idle nodes at once (there is nothing to allocate); shrinking removes idle
nodes first and marks busy ones leaving, so the cluster shows `resizing` until their jobs end, like the
service. Deleting a cluster stops its jobs: they fail with a ClusterDeleted error.
"""

from __future__ import annotations

from tui.backends.local import db, lifecycle, names, nodes, procs, scheduler
from tui.backends.local.context import LocalContext
from tui.backends.local.workspaces import require_workspace
from tui.core.errors import BaiError, ConflictError, Hint, NotFoundError
from tui.core.model import AllocationState, Cluster, ClusterRef, ExecutionState

VM_PRIORITIES = ("dedicated", "lowpriority")
# One machine cannot pretend to be a data centre; more slots than this is surely a typo.
MAX_NODES = 64


def require_cluster_row(conn, ref: ClusterRef):  # type: ignore[no-untyped-def]
    require_workspace(conn, ref.resource_group, ref.workspace)
    row = conn.execute(
        "SELECT * FROM clusters WHERE resource_group = ? AND workspace = ? AND name = ?",
        (ref.resource_group, ref.workspace, ref.name),
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"cluster {ref.name!r} not found in workspace {ref.workspace!r}",
            hint=Hint(
                "create",
                "cluster",
                {"resource_group": ref.resource_group, "workspace": ref.workspace, "name": ref.name},
            ),
        )
    return row


def cluster_from_row(conn, row) -> Cluster:  # type: ignore[no-untyped-def]
    state_counts = nodes.counts(conn, row["id"])
    return Cluster(
        name=row["name"],
        resource_group=row["resource_group"],
        workspace=row["workspace"],
        vm_size=row["vm_size"],
        vm_priority=row["vm_priority"],
        allocation_state=AllocationState(row["allocation_state"]),
        target_node_count=row["target_node_count"],
        current_node_count=state_counts.total,
        node_state_counts=state_counts,
        creation_time=db.parse_time(row["created"]),
        allocation_state_transition_time=db.parse_time(row["transition_time"]),
    )


def _check_target(target: int) -> int:
    if not isinstance(target, int) or isinstance(target, bool) or not 0 <= target <= MAX_NODES:
        raise BaiError(f"is out of range: give 0 to {MAX_NODES} nodes", argument="target", value=target)
    return target


class LocalClusters:
    def __init__(self, ctx: LocalContext):
        self._ctx = ctx

    async def create(
        self,
        ref: ClusterRef,
        vm_size: str,
        target_node_count: int,
        vm_priority: str = "dedicated",
        admin_user_name: str | None = None,
        ssh_public_key: str | None = None,
    ) -> Cluster:
        return await self._ctx.call(self._create, ref, vm_size, target_node_count, vm_priority)

    def _create(self, ref: ClusterRef, vm_size: str, target: int, vm_priority: str) -> Cluster:
        names.check_resource("cluster", ref.name)
        _check_target(target)
        vm_priority = (vm_priority or "dedicated").lower()
        if vm_priority not in VM_PRIORITIES:
            raise BaiError(
                "is not valid: use dedicated or lowpriority", argument="vm_priority", value=vm_priority
            )
        if not (vm_size or "").strip():
            raise BaiError(
                "is required (e.g. Standard_NC6); locally it is recorded, not enforced", argument="vm_size"
            )
        with self._ctx.connection() as conn, db.immediate(conn):
            workspace = require_workspace(conn, ref.resource_group, ref.workspace)
            exists = conn.execute(
                "SELECT 1 FROM clusters WHERE resource_group = ? AND workspace = ? AND name = ?",
                (workspace.resource_group, workspace.name, ref.name),
            ).fetchone()
            if exists:
                raise ConflictError(
                    f"cluster {ref.name!r} already exists in workspace {workspace.name!r}: "
                    "use `bai cluster resize` to change its size, or choose another name"
                )
            stamp = db.now_text()
            cluster_id = conn.execute(
                "INSERT INTO clusters (resource_group, workspace, name, vm_size, vm_priority, "
                "target_node_count, allocation_state, transition_time, created) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    workspace.resource_group,
                    workspace.name,
                    ref.name,
                    vm_size.strip(),
                    vm_priority,
                    target,
                    AllocationState.STEADY.value,
                    stamp,
                    stamp,
                ),
            ).lastrowid
            nodes.add_nodes(conn, cluster_id, target)
            row = conn.execute("SELECT * FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
            return cluster_from_row(conn, row)

    async def get(self, ref: ClusterRef) -> Cluster:
        return await self._ctx.call(self._get, ref)

    def _get(self, ref: ClusterRef) -> Cluster:
        lifecycle.reconcile(self._ctx.layout)
        with self._ctx.connection() as conn:
            return cluster_from_row(conn, require_cluster_row(conn, ref))

    async def list(self, resource_group: str, workspace: str) -> list[Cluster]:
        return await self._ctx.call(self._list, resource_group, workspace)

    def _list(self, resource_group: str, workspace: str) -> list[Cluster]:
        lifecycle.reconcile(self._ctx.layout)
        with self._ctx.connection() as conn:
            require_workspace(conn, resource_group, workspace)
            rows = conn.execute(
                "SELECT * FROM clusters WHERE resource_group = ? AND workspace = ? ORDER BY name",
                (resource_group, workspace),
            ).fetchall()
            return [cluster_from_row(conn, row) for row in rows]

    async def resize(self, ref: ClusterRef, target_node_count: int) -> Cluster:
        return await self._ctx.call(self._resize, ref, target_node_count)

    def _resize(self, ref: ClusterRef, target: int) -> Cluster:
        _check_target(target)
        with self._ctx.connection() as conn, db.immediate(conn):
            row = require_cluster_row(conn, ref)
            nodes.resize(conn, row["id"], target)
        scheduler.dispatch(self._ctx.layout)
        return self._get(ref)

    async def delete(self, ref: ClusterRef) -> None:
        await self._ctx.call(self._delete, ref)

    def _delete(self, ref: ClusterRef) -> None:
        with self._ctx.connection() as conn:
            with db.immediate(conn):
                row = require_cluster_row(conn, ref)
                jobs = conn.execute(
                    "SELECT * FROM jobs WHERE cluster_id = ? AND state IN (?, ?, ?)",
                    (row["id"], ExecutionState.QUEUED.value, *lifecycle.ACTIVE),
                ).fetchall()
                failure = lifecycle.error(
                    "ClusterDeleted", f"cluster {ref.name!r} was deleted while the job was queued or running"
                )
                for job in jobs:
                    lifecycle.finish(
                        conn,
                        job["id"],
                        ExecutionState.FAILED,
                        None,
                        [failure],
                        only_if=(ExecutionState.QUEUED.value, *lifecycle.ACTIVE),
                    )
                conn.execute("UPDATE jobs SET cluster_id = NULL WHERE cluster_id = ?", (row["id"],))
                conn.execute("DELETE FROM nodes WHERE cluster_id = ?", (row["id"],))
                conn.execute("DELETE FROM clusters WHERE id = ?", (row["id"],))
            for job in jobs:
                lifecycle.discard_secrets(self._ctx.layout, job["uuid"])
                if job["state"] in lifecycle.ACTIVE:
                    procs.kill_supervisor(job["supervisor_pid"], job["supervisor_started"])
                    record = lifecycle.process_record(self._ctx.layout, job["uuid"])
                    self._ctx.layout.stop_job(job["uuid"], job["job_pgid"], grace=2.0, record=record)
