"""The cluster node-state table (what `az batchai cluster show -o table` printed), refreshed in place.

The console's poller reads the clusters of the workspace in view every few seconds and hands them here
(`show_polled`); the table updates only the cells that changed, so the cursor and scroll position survive
each refresh. Clusters that keep idle nodes allocated are called out with the key that scales them to 0:
the tutorial's last step, to stop paying.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tui.console.widgets.keys import key_of
from tui.core.model import Cluster

COLUMNS = (
    ("name", "Name"),
    ("vm_size", "VM size"),
    ("priority", "Priority"),
    ("state", "State"),
    ("target", "Target"),
    ("idle", "Idle"),
    ("running", "Running"),
    ("preparing", "Preparing"),
    ("leaving", "Leaving"),
    ("unusable", "Unusable"),
)
# Narrower than the full table (80x24 and 100x30 both are): the five counts come right after the name and
# state under short labels, and target, VM size and priority follow (they also show under the table).
COMPACT_COLUMNS = (
    ("name", "Name"),
    ("state", "State"),
    ("idle", "Idle"),
    ("running", "Run"),
    ("preparing", "Prep"),
    ("leaving", "Leave"),
    ("unusable", "Unus"),
    ("target", "Target"),
    ("vm_size", "VM size"),
    ("priority", "Priority"),
)
NO_WORKSPACE = "Clusters: select a workspace or cluster in the tree"
CELL_PADDING = 1


def table_width(columns: tuple[tuple[str, str], ...], rows: list[dict[str, str]]) -> int:
    """Columns the table needs to show every column whole (DataTable pads each cell on both sides)."""
    return sum(
        max([len(label), *(len(row[key]) for row in rows)]) + 2 * CELL_PADDING for key, label in columns
    )


def cluster_cells(cluster: Cluster) -> dict[str, str]:
    counts = cluster.node_state_counts
    state = getattr(cluster.allocation_state, "value", str(cluster.allocation_state))
    return {
        "name": cluster.name,
        "vm_size": cluster.vm_size,
        "priority": cluster.vm_priority,
        "state": state,
        "target": str(cluster.target_node_count),
        "idle": str(counts.idle_node_count),
        "running": str(counts.running_node_count),
        "preparing": str(counts.preparing_node_count),
        "leaving": str(counts.leaving_node_count),
        "unusable": str(counts.unusable_node_count),
    }


def hosts_text(clusters: list[Cluster]) -> str:
    """The ssh backend's hosts under the table, one line each: name, slots, state, GPUs, why unusable."""
    lines = []
    for cluster in clusters:
        hosts = getattr(cluster, "hosts", None) or []
        if not hosts:
            continue
        lines.append(f"Hosts of {cluster.name}:")
        for host in hosts:
            slots = host.get("slots", 1)
            line = f"  {host.get('name')}  {slots} slot{'s' if slots != 1 else ''}  {host.get('state')}"
            gpus = host.get("gpus") or []
            if gpus:
                line += "  " + ", ".join(
                    f"GPU{gpu.get('index')} {gpu.get('name')} {gpu.get('utilizationPercent')}%"
                    for gpu in gpus
                )
            problem = getattr(cluster, "host_problems", {}).get(host.get("name"))
            if problem:
                line += f"  ({problem})"
            lines.append(line)
    return "\n".join(lines)


def idle_hint(clusters: list[Cluster], key: str = "0") -> str:
    """The call-out for clusters paying for idle nodes (`key` scales to 0); "" when there are none."""
    idle = [
        c
        for c in clusters
        if c.node_state_counts.idle_node_count and not c.node_state_counts.running_node_count
    ]
    if not idle:
        return ""
    names = ", ".join(f"{c.name} ({c.node_state_counts.idle_node_count} idle)" for c in idle)
    return (
        f"⚠ idle nodes still allocated: {names}. "
        f"Select the cluster and press {key} to scale to 0 and stop paying."
    )


def preempted_hint(clusters: list[Cluster]) -> str:
    """Low-priority nodes Azure took back (Azure ML counts them); "" when none were."""
    taken = [(c.name, getattr(c.node_state_counts, "preempted_node_count", 0)) for c in clusters]
    names = ", ".join(f"{name} ({count} preempted)" for name, count in taken if count)
    return f"⚠ low-priority nodes preempted: {names}." if names else ""


class NodeTable(Vertical):
    """Clusters of one workspace with their node-state counts; `show_workspace` picks which."""

    DEFAULT_CSS = """
    NodeTable { height: auto; }
    NodeTable #nodes-title { height: 1; text-style: bold; padding: 0 1; background: $panel; }
    NodeTable DataTable { height: auto; max-height: 1fr; }
    NodeTable #nodes-hint { color: $warning; height: auto; padding: 0 1; }
    NodeTable #nodes-hosts { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.workspace: tuple[str, str] | None = None
        self.selected: str | None = None
        self.clusters: dict[str, Cluster] = {}
        self.polls = 0
        self.columns = COLUMNS

    def compose(self) -> ComposeResult:
        yield Static(NO_WORKSPACE, id="nodes-title", markup=False)
        table: DataTable = DataTable(
            id="nodes-table", cursor_type="row", zebra_stripes=True, cell_padding=CELL_PADDING
        )
        for key, label in self.columns:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="nodes-hint", markup=False)
        yield Static("", id="nodes-hosts", markup=False)

    @property
    def table(self) -> DataTable:
        return self.query_one("#nodes-table", DataTable)

    def show_workspace(self, resource_group: str, workspace: str, cluster: str | None = None) -> bool:
        """Follow this workspace's clusters (cursor on `cluster`); True when it is a new workspace, which
        the poller should read at once."""
        self.selected = cluster
        key = (resource_group, workspace)
        if key != self.workspace:
            self.workspace = key
            self.clusters = {}
            self.table.clear()
            self.query_one("#nodes-title", Static).update(f"Clusters of {workspace} ({resource_group})")
            self.query_one("#nodes-hint", Static).update("")
            return True
        self._move_cursor()
        return False

    def forget(self) -> None:
        """Show no workspace: an empty table and the prompt to pick one."""
        self.workspace = None
        self.selected = None
        self.clusters = {}
        self.table.clear()
        self.query_one("#nodes-title", Static).update(NO_WORKSPACE)
        self.query_one("#nodes-hint", Static).update("")

    def show_polled(
        self, workspace: tuple[str, str], clusters: list[Cluster] | None, error: str | None, gone: bool
    ) -> None:
        """Render one poll of `workspace`: its clusters, or why they could not be read (kept as they were).

        A workspace deleted since (`gone`) takes its clusters with it: the table shows none. A poll of a
        workspace no longer shown is ignored.
        """
        if workspace != self.workspace:
            return
        self.polls += 1
        if gone:
            self.forget()
        elif clusters is not None:
            self.apply(clusters)
        elif error is not None:
            self.query_one("#nodes-hint", Static).update(
                f"✘ {error}; press {key_of(self.app, 'bai.refresh', 'r')} to retry"
            )

    def apply(self, clusters: list[Cluster]) -> None:
        """Update the table in place: changed cells only, new rows added, vanished rows removed."""
        table = self.table
        fresh = {cluster.name: cluster for cluster in sorted(clusters, key=lambda c: c.name)}
        for name in list(self.clusters):
            if name not in fresh:
                table.remove_row(name)
                del self.clusters[name]
        for name, cluster in fresh.items():
            cells = cluster_cells(cluster)
            if name in self.clusters:
                old = cluster_cells(self.clusters[name])
                for key, value in cells.items():
                    if old[key] != value:
                        table.update_cell(name, key, value)
            else:
                table.add_row(*(cells[key] for key, _label in self.columns), key=name)
            self.clusters[name] = cluster
        clusters = list(fresh.values())
        idle = idle_hint(clusters, key_of(self.app, "bai.scale_zero", "0"))
        hint = " ".join(filter(None, (idle, preempted_hint(clusters))))
        if not fresh:
            hint = f"No clusters here yet: press {key_of(self.app, 'bai.new_cluster', 'c')} to create one."
        self.query_one("#nodes-hint", Static).update(hint)
        self.query_one("#nodes-hosts", Static).update(hosts_text(list(fresh.values())))
        self._fit_columns()
        self._move_cursor()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Use the short layout when the full one would push the node counts off the right edge."""
        rows = [cluster_cells(cluster) for cluster in self.clusters.values()]
        room = self.size.width - 2  # a vertical scrollbar may take two columns
        wanted = COLUMNS if table_width(COLUMNS, rows) <= room else COMPACT_COLUMNS
        if wanted == self.columns or not self.size.width:
            return
        self.columns = wanted
        table = self.table
        table.clear(columns=True)
        for key, label in wanted:
            table.add_column(label, key=key)
        for name, cells in zip(self.clusters, rows, strict=True):
            table.add_row(*(cells[key] for key, _label in wanted), key=name)
        self._move_cursor()

    def _move_cursor(self) -> None:
        if self.selected and self.selected in self.clusters:
            index = self.table.get_row_index(self.selected)
            if self.table.cursor_row != index:
                self.table.move_cursor(row=index)

    def cell(self, cluster: str, column: str) -> str:
        return str(self.table.get_cell(cluster, column))
