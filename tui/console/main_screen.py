"""The console's main screen: the resource tree on the left; nodes, job form and live log in tabs.

It holds the panes, turns the tree's selection into what the other panes show, and runs the actions of
`tui.console.actions` (its key bindings are generated from that table; the resource actions come from
`ResourceActions`, the job-file ones from `JobActions`). Every backend call runs in a worker that turns a
`BaiError` into a notification saying what to do, so no traceback ever reaches the screen.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent

from tui.console import actions
from tui.console.job_actions import JobActions
from tui.console.panes import ConsoleTabs, JobPane, LogPane, NodesPane, TreePane, tab_of
from tui.console.place import Reattach
from tui.console.poller import Polled, Poller, View, jobs_in_view, unfinished_jobs
from tui.console.resource_actions import ResourceActions
from tui.console.states import JobNotes, describe_item
from tui.console.transfer_actions import TransferActions
from tui.console.widgets.dialogs import ConfirmDialog, FormDialog, FormField
from tui.console.widgets.job_form import JobForm
from tui.console.widgets.keys import key_of
from tui.console.widgets.keys_help import KeysScreen
from tui.console.widgets.live_log import LiveLog
from tui.console.widgets.node_table import NodeTable
from tui.console.widgets.resource_tree import ResourceTree
from tui.console.widgets.task_bar import Task, TaskBar
from tui.console.widgets.tree_items import Item, path_of
from tui.core.errors import BaiError, JobSpecError
from tui.core.model import JobRef

if TYPE_CHECKING:
    from tui.console.app import BaiApp

JOB_POLL_SECONDS = 3.0


def freeze_after_sdk_import() -> None:
    """Import the Azure SDK's job models (the job form's first check does, in a thread, at start) and keep
    all that is alive then out of the cyclic GC's full collections (`gc.freeze`). Run in a thread."""
    with contextlib.suppress(ImportError):  # no SDK: nothing more to keep out
        import azure.mgmt.batchai.models  # noqa: F401
    gc.freeze()


class MainScreen(JobActions, ResourceActions, TransferActions, Reattach, JobNotes, Screen[None]):
    """The panes and the actions on them; the app's first screen (dialogs open over it)."""

    BINDINGS: ClassVar[list[BindingType]] = actions.bindings()  # type: ignore[assignment]

    def __init__(
        self,
        *,
        job_path: Path | None = None,
        poll_seconds: float = JOB_POLL_SECONDS,
        node_poll_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.job_path = job_path
        self.poll_seconds = poll_seconds
        self.node_poll_seconds = node_poll_seconds
        self.open_job_ref: Any = None
        self.poller = Poller(self, self.in_view, min(poll_seconds, node_poll_seconds or poll_seconds))
        self._form_waiting: list[Callable[[JobForm], None]] = []
        self.submit_warnings: dict[JobRef, list[str]] = {}
        self.waiting: dict[JobRef, str] = {}

    @property
    def console(self) -> BaiApp:
        return self.app  # type: ignore[return-value]

    @property
    def backend(self) -> Any:
        return self.console.backend

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # Kept as attributes: the panes are found without a query, whichever screen is on top.
        self.pane_tree = ResourceTree(self.backend, id="tree")
        self.pane_nodes = NodeTable(id="node-table")
        self.pane_details = Static("", id="details", markup=False)
        self.pane_live_log = LiveLog(id="live-log")
        self.pane_tabs = ConsoleTabs(id="tabs", initial="nodes")
        self.pane_task_bar = TaskBar(id="task-bar")
        yield Header(show_clock=False, icon="≡")
        with Horizontal(id="body"):
            with TreePane(id="tree-pane"):
                yield self.pane_tree
            with self.pane_tabs:
                with NodesPane("Nodes 1", id="nodes"):
                    yield self.pane_nodes
                    yield self.pane_details
                with JobPane("Job 2", id="job"):
                    # The biggest pane (~40 widgets, ~0.1 s of CPU): mounted by Textual after the first
                    # paint, so that paint is quick. Twice lazy: a single Lazy mounted it right after the
                    # first paint, ahead of the footer's redraw with its key hints (queued after the same
                    # paint), which waited for it; the inner Lazy defers the form a paint further.
                    yield Lazy(Lazy(JobForm(id="job-form")))
                with LogPane("Log 3", id="log"):
                    yield self.pane_live_log
        yield self.pane_task_bar
        yield Footer(compact=True)  # one space less per key: ? and q still show at 80 columns

    def on_mount(self) -> None:
        self.pane_tree.focus()
        self.poller.start()
        if self.job_path is not None:
            self.load_job_file(self.job_path)
        self.run_worker(self.reattach(), group="reattach", exit_on_error=False)

    def on_unmount(self) -> None:
        self.save_place_now()

    def on_screen_suspend(self) -> None:
        self.add_class("-covered")  # a dialog is over this screen: its toasts hide (app.tcss)

    def on_screen_resume(self) -> None:
        """Back from a dialog: what was said while it was open is shown now (see `BaiApp.notify`)."""
        self.remove_class("-covered")
        self.console.show_held_notifications()

    def job_form(self) -> JobForm | None:
        """The job form once it is mounted and filled in, else None."""
        forms = self.query(JobForm)
        return forms.first() if forms and forms.first().is_ready else None

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.remember_place()

    def with_form(self, use: Callable[[JobForm], None]) -> None:
        """Run `use` on the job form now, or once it is mounted (that happens just after the first paint)."""
        form = self.job_form()
        if form is not None:
            use(form)
        else:
            self._form_waiting.append(use)

    @on(JobForm.Ready)
    def _form_ready(self, event: JobForm.Ready) -> None:
        if not event.form.is_ready:
            return  # a form removed since it said so: what waits, waits for the next one
        waiting, self._form_waiting = self._form_waiting, []
        for use in waiting:
            use(event.form)
        # Everything built at start lives as long as the app: keep it out of the cyclic GC's full
        # collections, which otherwise walk it all (tens of ms, felt as a stalled key press).
        self.call_after_refresh(gc.freeze)
        # The form's first check (just after this) imports the Azure SDK's models in a thread: tens of
        # thousands more objects (functions, classes, their dicts), there for good, that each full
        # collection walked again (issue 12: 42-50 -> 18-25 ms each with the log streaming). Frozen too.
        self.run_worker(freeze_after_sdk_import, group="gc-freeze", thread=True, exit_on_error=False)
        # From now on the GC's older collections run between key presses, not inside them (`GcPacer`).
        self.console.gc_pacer.start(self.app)

    # ------------------------------------------------------------------------------------------ helpers

    @property
    def tree(self) -> ResourceTree:
        return self.pane_tree

    @property
    def live_log(self) -> LiveLog:
        return self.pane_live_log

    @property
    def nodes(self) -> NodeTable:
        return self.pane_nodes

    def selected(self) -> Item | None:
        node = self.tree.cursor_node
        item = node.data if node is not None else None
        return item if item is not None and item.kind not in ("root", "empty") else None

    def show_details(self, item: Item) -> None:
        self.pane_details.update(describe_item(item, self.notes_for(item), self.app))

    def run_task(self, label: str, work_fn: Callable[[Task], Awaitable[Any]]) -> None:
        """Run backend work in a worker with a progress line; errors become notifications, not tracebacks."""
        self._run_task(label, work_fn)

    @work(group="tasks", exit_on_error=False)
    async def _run_task(self, label: str, work_fn: Callable[[Task], Awaitable[Any]]) -> None:
        bar = self.pane_task_bar
        task = bar.start(label)
        try:
            await work_fn(task)
        except JobSpecError as error:
            errors = error.errors
            self.with_form(lambda form: form.show_refused(errors))
            self.notify(
                f"{label}: the job spec has {len(error.errors)} problem(s), marked in the job form. "
                f"Fix them and press {key_of(self.app, 'bai.submit', 's')} again.",
                title="Not submitted",
                severity="error",
                timeout=8,
            )
        except BaiError as error:
            from tui.console.wording import error_text  # the console's words: field labels, its own actions

            self.notify(error_text(error), title=f"{label} failed", severity="error", timeout=8)
        except Exception as error:  # never let a traceback reach the screen
            self.notify(
                f"{type(error).__name__}: {error}. "
                f"Press {key_of(self.app, 'bai.refresh', 'r')} to refresh, then try again.",
                title=f"{label} failed unexpectedly",
                severity="error",
                timeout=10,
            )
        finally:
            bar.finish(task)

    def ask(
        self, title: str, fields: list[FormField], then: Callable[[dict[str, str]], None], submit: str = "OK"
    ) -> None:
        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                then(values)

        self.app.push_screen(FormDialog(title, fields, submit), done)

    def confirm(self, question: str, then: Callable[[], None], yes: str = "Yes") -> None:
        def done(answer: bool | None) -> None:
            if answer:
                then()

        self.app.push_screen(ConfirmDialog(question, yes), done)

    def need(self, item: Item | None, kinds: tuple[str, ...], what: str) -> Item | None:
        """`item` when it is of one of `kinds`; else None, after telling the user to select `what`."""
        if item is None or item.kind not in kinds:
            self.notify(
                f"Select {what} in the tree first (arrow keys, then the key again).",
                severity="warning",
                timeout=5,
            )
            return None
        return item

    def after_change(self, select: Item | None = None) -> None:
        """Show the backend's new state, opening the tree down to `select` (a new resource) when given."""
        self.tree.reload(path_of(select) if select is not None else None)
        self.poller.poll_now()

    # ------------------------------------------------------------------------------------------ tree events

    @on(ResourceTree.NodeHighlighted)
    def _highlighted(self, event: ResourceTree.NodeHighlighted[Item]) -> None:
        item = event.node.data
        if item is None or item.kind in ("root", "empty"):
            # not the facts of something no longer selected (or deleted); a hint in full, uncut
            self.pane_details.update(item.name if item is not None and item.kind == "empty" else "")
            return
        cluster = item.name if item.kind == "cluster" else None
        if item.group and item.workspace and self.nodes.show_workspace(item.group, item.workspace, cluster):
            self.poller.poll_now()  # a new workspace: its clusters now, not at the next round
        self.with_form(
            lambda form: form.follow_target(
                resource_group=item.group,
                workspace=item.workspace,
                experiment=item.experiment,
                cluster=item.name if item.kind == "cluster" else "",
                storage_account=item.account,
            )
        )
        self.show_details(item)
        if item.kind == "job" and item.obj is not None and not item.obj.execution_state.is_final:
            self.explain_waiting(item)
        self.remember_place()

    @on(ResourceTree.NodeSelected)
    def _selected(self, event: ResourceTree.NodeSelected[Item]) -> None:
        item = event.node.data
        if item is not None and item.kind == "job":
            self.open_log(item)
        elif item is not None and item.kind == "output":
            self.view_output(item)

    def view_output(self, item: Item) -> None:
        """Show one of a job's output files in the log pane (parsed like stdout.txt; x shows stderr.txt)."""
        ref, output_dir, path = item.job_ref, item.output_dir, item.path
        self.open_job_ref = ref
        jobs = self.backend.jobs

        def source(name: str):  # type: ignore[no-untyped-def]
            if name == path:
                return jobs.stream_file(ref, path, output_dir)
            return jobs.stream_file(ref, name)

        job = self.tree.find(Item.of_job(ref).key)
        state = getattr(getattr(job.data, "obj", None), "execution_state", "") if job and job.data else ""
        self.live_log.open_source(source, f"job {ref.name}", getattr(state, "value", str(state)), path)
        self.show_tab("log")

    def action_compare_runs(self) -> None:
        """Open the comparison of the selected experiment's runs (or of the selected job's experiment)."""
        from tui.console.widgets.compare_runs import CompareRunsScreen

        item = self.need(self.selected(), ("experiment", "job", "output", "outdir"), "an experiment")
        if item is None:
            return
        self.app.push_screen(CompareRunsScreen(self.backend, item.experiment_ref))

    def open_log(self, item: Item) -> None:
        ref = item.job_ref
        self.open_job_ref = ref
        self.watched = ref  # reopening the console comes back to this log while the job runs
        jobs = self.backend.jobs

        def source(name: str):  # type: ignore[no-untyped-def]
            return jobs.stream_file(ref, name)

        state = getattr(item.obj, "execution_state", "")
        self.live_log.open_source(source, f"job {ref.name}", getattr(state, "value", str(state)))
        self.live_log.set_state(getattr(state, "value", str(state)), self.waiting.get(ref, ""))
        self.show_tab("log")
        self.save_place_now()  # at once: a job to come back to is worth a write

    # ------------------------------------------------------------------------------------------ polling

    def in_view(self) -> View:
        """What the poller reads each round: the node table's workspace, the tree's unfinished jobs."""
        return View(self.nodes.workspace, unfinished_jobs(self.tree.root))

    @on(Polled)
    def _polled(self, event: Polled) -> None:
        """Render a round: the node table, the labels of jobs whose state moved, the open log's state."""
        view, snapshot = event.view, event.snapshot
        if view.workspace is not None:
            workspace = view.workspace
            self.nodes.show_polled(
                workspace,
                snapshot.cluster_lists.get(workspace),
                snapshot.errors.get(workspace),
                workspace in snapshot.gone,
            )
            self.show_clusters(workspace, snapshot.cluster_lists.get(workspace) or [])
        tree = self.tree
        for node in jobs_in_view(tree.root):
            item = node.data
            if item is None or item.obj is None:
                continue
            if item.obj.execution_state.is_final:
                # A reload (after t, say) may have brought the final state before this poll saw it.
                if self.open_job_ref == item.job_ref:
                    self.live_log.set_state(item.obj.execution_state.value)
                continue
            job = snapshot.jobs.get(item.job_ref)
            if job is None:
                continue  # not asked this round, or no answer: a vanished job goes on the next reload
            # a queued job says why it waits, from the clusters this round read (when it read them)
            clusters = snapshot.cluster_lists.get((job.resource_group, job.workspace))
            reason_moved = self.note_waiting_on(job, clusters)
            if job.execution_state != item.obj.execution_state or reason_moved:
                tree.update_item(node, job)
                if node is tree.cursor_node and node.data is not None:
                    self.show_details(node.data)
            if self.open_job_ref == item.job_ref:
                self.live_log.set_state(job.execution_state.value, self.waiting.get(job.ref, ""))

    def show_clusters(self, workspace: tuple[str, str], clusters: list[Any]) -> None:
        """A poll's clusters also in the tree's labels and the details: the same counts as the table."""
        for cluster in clusters:
            node = self.tree.find(Item.of_cluster(workspace[0], workspace[1], cluster.name).key)
            if node is None or node.data is None or node.data.obj == cluster:
                continue
            self.tree.update_item(node, cluster)
            if node is self.tree.cursor_node and node.data is not None:
                self.show_details(node.data)

    # ------------------------------------------------------------------------------------------ actions

    def action_refresh(self) -> None:
        self.after_change()
        self.notify("Refreshing…", timeout=1)

    def action_show_tab(self, tab: str) -> None:
        self.show_tab(tab)

    def show_tab(self, tab: str) -> None:
        """Bring up a tab, first taking focus out of any other tab's widgets.

        TabbedContent brings back the pane of whatever widget gets focus; a form field left focused in a
        hidden tab is refocused as the tab hides, which flipped straight back to the job form.
        """
        if self.restoring:
            self.tab_chosen = True  # the saved place, coming back, leaves this tab up (`reattach`)
        focused = self.focused
        if focused is not None and tab_of(focused) not in (None, tab):
            self.set_focus(self.pane_tree)  # now, not on the next turn: see ConsoleTabs
        self.pane_tabs.active = tab

    def action_focus_tree(self) -> None:
        """Give the keyboard back to the tree, where every one-letter key acts."""
        self.pane_tree.focus()

    def action_toggle_help(self) -> None:
        """The console's own key list, made from the action table (the key list closes itself on ?)."""
        self.app.push_screen(KeysScreen(actions.help_groups(self.console.keymap_overrides)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Already at the top in the tree: Esc is not offered there (nor taken: it goes on up).
        return not (action == "back" and self.focused is self.pane_tree)

    def action_back(self) -> None:
        """Esc from a pane (the node table, the log, a form field that passed it on): to the tree."""
        self.pane_tree.focus()

    def action_toggle_follow(self) -> None:
        self.live_log.toggle_follow()

    def action_search_log(self) -> None:
        self.show_tab("log")
        self.live_log.begin_search()

    def action_toggle_stderr(self) -> None:
        self.show_tab("log")
        self.live_log.toggle_stderr()

    def action_switch_backend(self) -> None:
        from tui.backends import BACKENDS

        console = self.console
        other = BACKENDS[(BACKENDS.index(console.backend_name) + 1) % len(BACKENDS)]

        async def run(task: Task) -> None:
            from tui.backends import open_backend

            backend = open_backend(other)
            old = console.backend
            console.backend, console.backend_name = backend, other
            self.tree.backend = backend
            self.nodes.workspace = None
            console.sub_title = f"{other} backend"
            self.tree.reload()
            self.notify(f"Now showing the {other} backend")
            await old.close()

        self.run_task(f"Opening the {other} backend", run)
