"""Honest states: what the details pane, the log's title and the scale-to-0 question tell the user.

A queued job said "queued" and nothing else while its cluster had 0 nodes; the scale-to-0 question said
"Jobs running on it are stopped" while the service (Batch AI, and the local backend as it) waits for
running jobs to end before it removes their nodes. These functions read the backend and word what is
really happening, naming the key that changes it (after any remap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from tui.console.widgets.keys import key_of
from tui.console.widgets.tree_items import Item
from tui.core.model import Cluster, ClusterRef, ExecutionState, Job, JobRef

# Lines of facts the details pane shows under a resource's name (it shares the tab with the node table).
DETAIL_LINES = 14


async def waiting_reason(backend: Any, job: Job, resize_key: str = "z") -> str:
    """Why a queued job has not started ("" when it is not queued or should start now)."""
    if job.execution_state != ExecutionState.QUEUED or not job.cluster:
        return ""
    try:
        cluster = await backend.clusters.get(ClusterRef(job.resource_group, job.workspace, job.cluster))
    except Exception:
        return f"waiting for cluster {job.cluster}, which cannot be read now"
    return reason_on(job, cluster, resize_key)


def reason_on(job: Job, cluster: Cluster | None, resize_key: str = "z") -> str:
    """Why queued `job` waits on `cluster` (as last read); "" when it is not queued or fits now."""
    if job.execution_state != ExecutionState.QUEUED or cluster is None:
        return ""
    need = job.node_count
    counts = cluster.node_state_counts
    idle = counts.idle_node_count
    if idle >= need:
        return ""  # it fits: the scheduler starts it on its next turn
    nodes = "node" if need == 1 else "nodes"
    if cluster.target_node_count < need:
        return (
            f"waiting for {need} idle {nodes}: {cluster.name} has {cluster.current_node_count}; "
            f"press {resize_key} to resize"
        )
    busy = counts.running_node_count + counts.preparing_node_count
    if busy:
        return f"waiting for {need} idle {nodes}: {cluster.name} has {idle} idle, {busy} busy with other jobs"
    return f"waiting for {need} idle {nodes}: {cluster.name} has {idle} idle; nodes are being allocated"


async def active_jobs_on(backend: Any, item: Item) -> list[Job]:
    """The queued and running jobs of the workspace that use the cluster `item` (every experiment)."""
    jobs: list[Job] = []
    for experiment in await backend.experiments.list(item.group, item.workspace):
        for job in await backend.jobs.list(item.group, item.workspace, experiment.name):
            if job.cluster == item.name and not ExecutionState(job.execution_state).is_final:
                jobs.append(job)
    return jobs


def scale_question(cluster: str, jobs: list[Job]) -> str:
    """The scale-to-0 question, true about what happens to `jobs` (the cluster's unfinished jobs)."""
    if not jobs:
        return (
            f"Scale cluster {cluster} to 0 nodes? Its idle nodes are released; "
            "no job runs there until it grows again."
        )
    names = ", ".join(f"{job.name} ({ExecutionState(job.execution_state).value})" for job in jobs[:4])
    more = f" and {len(jobs) - 4} more" if len(jobs) > 4 else ""
    return (
        f"Cluster {cluster} has {len(jobs)} unfinished job(s): {names}{more}. Scaling to 0 does not stop "
        "them: the service waits for running jobs to end before it removes their nodes (they show as "
        "Leaving until then), and queued jobs wait for nodes. Terminate them first, or scale and let them "
        "finish?"
    )


def describe_item(item: Item, notes: list[str] | None = None, app: Any = None) -> str:
    """A few facts about the selected resource, in az's words; `notes` (a job's submit warnings, why it
    waits) come first, where the pane's height cannot cut them. Keys are named as `app` has them now."""
    obj = item.obj
    if item.kind == "output":
        size = getattr(obj, "size", None)
        modified = getattr(obj, "last_modified", None)
        return "\n".join(
            [
                f"output file: {item.path} of job {item.job}",
                f"  size: {size if size is not None else '?'} bytes",
                f"  modified: {modified.isoformat(sep=' ', timespec='seconds') if modified else '?'}",
                f"  output directory: {item.output_dir}",
                f"  Enter shows it in the log pane; {key_of(app, 'bai.download', 'f')} downloads it",
            ]
        )
    if item.kind == "experiment":
        compare = key_of(app, "bai.compare", "k")
        return f"experiment: {item.name}\n  {compare} compares its runs (accuracy, epochs, duration, curves)"
    head = [f"{item.kind}: {item.name}", *(f"  ⚠ {note}" for note in notes or [])]
    if obj is None:
        return "\n".join([f"{item.kind} {item.name}", *head[1:]])
    from tui.core.model import as_az_dict

    try:
        facts = as_az_dict(obj)
    except TypeError:
        return "\n".join([f"{item.kind} {item.name}", *head[1:]])
    lines = list(head)
    for key, value in facts.items():
        if value in (None, "", [], {}) or key in ("name", "warnings"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        lines.append(f"  {key}: {value}")
    return "\n".join(lines[: max(DETAIL_LINES, len(head))])


class JobNotes:
    """What the main screen says about a job besides its facts: its submit's warnings, why it waits.

    A mixin of `MainScreen`, which provides the backend, the selection, the details pane and the log.
    """

    if TYPE_CHECKING:
        backend: Any
        app: Any
        open_job_ref: Any
        live_log: Any
        submit_warnings: dict[JobRef, list[str]]  # what a submit warned of, for the job's details
        waiting: dict[JobRef, str]  # why a queued job waits

        def selected(self) -> Item | None: ...
        def show_details(self, item: Item) -> None: ...

    def notes_for(self, item: Item) -> list[str]:
        """What a job's details say first: why it waits, what its submit warned of."""
        if item.kind != "job":
            return []
        ref = item.job_ref
        warnings = self.submit_warnings.get(ref) or list(getattr(item.obj, "warnings", None) or [])
        return [note for note in (self.waiting.get(ref, ""), *warnings) if note]

    async def note_waiting(self, job: Job) -> bool:
        """Find out why `job` waits (if it is queued); True when that changed since last asked."""
        return self.set_waiting(job.ref, await waiting_reason(self.backend, job, self.resize_key()))

    def note_waiting_on(self, job: Job, clusters: list[Cluster] | None) -> bool:
        """The same from a poll's cluster list of the job's workspace (None: not read; keep what was)."""
        if job.execution_state != ExecutionState.QUEUED:
            return self.set_waiting(job.ref, "")
        if clusters is None:
            return False
        cluster = next((c for c in clusters if c.name == job.cluster), None)
        if cluster is None:
            return self.set_waiting(job.ref, f"waiting for cluster {job.cluster}, which is not there")
        return self.set_waiting(job.ref, reason_on(job, cluster, self.resize_key()))

    def resize_key(self) -> str:
        return key_of(self.app, "bai.resize", "z")

    def set_waiting(self, ref: JobRef, reason: str) -> bool:
        changed = self.waiting.get(ref, "") != reason
        self.waiting[ref] = reason
        return changed

    @work(group="job-notes", exit_on_error=False)
    async def explain_waiting(self, item: Item) -> None:
        if await self.note_waiting(item.obj):
            if self.selected() is not None and self.selected().key == item.key:  # type: ignore[union-attr]
                self.show_details(item)
            if self.open_job_ref == item.job_ref:
                self.live_log.set_state(item.obj.execution_state.value, self.waiting[item.job_ref])
