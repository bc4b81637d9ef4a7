"""Clusters of SSH hosts: each host is one node, its state what the probes and the jobs say it is.

A cluster is the hosts given at creation, in order; `--target N` (default: all) is how many of them are in
the cluster now, and a resize adds or removes hosts in that order (a busy host leaves when its job ends).
Node states: idle (reachable and free), preparing (jobPreparation runs there), running (a worker runs
there), leaving (removed while busy), unusable (unreachable or failing the checks). Hosts are probed when a
cluster is read and the last probe is older than a few seconds, so a host that went away shows unusable and
one that came back is idle again at the next look.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.backends.local import db, lifecycle, names, nodes, scheduler
from tui.backends.local.clusters import VM_PRIORITIES, LocalClusters, cluster_from_row, require_cluster_row
from tui.backends.local.context import LocalContext
from tui.backends.local.workspaces import require_workspace
from tui.backends.ssh import remote
from tui.backends.ssh.hosts import describe_hosts
from tui.backends.ssh.layout import SshLayout
from tui.core.errors import BaiError, ConflictError
from tui.core.model import Cluster, ClusterRef, NodeState

# A cluster read more than this long after its last probe probes its hosts again.
PROBE_MAX_AGE_SECONDS = 3.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS ssh_clusters (
    cluster_id INTEGER PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    access TEXT NOT NULL,
    probed TEXT
);
CREATE TABLE IF NOT EXISTS ssh_hosts (
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    slots INTEGER NOT NULL,
    node_id TEXT,
    problem TEXT,
    gpus TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (cluster_id, name)
);
"""


def ensure_schema(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


@dataclass
class SshCluster(Cluster):
    """A cluster with its hosts: `{"name", "slots", "state", "gpus"}` each, in the order given."""

    hosts: list[dict[str, Any]] = field(default_factory=list)


def access_of(conn: sqlite3.Connection, cluster_id: int) -> remote.Access:
    row = conn.execute("SELECT access FROM ssh_clusters WHERE cluster_id = ?", (cluster_id,)).fetchone()
    if row is None:
        raise BaiError("this cluster has no SSH hosts recorded: delete it and create it again with --hosts")
    return remote.Access.from_json(row["access"])


def host_rows(conn: sqlite3.Connection, cluster_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT h.name, h.position, h.slots, h.problem, h.gpus, n.id AS node_id, n.state AS state,"
        " n.job_id AS job_id FROM ssh_hosts h "
        "LEFT JOIN nodes n ON n.id = h.node_id WHERE h.cluster_id = ? ORDER BY h.position",
        (cluster_id,),
    ).fetchall()


def ssh_cluster_from_row(conn: sqlite3.Connection, row: sqlite3.Row) -> SshCluster:
    base = cluster_from_row(conn, row)
    rows = [host for host in host_rows(conn, row["id"]) if host["node_id"] is not None]
    hosts = [
        {
            "name": host["name"],
            "slots": host["slots"],
            "state": host["state"],
            "gpus": json.loads(host["gpus"]),
        }
        for host in rows
    ]
    cluster = SshCluster(**{key: getattr(base, key) for key in base.__dataclass_fields__}, hosts=hosts)
    # Why each unusable host is unusable: for the console, not a key of `cluster show` (same keys as the
    # other backends, plus hosts).
    cluster.host_problems = {  # type: ignore[attr-defined]
        host["name"]: host["problem"]
        for host in rows
        if host["problem"] and host["state"] == NodeState.UNUSABLE.value
    }
    return cluster


def _node_id(conn: sqlite3.Connection, host: str, cluster_id: int) -> str:
    """The host's name, unless another cluster's node already has it (node ids are global)."""
    taken = conn.execute("SELECT 1 FROM nodes WHERE id = ?", (host,)).fetchone()
    return host if taken is None else f"{host}~{cluster_id}"


def add_host_node(conn: sqlite3.Connection, cluster_id: int, host: sqlite3.Row, usable: bool) -> None:
    node_id = _node_id(conn, host["name"], cluster_id)
    state = NodeState.IDLE if usable else NodeState.UNUSABLE
    conn.execute(
        "INSERT INTO nodes (id, cluster_id, seq, state) VALUES (?, ?, ?, ?)",
        (node_id, cluster_id, host["position"], state.value),
    )
    conn.execute(
        "UPDATE ssh_hosts SET node_id = ? WHERE cluster_id = ? AND name = ?",
        (node_id, cluster_id, host["name"]),
    )


def record_probes(conn: sqlite3.Connection, cluster_id: int, probes: list[remote.Probe]) -> None:
    """Store what the probes saw; free hosts follow it (idle <-> unusable). In the caller's transaction."""
    for probe in probes:
        problem = "; ".join(probe.problems) or None
        conn.execute(
            "UPDATE ssh_hosts SET problem = ?, gpus = ? WHERE cluster_id = ? AND name = ?",
            (problem, json.dumps(probe.gpus), cluster_id, probe.host),
        )
        row = conn.execute(
            "SELECT node_id FROM ssh_hosts WHERE cluster_id = ? AND name = ?", (cluster_id, probe.host)
        ).fetchone()
        if row is None or row["node_id"] is None:
            continue
        if probe.ok:
            conn.execute(
                "UPDATE nodes SET state = ? WHERE id = ? AND state = ? AND job_id IS NULL",
                (NodeState.IDLE.value, row["node_id"], NodeState.UNUSABLE.value),
            )
        else:
            conn.execute(
                "UPDATE nodes SET state = ? WHERE id = ? AND state = ?",
                (NodeState.UNUSABLE.value, row["node_id"], NodeState.IDLE.value),
            )
    conn.execute("UPDATE ssh_clusters SET probed = ? WHERE cluster_id = ?", (db.now_text(), cluster_id))


def mark_unusable(conn: sqlite3.Connection, cluster_id: int, host: str, problem: str) -> None:
    """A host lost during a job: unusable until a probe finds it again (inside the caller's transaction)."""
    conn.execute(
        "UPDATE ssh_hosts SET problem = ? WHERE cluster_id = ? AND name = ?", (problem, cluster_id, host)
    )
    conn.execute(
        "UPDATE nodes SET state = ? WHERE id = "
        "(SELECT node_id FROM ssh_hosts WHERE cluster_id = ? AND name = ?)"
        " AND state IN (?, ?)",
        (NodeState.UNUSABLE.value, cluster_id, host, NodeState.IDLE.value, NodeState.UNUSABLE.value),
    )


def probe_cluster(layout: SshLayout, conn: sqlite3.Connection, cluster_id: int, force: bool = False) -> None:
    """Probe the cluster's hosts when the last probe is older than PROBE_MAX_AGE_SECONDS (or `force`)."""
    row = conn.execute("SELECT * FROM ssh_clusters WHERE cluster_id = ?", (cluster_id,)).fetchone()
    if row is None:
        return
    probed = db.parse_time(row["probed"])
    if not force and probed is not None and (db.now() - probed).total_seconds() < PROBE_MAX_AGE_SECONDS:
        return
    access = remote.Access.from_json(row["access"])
    in_cluster = [host["name"] for host in host_rows(conn, cluster_id) if host["node_id"] is not None]
    probes = remote.probe_hosts(layout, access, in_cluster)
    with db.immediate(conn):
        record_probes(conn, cluster_id, probes)


class SshClusters(LocalClusters):
    def __init__(self, ctx: LocalContext):
        super().__init__(ctx)
        self._layout: SshLayout = ctx.layout  # type: ignore[assignment]

    async def create(
        self,
        ref: ClusterRef,
        vm_size: str | None = None,
        target_node_count: int | None = None,
        vm_priority: str | None = "dedicated",
        admin_user_name: str | None = None,
        ssh_public_key: str | None = None,
        *,
        hosts: str | None = None,
        hostfile: str | None = None,
        ssh_key: str | None = None,
        ssh_port: int | None = None,
        network_interface: str | None = None,
        python: str | None = None,
    ) -> Cluster:
        """Create a cluster of the given hosts once every host passes its checks (nothing exists otherwise).

        `admin_user_name` is the SSH user (default: yours), `ssh_key` the private key reaching the hosts
        (horovodrun's -i); `ssh_public_key` is not used (the hosts already accept a key of yours)."""
        return await self._ctx.call(
            self._create_hosts,
            ref,
            vm_size,
            target_node_count,
            vm_priority,
            admin_user_name,
            hosts,
            hostfile,
            ssh_key,
            ssh_port,
            network_interface,
            python,
        )

    def _create_hosts(
        self,
        ref: ClusterRef,
        vm_size: str | None,
        target: int | None,
        vm_priority: str | None,
        user: str | None,
        hosts_text: str | None,
        hostfile: str | None,
        ssh_key: str | None,
        ssh_port: int | None,
        interface: str | None,
        python: str | None,
    ) -> Cluster:
        names.check_resource("cluster", ref.name)
        hosts = describe_hosts(hosts_text, hostfile)
        if target is None:
            target = len(hosts)
        if not 0 <= target <= len(hosts):
            raise BaiError(
                f"is out of range: the cluster has {len(hosts)} host(s); give 0 to {len(hosts)}",
                argument="target",
                value=target,
            )
        priority = (vm_priority or "dedicated").lower()
        if priority not in VM_PRIORITIES:
            raise BaiError(
                "is not valid: use dedicated or lowpriority", argument="vm_priority", value=priority
            )
        if ssh_port is not None and not 1 <= ssh_port <= 65535:
            raise BaiError("is not valid: give a port from 1 to 65535", argument="ssh_port", value=ssh_port)
        key = None
        if ssh_key:
            key_path = Path(ssh_key).expanduser().resolve()
            if not key_path.is_file():
                raise BaiError(
                    "is not a file: give the private key that reaches the hosts",
                    argument="ssh_key",
                    value=ssh_key,
                )
            key = str(key_path)
        access = remote.Access(
            config=str(self._layout.ssh_config),
            known_hosts=str(self._layout.known_hosts),
            user=(user or "").strip() or None,
            port=ssh_port,
            key=key,
            python=python or sys.executable,
            interface=(interface or "").strip() or None,
            hosts=hosts,
        )
        with self._ctx.connection() as conn:
            workspace = require_workspace(conn, ref.resource_group, ref.workspace)
            self._refuse_existing(conn, workspace.resource_group, workspace.name, ref.name)
        probes = remote.probe_hosts(self._layout, access, [host.name for host in hosts])
        problems = [problem for probe in probes for problem in probe.problems]
        if problems:
            raise remote.host_check_error(problems, f"cluster {ref.name} not created")
        with self._ctx.connection() as conn, db.immediate(conn):
            self._refuse_existing(conn, workspace.resource_group, workspace.name, ref.name)
            stamp = db.now_text()
            cluster_id = conn.execute(
                "INSERT INTO clusters (resource_group, workspace, name, vm_size, vm_priority, "
                "target_node_count, allocation_state, transition_time, created, next_node_seq)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    workspace.resource_group,
                    workspace.name,
                    ref.name,
                    (vm_size or "").strip() or "ssh",
                    priority,
                    target,
                    "steady",
                    stamp,
                    stamp,
                    len(hosts),
                ),
            ).lastrowid
            assert cluster_id is not None
            conn.execute(
                "INSERT INTO ssh_clusters (cluster_id, access) VALUES (?, ?)", (cluster_id, access.to_json())
            )
            for position, host in enumerate(hosts):
                conn.execute(
                    "INSERT INTO ssh_hosts (cluster_id, name, position, slots) VALUES (?, ?, ?, ?)",
                    (cluster_id, host.name, position, host.slots),
                )
            record_probes(conn, cluster_id, probes)
            for host in host_rows(conn, cluster_id)[:target]:
                add_host_node(conn, cluster_id, host, usable=True)
            row = conn.execute("SELECT * FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
            return ssh_cluster_from_row(conn, row)

    @staticmethod
    def _refuse_existing(conn: sqlite3.Connection, resource_group: str, workspace: str, name: str) -> None:
        exists = conn.execute(
            "SELECT 1 FROM clusters WHERE resource_group = ? AND workspace = ? AND name = ?",
            (resource_group, workspace, name),
        ).fetchone()
        if exists:
            raise ConflictError(
                f"cluster {name!r} already exists in workspace {workspace!r}: "
                "use `bai cluster resize` to change its size, or choose another name"
            )

    def _get(self, ref: ClusterRef) -> Cluster:
        lifecycle.reconcile(self._layout)
        with self._ctx.connection() as conn:
            row = require_cluster_row(conn, ref)
            probe_cluster(self._layout, conn, row["id"])
            return ssh_cluster_from_row(conn, row)

    def _list(self, resource_group: str, workspace: str) -> list[Cluster]:
        lifecycle.reconcile(self._layout)
        with self._ctx.connection() as conn:
            require_workspace(conn, resource_group, workspace)
            rows = conn.execute(
                "SELECT * FROM clusters WHERE resource_group = ? AND workspace = ? ORDER BY name",
                (resource_group, workspace),
            ).fetchall()
            for row in rows:
                probe_cluster(self._layout, conn, row["id"])
            return [ssh_cluster_from_row(conn, row) for row in rows]

    def _resize(self, ref: ClusterRef, target: int) -> Cluster:
        with self._ctx.connection() as conn:
            row = require_cluster_row(conn, ref)
            listed = host_rows(conn, row["id"])
            if not isinstance(target, int) or not 0 <= target <= len(listed):
                raise BaiError(
                    f"is out of range: cluster {ref.name!r} has {len(listed)} host(s); "
                    f"give 0 to {len(listed)}",
                    argument="target",
                    value=target,
                )
            with db.immediate(conn):
                self._resize_hosts(conn, row["id"], target)
            # Hosts that joined are probed now, so they show idle or unusable at once.
            probe_cluster(self._layout, conn, row["id"], force=True)
        scheduler.dispatch(self._layout)
        return self._get(ref)

    @staticmethod
    def _resize_hosts(conn: sqlite3.Connection, cluster_id: int, target: int) -> None:
        """The first `target` hosts (in the order given) are in the cluster; the others leave: at once when
        free, when their job ends when busy."""
        for host in host_rows(conn, cluster_id):
            wanted = host["position"] < target
            if wanted and host["node_id"] is None:
                add_host_node(conn, cluster_id, host, usable=True)
            elif wanted and host["state"] == NodeState.LEAVING.value:
                conn.execute(
                    "UPDATE nodes SET state = CASE WHEN "
                    "(SELECT start_time FROM jobs WHERE jobs.id = nodes.job_id)"
                    " IS NULL THEN ? ELSE ? END WHERE id = ?",
                    (NodeState.PREPARING.value, NodeState.RUNNING.value, host["node_id"]),
                )
            elif not wanted and host["node_id"] is not None:
                if host["job_id"] is None:
                    conn.execute("DELETE FROM nodes WHERE id = ?", (host["node_id"],))
                    conn.execute(
                        "UPDATE ssh_hosts SET node_id = NULL WHERE cluster_id = ? AND name = ?",
                        (cluster_id, host["name"]),
                    )
                else:
                    conn.execute(
                        "UPDATE nodes SET state = ? WHERE id = ?", (NodeState.LEAVING.value, host["node_id"])
                    )
        conn.execute("UPDATE clusters SET target_node_count = ? WHERE id = ?", (target, cluster_id))
        nodes.refresh_allocation(conn, cluster_id)
