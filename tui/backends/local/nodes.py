"""A cluster's nodes: local worker slots whose states are the truth the node table shows.

Every function here runs inside the caller's `BEGIN IMMEDIATE` transaction, so a claim, a release and a
resize are atomic with respect to every other process sharing the database.

States: idle (free), preparing (claimed by a job that is being set up), running (a job's worker holds it),
leaving (the cluster was resized down while it was busy: it goes away when its job ends), unusable (the
job's supervisor died abnormally; a resize replaces it).
"""

from __future__ import annotations

import sqlite3
import zlib

from tui.backends.local import db
from tui.core.model import AllocationState, NodeState, NodeStateCounts


def _node_id(cluster: sqlite3.Row, seq: int) -> str:
    stamp = db.parse_time(cluster["created"])
    assert stamp is not None
    digest = zlib.crc32(f"{cluster['id']}/{cluster['resource_group']}/{cluster['name']}".encode())
    return f"tvm-{digest}_{seq}-{stamp:%Y%m%dt%H%M%S}z"


def add_nodes(conn: sqlite3.Connection, cluster_id: int, count: int) -> None:
    cluster = conn.execute("SELECT * FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
    seq = cluster["next_node_seq"]
    for _ in range(count):
        seq += 1
        conn.execute(
            "INSERT INTO nodes (id, cluster_id, seq, state) VALUES (?, ?, ?, ?)",
            (_node_id(cluster, seq), cluster_id, seq, NodeState.IDLE.value),
        )
    conn.execute("UPDATE clusters SET next_node_seq = ? WHERE id = ?", (seq, cluster_id))


def counts(conn: sqlite3.Connection, cluster_id: int) -> NodeStateCounts:
    result = NodeStateCounts()
    for row in conn.execute(
        "SELECT state, COUNT(*) AS n FROM nodes WHERE cluster_id = ? GROUP BY state", (cluster_id,)
    ):
        setattr(result, f"{row['state']}_node_count", row["n"])
    return result


def refresh_allocation(conn: sqlite3.Connection, cluster_id: int) -> None:
    """`resizing` while nodes are still leaving, else `steady`; the transition time moves only on change."""
    leaving = conn.execute(
        "SELECT COUNT(*) FROM nodes WHERE cluster_id = ? AND state = ?", (cluster_id, NodeState.LEAVING.value)
    ).fetchone()[0]
    state = AllocationState.RESIZING if leaving else AllocationState.STEADY
    conn.execute(
        "UPDATE clusters SET allocation_state = ?, transition_time = ?"
        " WHERE id = ? AND allocation_state != ?",
        (state.value, db.now_text(), cluster_id, state.value),
    )


def resize(conn: sqlite3.Connection, cluster_id: int, target: int) -> None:
    """Move the cluster toward `target` nodes: unusable nodes are replaced, idle ones removed first, and busy
    ones marked leaving (they go when their job ends)."""
    conn.execute(
        "DELETE FROM nodes WHERE cluster_id = ? AND state = ?", (cluster_id, NodeState.UNUSABLE.value)
    )
    # Nodes that were leaving are wanted again if the target grew back: they simply stay.
    leaving = conn.execute(
        "SELECT id FROM nodes WHERE cluster_id = ? AND state = ? ORDER BY seq",
        (cluster_id, NodeState.LEAVING.value),
    ).fetchall()
    staying = conn.execute(
        "SELECT COUNT(*) FROM nodes WHERE cluster_id = ? AND state != ?",
        (cluster_id, NodeState.LEAVING.value),
    ).fetchone()[0]
    for row in leaving:
        if staying >= target:
            break
        # Back to what its job is doing: preparing until the job's command started, then running.
        conn.execute(
            "UPDATE nodes SET state = CASE WHEN (SELECT start_time FROM jobs WHERE jobs.id = nodes.job_id)"
            " IS NULL THEN ? ELSE ? END WHERE id = ?",
            (NodeState.PREPARING.value, NodeState.RUNNING.value, row["id"]),
        )
        staying += 1
    if staying < target:
        add_nodes(conn, cluster_id, target - staying)
    elif staying > target:
        excess = staying - target
        for row in conn.execute(
            "SELECT id, state FROM nodes WHERE cluster_id = ? AND state != ? "
            "ORDER BY CASE state WHEN 'idle' THEN 0 ELSE 1 END, seq DESC",
            (cluster_id, NodeState.LEAVING.value),
        ).fetchall():
            if excess == 0:
                break
            if row["state"] == NodeState.IDLE.value:
                conn.execute("DELETE FROM nodes WHERE id = ?", (row["id"],))
            else:
                conn.execute("UPDATE nodes SET state = ? WHERE id = ?", (NodeState.LEAVING.value, row["id"]))
            excess -= 1
    conn.execute("UPDATE clusters SET target_node_count = ? WHERE id = ?", (target, cluster_id))
    refresh_allocation(conn, cluster_id)


def claim(conn: sqlite3.Connection, cluster_id: int, job_id: int, count: int) -> list[str] | None:
    """Give `count` idle nodes to the job (as `preparing`), or None when there are not that many."""
    rows = conn.execute(
        "SELECT id FROM nodes WHERE cluster_id = ? AND state = ? ORDER BY seq LIMIT ?",
        (cluster_id, NodeState.IDLE.value, count),
    ).fetchall()
    if len(rows) < count:
        return None
    ids = [row["id"] for row in rows]
    for index, node_id in enumerate(ids):
        conn.execute(
            "UPDATE nodes SET state = ?, job_id = ?, rank_base = ? WHERE id = ?",
            (NodeState.PREPARING.value, job_id, index, node_id),
        )
    return ids


def set_job_nodes(conn: sqlite3.Connection, job_id: int, state: NodeState) -> None:
    """Move the job's nodes to `state`, except those already leaving (they stay leaving)."""
    conn.execute(
        "UPDATE nodes SET state = ? WHERE job_id = ? AND state != ?",
        (state.value, job_id, NodeState.LEAVING.value),
    )


def release(conn: sqlite3.Connection, job_id: int, unusable: bool = False) -> list[int]:
    """Free the job's nodes (leaving ones are removed); returns the clusters touched."""
    clusters = [
        row["cluster_id"]
        for row in conn.execute("SELECT DISTINCT cluster_id FROM nodes WHERE job_id = ?", (job_id,))
    ]
    conn.execute("DELETE FROM nodes WHERE job_id = ? AND state = ?", (job_id, NodeState.LEAVING.value))
    new_state = NodeState.UNUSABLE if unusable else NodeState.IDLE
    conn.execute(
        "UPDATE nodes SET state = ?, job_id = NULL, rank_base = NULL WHERE job_id = ?",
        (new_state.value, job_id),
    )
    for cluster_id in clusters:
        refresh_allocation(conn, cluster_id)
    return clusters


def job_node_ids(conn: sqlite3.Connection, job_id: int) -> list[str]:
    return [
        row["id"]
        for row in conn.execute("SELECT id FROM nodes WHERE job_id = ? ORDER BY rank_base", (job_id,))
    ]
