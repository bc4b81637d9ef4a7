"""The console: a Textual app over one backend (local or Azure Batch AI), opened by `bai` with no verb.

Left, the resource tree; right, three tabs: the cluster node-state table, the job form (job.json), and the
live log of the selected job. Every action has a key *and* a command palette entry, both made from the one
`ACTIONS` table; each binding has an id so a user can remap it (`"keymap"` in console.json). Every backend
call runs in a worker that turns a `BaiError` into a notification saying what to do, so no traceback ever
reaches the screen. TensorFlow and the Azure SDK are never imported at start (the job form imports the SDK's
models on first use), which keeps the first paint under a second on a jump box.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane
from textual.widgets.tree import TreeNode
from textual.worker import WorkerFailed

import themes
from tui.console.widgets.commands import ConsoleCommands
from tui.console.widgets.dialogs import ConfirmDialog, FormDialog, FormField, required, whole_number
from tui.console.widgets.job_form import JobForm
from tui.console.widgets.live_log import LiveLog
from tui.console.widgets.node_table import NodeTable
from tui.console.widgets.resource_tree import Item, ResourceTree, path_of
from tui.console.widgets.task_bar import Task, TaskBar
from tui.core.errors import BaiError, JobSpecError

DEFAULT_LOCATION = "eastus"
JOB_POLL_SECONDS = 3.0
FORM_DELAY_SECONDS = 0.3
HANG_UP_GRACE_SECONDS = 5.0  # after SIGHUP/SIGTERM, the longest an orderly exit may take


@dataclass(frozen=True)
class ActionSpec:
    """One console action: its key, its binding id (for keymaps), and its palette title and help."""

    name: str
    key: str
    action: str
    title: str
    help: str
    show: bool = True
    footer: str = ""  # a shorter word for the footer, which must fit 80 columns with ? and q

    @property
    def footer_label(self) -> str:
        return self.footer or self.title.split(" /")[0]

    @property
    def binding_id(self) -> str:
        return f"bai.{self.name}"


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "refresh", "r", "refresh", "Refresh", "Reload the tree (keeping the selection) and the node table"
    ),
    ActionSpec("new_group", "g", "create_group", "Create resource group", "az group create", show=False),
    ActionSpec(
        "new_workspace",
        "w",
        "create_workspace",
        "Create workspace",
        "az batchai workspace create",
        show=False,
    ),
    ActionSpec(
        "new_experiment",
        "e",
        "create_experiment",
        "Create experiment",
        "az batchai experiment create",
        show=False,
    ),
    ActionSpec(
        "new_cluster", "c", "create_cluster", "Create cluster", "az batchai cluster create", show=False
    ),
    ActionSpec(
        "new_storage",
        "a",
        "create_storage_account",
        "Create storage account",
        "az storage account create",
        show=False,
    ),
    ActionSpec("new_share", "h", "create_share", "Create file share", "az storage share create", show=False),
    ActionSpec(
        "new_folder",
        "n",
        "create_folder",
        "Create folder on share",
        "az storage directory create",
        show=False,
    ),
    ActionSpec(
        "upload",
        "u",
        "upload",
        "Upload to share",
        "az storage file upload (a file or a folder)",
        footer="Upload",
    ),
    ActionSpec(
        "download",
        "f",
        "download",
        "Download a file",
        "az storage file download / az batchai job file download",
        show=False,
    ),
    ActionSpec("resize", "z", "resize", "Resize cluster", "az batchai cluster resize --target N", show=False),
    ActionSpec(
        "scale_zero",
        "0",
        "scale_to_zero",
        "Scale cluster to 0",
        "az batchai cluster resize --target 0: stop paying for idle nodes",
        footer="Scale to 0",
    ),
    ActionSpec(
        "open_job", "o", "open_job_file", "Open job.json", "Load a job.json into the job form", show=False
    ),
    ActionSpec(
        "save_job",
        "v",
        "save_job_file",
        "Save job.json",
        "Write the edited job form back to job.json",
        show=False,
    ),
    ActionSpec(
        "submit", "s", "submit", "Submit job", "az batchai job create with the job form", footer="Submit"
    ),
    ActionSpec("terminate", "t", "terminate", "Terminate job", "az batchai job terminate", show=False),
    ActionSpec(
        "delete",
        "d",
        "delete",
        "Delete selected",
        "Delete the selected resource (asks first)",
        footer="Delete",
    ),
    ActionSpec(
        "follow",
        "p",
        "toggle_follow",
        "Follow / pause log",
        "Stop or resume scrolling the live log",
        show=False,
    ),
    ActionSpec("search", "slash", "search_log", "Search log", "Find text in the live log", show=False),
    ActionSpec(
        "stderr", "x", "toggle_stderr", "Show stderr.txt / stdout.txt", "Switch the log's file", show=False
    ),
    ActionSpec(
        "backend",
        "b",
        "switch_backend",
        "Switch backend",
        "Show the other backend (local / batchai)",
        show=False,
    ),
    ActionSpec(
        "theme",
        "m",
        "next_theme",
        "Next theme",
        "Cycle dark / light / high-contrast (remembered)",
        show=False,
    ),
    ActionSpec(
        "tab_nodes", "1", "show_tab('nodes')", "Show node table", "The cluster node-state table", show=False
    ),
    ActionSpec("tab_job", "2", "show_tab('job')", "Show job form", "The job.json form", show=False),
    ActionSpec("tab_log", "3", "show_tab('log')", "Show live log", "The selected job's live log", show=False),
    ActionSpec(
        "help",
        "question_mark",
        "toggle_help",
        "Show keys",
        "Show or hide every key of the focused pane",
        footer="Keys",
    ),
    ActionSpec("quit", "q", "quit", "Quit", "Leave the console (jobs keep running)"),
)
KEY_NAMES = {"slash": "/", "question_mark": "?"}


class BaiApp(App[int]):
    """The control console; give it an open backend (see `run_console`)."""

    TITLE = "bai"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(spec.key, spec.action, spec.footer_label, show=spec.show, id=spec.binding_id)
        for spec in ACTIONS
    ]

    def __init__(
        self,
        backend: Any,
        *,
        backend_name: str = "local",
        job_path: Path | None = None,
        theme: str | None = None,
        keymap: dict[str, str] | None = None,
        poll_seconds: float = JOB_POLL_SECONDS,
        node_poll_seconds: float | None = None,
        remember_theme: bool = True,
    ) -> None:
        super().__init__()
        if not os.environ.get("TEXTUAL_ANIMATIONS"):
            # Over SSH every animation frame is bytes on the wire and a delay before the next key: off.
            self.animation_level = "none"
        self.backend = backend
        self.backend_name = backend_name
        self.job_path = job_path
        self.poll_seconds = poll_seconds
        self.node_poll_seconds = node_poll_seconds
        self.remember_theme = remember_theme
        self.open_job_ref: Any = None
        self._form_waiting: list[Callable[[JobForm], None]] = []
        for entry in themes.THEMES:
            self.register_theme(entry)
        self._startup_theme = theme or themes.load_theme_choice() or themes.DEFAULT_THEME
        if self._startup_theme not in self.available_themes:
            self._startup_theme = themes.DEFAULT_THEME
        self.theme = self._startup_theme
        self._keymap = keymap or {}

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # Kept as attributes: app.query_one() searches the *top* screen, which is a dialog while one is open.
        self.pane_tree = ResourceTree(self.backend, id="tree")
        self.pane_nodes = NodeTable(
            self.backend,
            id="node-table",
            **({"poll_seconds": self.node_poll_seconds} if self.node_poll_seconds else {}),
        )
        self.pane_details = Static("", id="details", markup=False)
        self.pane_job_slot = Vertical(id="job-slot")  # the form is mounted just after the first paint
        self.pane_live_log = LiveLog(id="live-log")
        self.pane_tabs = ConsoleTabs(id="tabs", initial="nodes")
        self.pane_task_bar = TaskBar(id="task-bar")
        yield Header(show_clock=False, icon="≡")
        with Horizontal(id="body"):
            with Vertical(id="tree-pane"):
                yield self.pane_tree
            with self.pane_tabs:
                with TabPane("Nodes 1", id="nodes"):
                    yield self.pane_nodes
                    yield self.pane_details
                with TabPane("Job 2", id="job"):
                    yield self.pane_job_slot
                with TabPane("Log 3", id="log"):
                    yield self.pane_live_log
        yield self.pane_task_bar
        yield Footer(compact=True)  # one space less per key: ? and q still show at 80 columns

    def on_mount(self) -> None:
        self.sub_title = f"{self.backend_name} backend"
        if self._keymap:
            self.set_keymap(self._keymap)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._install_signal_handlers()
        self.pane_tree.focus()
        self.set_interval(self.poll_seconds, self._poll_jobs)
        self.set_timer(FORM_DELAY_SECONDS, self._mount_form)
        if self.job_path is not None:
            self.load_job_file(self.job_path)

    def _mount_form(self) -> None:
        """Mount the job form (the biggest pane) once the first screen and its footer are drawn."""
        slot = self.pane_job_slot
        if self._closing or not slot.is_attached:
            return
        if not slot.children:
            slot.mount(JobForm(id="job-form"))
            # Everything built at start lives as long as the app: keep it out of the cyclic GC's full
            # collections, which otherwise walk it all (tens of ms, felt as a stalled key press).
            self.call_after_refresh(gc.freeze)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "job":
            self._mount_form()

    def with_form(self, use: Callable[[JobForm], None]) -> None:
        """Run `use` on the job form now, or once it is mounted (that happens just after the first paint)."""
        forms = self.pane_job_slot.query(JobForm)
        if forms and forms.first()._torn_down():
            return  # the console is closing: nothing to fill in
        if forms and forms.first().is_ready:
            use(forms.first())
        else:
            self._form_waiting.append(use)

    @on(JobForm.Ready)
    def _form_ready(self, event: JobForm.Ready) -> None:
        if event.form._torn_down():
            return  # a form removed since it said so: what waits, waits for the next one
        waiting, self._form_waiting = self._form_waiting, []
        for use in waiting:
            use(event.form)

    def _install_signal_handlers(self) -> None:
        """Leave cleanly when the SSH session or terminal goes away (SIGHUP) or on SIGTERM.

        A plain signal handler, not the event loop's: the loop may be the thing that is stuck (blocked on
        output to a terminal that is gone), and a handler that waits for the loop would never run.
        """
        import asyncio

        loop = asyncio.get_running_loop()

        def on_signal(number: int, frame: object) -> None:
            # With the terminal gone, Textual's driver can block for good (its writer thread died on the
            # dead terminal, so its bounded output queue never drains): seen when SIGHUP and SIGCONT come
            # together. Nothing is left to restore then, jobs run on without the console and backend
            # writes are committed as they happen, so after a grace period the process just ends.
            start_exit_watchdog(HANG_UP_GRACE_SECONDS)
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(self.exit, 0)

        for number in (signal.SIGHUP, signal.SIGTERM):
            # not the main thread (tests): nothing to install
            with contextlib.suppress(ValueError, OSError):
                signal.signal(number, on_signal)

    def _handle_exception(self, error: Exception) -> None:
        """A widget that looks up one of its parts while the console is being taken down is not a crash.

        Textual tears a screen down child by child, while messages already queued (a Select finishing its
        mount, a check coming back from a thread) still run, and they find their parts gone: NoMatches.
        Seen in CI when a quit came just as the job form mounted. Once the message loop has stopped
        (`_running` goes False before any teardown, on q and on a closed terminal alike) such an error
        has nothing left to break, so it is dropped; any other error, or any error before, is reported.
        """
        cause = error.error if isinstance(error, WorkerFailed) else error
        if isinstance(cause, NoMatches) and not self._running:
            return
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """A bug escaped every handler: keep the traceback (and any secret in its locals) off the screen.

        Textual would print a traceback with local variables on exit; instead it goes to a private file and
        the terminal gets one line saying where.
        """
        import sys as _sys

        error = _sys.exc_info()[1] or self._exception
        self.bell()
        self._exit_renderables.append(crash_report(error))
        self._close_messages_no_wait()

    async def on_unmount(self) -> None:
        with contextlib.suppress(Exception):  # closing must never stop the exit
            await self.backend.close()

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

    def action_specs(self) -> tuple[ActionSpec, ...]:
        return ACTIONS

    def key_for(self, binding_id: str) -> str:
        """The key now bound to `binding_id` (after any keymap), for the palette's help text."""
        if binding_id in self._keymap:
            return self._keymap[binding_id]
        spec = next((s for s in ACTIONS if s.binding_id == binding_id), None)
        return KEY_NAMES.get(spec.key, spec.key) if spec else ""

    def selected(self) -> Item | None:
        node = self.tree.cursor_node
        item = node.data if node is not None else None
        return item if item is not None and item.kind not in ("root", "empty") else None

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)

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
                "Fix them and press s again.",
                title="Not submitted",
                severity="error",
                timeout=8,
            )
        except BaiError as error:
            self.notify(str(error), title=f"{label} failed", severity="error", timeout=8)
        except Exception as error:  # never let a traceback reach the screen
            self.notify(
                f"{type(error).__name__}: {error}. Press r to refresh, then try again.",
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

        self.push_screen(FormDialog(title, fields, submit), done)

    def confirm(self, question: str, then: Callable[[], None], yes: str = "Yes") -> None:
        def done(answer: bool | None) -> None:
            if answer:
                then()

        self.push_screen(ConfirmDialog(question, yes), done)

    def _need(self, item: Item | None, kinds: tuple[str, ...], what: str) -> Item | None:
        if item is None or item.kind not in kinds:
            self.notify(
                f"Select {what} in the tree first (arrow keys, then the key again).",
                severity="warning",
                timeout=5,
            )
            return None
        return item

    def _after_change(self, select: Item | None = None) -> None:
        """Show the backend's new state, opening the tree down to `select` (a new resource) when given."""
        self.tree.reload(path_of(select) if select is not None else None)
        self.nodes.refresh_now()

    # ------------------------------------------------------------------------------------------ tree events

    @on(ResourceTree.NodeHighlighted)
    def _highlighted(self, event: ResourceTree.NodeHighlighted[Item]) -> None:
        item = event.node.data
        if item is None or item.kind in ("root", "empty"):
            # not the facts of something no longer selected (or deleted); a hint in full, uncut
            self.pane_details.update(item.name if item is not None and item.kind == "empty" else "")
            return
        if item.group and item.workspace:
            self.nodes.show_workspace(
                item.group, item.workspace, item.name if item.kind == "cluster" else None
            )
        self.with_form(
            lambda form: form.prefill_target(
                resource_group=item.group,
                workspace=item.workspace,
                experiment=item.experiment,
                cluster=item.name if item.kind == "cluster" else "",
                storage_account=item.account,
            )
        )
        self.pane_details.update(describe_item(item))

    @on(ResourceTree.NodeSelected)
    def _selected(self, event: ResourceTree.NodeSelected[Item]) -> None:
        item = event.node.data
        if item is not None and item.kind == "job":
            self.open_log(item)

    def open_log(self, item: Item) -> None:
        ref = item.job_ref
        self.open_job_ref = ref
        jobs = self.backend.jobs

        def source(name: str):  # type: ignore[no-untyped-def]
            return jobs.stream_file(ref, name)

        state = getattr(item.obj, "execution_state", "")
        self.live_log.open_source(source, f"job {ref.name}", getattr(state, "value", str(state)))
        self.show_tab("log")

    # ------------------------------------------------------------------------------------------ polling

    def _poll_jobs(self) -> None:
        self._refresh_job_states()

    @work(exclusive=True, group="job-poll", exit_on_error=False)
    async def _refresh_job_states(self) -> None:
        """Move job labels (and the open log's title) along queued -> running -> succeeded/failed."""
        tree = self.tree
        stack = list(tree.root.children)
        jobs: list[TreeNode[Item]] = []
        while stack:
            node = stack.pop()
            if node.data is not None and node.data.kind == "job":
                jobs.append(node)
            elif node.is_expanded:
                stack.extend(node.children)
        for node in jobs:
            item = node.data
            if item is None or item.obj is None:
                continue
            if item.obj.execution_state.is_final:
                # A reload (after t, say) may have brought the final state before this poll saw it.
                if self.open_job_ref == item.job_ref:
                    self.live_log.set_state(item.obj.execution_state.value)
                continue
            try:
                job = await self.backend.jobs.get(item.job_ref)
            except Exception:
                continue  # a vanished job shows up on the next refresh
            if job.execution_state != item.obj.execution_state:
                tree.update_item(node, job)
                if node is tree.cursor_node and node.data is not None:
                    self.pane_details.update(describe_item(node.data))
            if self.open_job_ref == item.job_ref:
                self.live_log.set_state(job.execution_state.value)

    # ------------------------------------------------------------------------------------------ actions

    def action_refresh(self) -> None:
        self._after_change()
        self.notify("Refreshing…", timeout=1)

    def action_show_tab(self, tab: str) -> None:
        self.show_tab(tab)

    def show_tab(self, tab: str) -> None:
        """Bring up a tab, first taking focus out of any other tab's widgets.

        TabbedContent brings back the pane of whatever widget gets focus; a form field left focused in a
        hidden tab is refocused as the tab hides, which flipped straight back to the job form.
        """
        focused = self.focused
        if focused is not None and tab_of(focused) not in (None, tab):
            self.screen.set_focus(self.pane_tree)  # now, not on the next turn: see ConsoleTabs
        self.pane_tabs.active = tab

    def action_focus_tree(self) -> None:
        """Give the keyboard back to the tree, where every one-letter key acts."""
        self.pane_tree.focus()

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_toggle_follow(self) -> None:
        self.live_log.toggle_follow()

    def action_search_log(self) -> None:
        self.show_tab("log")
        self.live_log.begin_search()

    def action_toggle_stderr(self) -> None:
        self.show_tab("log")
        self.live_log.toggle_stderr()

    def action_next_theme(self) -> None:
        names = [entry.name for entry in themes.THEMES]
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def _theme_changed(self, theme: Any) -> None:
        if self.remember_theme:
            themes.save_theme_choice(theme.name)

    def create_with_form(
        self,
        title: str,
        fields: list[FormField],
        label: Callable[[dict[str, str]], str],
        create: Callable[[dict[str, str]], Awaitable[tuple[str, Item]]],
    ) -> None:
        """Ask for a new resource's fields, create it in a worker, say so and open the tree down to it.

        `create` makes the resource and returns the notice and the tree item to select; `label` names
        the work for the progress line.
        """

        def submitted(values: dict[str, str]) -> None:
            async def run(task: Task) -> None:
                notice, item = await create(values)
                self.notify(notice)
                self._after_change(item)

            self.run_task(label(values), run)

        self.ask(title, fields, submitted, "Create")

    def action_create_group(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            await self.backend.groups.create(values["name"], values["location"])
            return f"Resource group {values['name']} created", Item.of_group(values["name"])

        self.create_with_form(
            "Create resource group (az group create)",
            [
                FormField("name", "Name", placeholder="batchai.horovod", check=required("group name")),
                FormField("location", "Location", DEFAULT_LOCATION, check=required("location")),
            ],
            lambda values: f"Creating group {values['name']}",
            create,
        )

    def action_create_workspace(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            await self.backend.workspaces.create(values["group"], values["name"], values["location"] or None)
            return f"Workspace {values['name']} created", Item.of_workspace(values["group"], values["name"])

        self.create_with_form(
            "Create workspace (az batchai workspace create)",
            [
                group_field(self.selected()),
                FormField(
                    "name", "Workspace name", placeholder="batchaidev", check=required("workspace name")
                ),
                FormField("location", "Location (empty: the group's)", ""),
            ],
            lambda values: f"Creating workspace {values['name']}",
            create,
        )

    def action_create_experiment(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            from tui.core.model import ExperimentRef

            ref = ExperimentRef(values["group"], values["workspace"], values["name"])
            await self.backend.experiments.create(ref)
            item = Item.of_experiment(ref.resource_group, ref.workspace, ref.name)
            return f"Experiment {values['name']} created", item

        item = self.selected()
        self.create_with_form(
            "Create experiment (az batchai experiment create)",
            [
                group_field(item),
                workspace_field(item),
                FormField("name", "Experiment name", placeholder="cifar", check=required("experiment name")),
            ],
            lambda values: f"Creating experiment {values['name']}",
            create,
        )

    def action_create_cluster(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            from tui.core.model import ClusterRef

            ref = ClusterRef(values["group"], values["workspace"], values["name"])
            await self.backend.clusters.create(
                ref, values["vm_size"], int(values["target"]), values["priority"] or "dedicated"
            )
            item = Item.of_cluster(ref.resource_group, ref.workspace, ref.name)
            return f"Cluster {values['name']} created; nodes are being allocated", item

        def priority(value: str) -> str | None:
            return None if value.strip() in ("dedicated", "lowpriority", "") else "dedicated or lowpriority"

        item = self.selected()
        self.create_with_form(
            "Create cluster (az batchai cluster create)",
            [
                group_field(item),
                workspace_field(item),
                FormField("name", "Cluster name", placeholder="nc6cluster", check=required("cluster name")),
                FormField("vm_size", "VM size", "Standard_NC6", check=required("VM size")),
                FormField("priority", "VM priority", "dedicated", check=priority),
                FormField("target", "Target nodes", "2", check=whole_number("target", 0)),
            ],
            lambda values: f"Creating cluster {values['name']}",
            create,
        )

    def action_create_storage_account(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            await self.backend.storage.create_account(values["group"], values["name"], values["location"])
            item = Item.of_account(values["group"], values["name"])
            return f"Storage account {values['name']} created", item

        self.create_with_form(
            "Create storage account (az storage account create)",
            [
                group_field(self.selected()),
                FormField(
                    "name", "Account name (3-24 lowercase letters, digits)", check=required("account name")
                ),
                FormField("location", "Location", DEFAULT_LOCATION, check=required("location")),
            ],
            lambda values: f"Creating storage account {values['name']}",
            create,
        )

    def action_create_share(self) -> None:
        item = self.selected()

        async def create(values: dict[str, str]) -> tuple[str, Item]:
            await self.backend.storage.create_share(values["account"], values["share"])
            group = item.group if item else ""
            return f"Share {values['share']} created", Item.of_share(
                group, values["account"], values["share"]
            )

        self.create_with_form(
            "Create file share (az storage share create)",
            [
                FormField(
                    "account", "Storage account", item.account if item else "", check=required("account")
                ),
                FormField("share", "Share name", "myshare", check=required("share name")),
            ],
            lambda values: f"Creating share {values['share']}",
            create,
        )

    def action_create_folder(self) -> None:
        item = self._need(self.selected(), ("share", "folder"), "a share or folder")
        if item is None:
            return

        def path_for(values: dict[str, str]) -> str:
            return f"{item.path}/{values['name']}".strip("/")

        async def create(values: dict[str, str]) -> tuple[str, Item]:
            path = path_for(values)
            await self.backend.storage.create_directory(item.account, item.share, path)
            folder = Item.of_path("folder", item.group, item.account, item.share, path)
            return f"Folder {path} created on {item.share}", folder

        self.create_with_form(
            f"Create folder in {item.share}/{item.path} (az storage directory create)",
            [FormField("name", "Folder name", "cifar", check=required("folder name"))],
            lambda values: f"Creating folder {path_for(values)}",
            create,
        )

    def action_upload(self) -> None:
        item = self._need(self.selected(), ("share", "folder", "file"), "a share or folder to upload into")
        if item is None:
            return
        directory = item.path if item.kind != "file" else item.path.rpartition("/")[0]

        def exists(value: str) -> str | None:
            return None if Path(value).expanduser().exists() else f"{value} does not exist on this machine"

        def upload(values: dict[str, str]) -> None:
            source = Path(values["source"]).expanduser()
            target = values["directory"].strip("/")

            async def run(task: Task) -> None:
                storage = self.backend.storage
                await ensure_directory(storage, item.account, item.share, target)
                if source.is_dir():
                    entries = await storage.upload_directory(
                        item.account, item.share, target, source, progress=task.progress
                    )
                    self.notify(f"Uploaded {len(entries)} file(s) to {item.share}/{target}")
                else:
                    await storage.upload_file(
                        item.account, item.share, target, source, progress=task.progress
                    )
                    self.notify(f"Uploaded {source.name} to {item.share}/{target}")
                self._after_change()

            self.run_task(f"Uploading {source.name}", run)

        self.ask(
            f"Upload to share {item.share} (az storage file upload)",
            [
                FormField("source", "Local file or folder", check=exists),
                FormField("directory", "Folder on the share ('' = root)", directory),
            ],
            upload,
            "Upload",
        )

    def action_download(self) -> None:
        item = self._need(self.selected(), ("file", "job"), "a file on a share, or a job")
        if item is None:
            return

        def download(values: dict[str, str]) -> None:
            destination = Path(values["destination"]).expanduser()

            async def run(task: Task) -> None:
                destination.parent.mkdir(parents=True, exist_ok=True)
                if item.kind == "file":
                    await self.backend.storage.download_file(
                        item.account, item.share, item.path, destination, progress=task.progress
                    )
                else:
                    written = 0
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    with destination.open("wb") as out:
                        async for chunk in self.backend.jobs.stream_file(
                            item.job_ref, values["name"], follow=False
                        ):
                            out.write(chunk)
                            written += len(chunk)
                            task.progress(written, None)
                self.notify(f"Saved {destination}")

            self.run_task(f"Downloading to {destination}", run)

        fields = []
        if item.kind == "job":
            fields.append(FormField("name", "Output file", "stdout.txt", check=required("file name")))
        default = Path.cwd() / (item.name if item.kind == "file" else f"{item.name}-stdout.txt")
        fields.append(FormField("destination", "Save as (local path)", str(default), check=required("path")))
        self.ask("Download (az storage file download / job file)", fields, download, "Download")

    def action_resize(self) -> None:
        item = self._need(self.selected(), ("cluster",), "a cluster")
        if item is None:
            return
        current = str(getattr(item.obj, "target_node_count", ""))
        self.ask(
            f"Resize {item.name} (az batchai cluster resize)",
            [
                FormField("target", "Target node count", current, check=whole_number("target", 0)),
            ],
            lambda values: self._resize(item, int(values["target"])),
            "Resize",
        )

    def action_scale_to_zero(self) -> None:
        item = self._need(self.selected(), ("cluster",), "a cluster")
        if item is None:
            return
        self.confirm(
            f"Scale cluster {item.name} to 0 nodes? Jobs running on it are stopped.",
            lambda: self._resize(item, 0),
            "Scale to 0",
        )

    def _resize(self, item: Item, target: int) -> None:
        async def run(task: Task) -> None:
            await self.backend.clusters.resize(item.cluster_ref, target)
            self.notify(f"Cluster {item.name} resizing to {target} node(s)")
            self._after_change()

        self.run_task(f"Resizing {item.name} to {target}", run)

    def action_terminate(self) -> None:
        item = self._need(self.selected(), ("job",), "a job")
        if item is None:
            return

        def terminate() -> None:
            async def run(task: Task) -> None:
                job = await self.backend.jobs.terminate(item.job_ref)
                self.notify(f"Job {item.name}: {job.execution_state.value}")
                self._after_change()

            self.run_task(f"Terminating {item.name}", run)

        self.confirm(f"Terminate job {item.name}? Its workers are stopped now.", terminate, "Terminate")

    def action_delete(self) -> None:
        item = self.selected()
        if item is None:
            self.notify("Select what to delete in the tree first.", severity="warning")
            return
        backend = self.backend
        deleters: dict[str, tuple[str, Callable[[], Awaitable[Any]]]] = {
            "group": (
                f"resource group {item.name} and everything in it",
                lambda: backend.groups.delete(item.group),
            ),
            "workspace": (
                f"workspace {item.name} with its experiments, jobs and clusters",
                lambda: backend.workspaces.delete(item.group, item.workspace),
            ),
            "experiment": (
                f"experiment {item.name} and its jobs",
                lambda: backend.experiments.delete(item.experiment_ref),
            ),
            "cluster": (f"cluster {item.name}", lambda: backend.clusters.delete(item.cluster_ref)),
            "job": (f"job {item.name} and its output", lambda: backend.jobs.delete(item.job_ref)),
            "account": (
                f"storage account {item.name} and all its shares",
                lambda: backend.storage.delete_account(item.account),
            ),
            "share": (
                f"share {item.name} and all its files",
                lambda: backend.storage.delete_share(item.account, item.share),
            ),
            "file": (
                f"file {item.path}",
                lambda: backend.storage.delete_file(item.account, item.share, item.path),
            ),
            "folder": (
                f"folder {item.path}",
                lambda: backend.storage.delete_file(item.account, item.share, item.path),
            ),
        }
        if item.kind not in deleters:
            self.notify("This entry cannot be deleted.", severity="warning")
            return
        what, delete = deleters[item.kind]

        def confirmed() -> None:
            async def run(task: Task) -> None:
                await delete()
                self.notify(f"Deleted {what}")
                self._after_change()

            self.run_task(f"Deleting {item.kind} {item.name}", run)

        self.confirm(f"Delete {what}? This cannot be undone.", confirmed, "Delete")

    def action_open_job_file(self) -> None:
        def open_dialog(form: JobForm) -> None:
            self.ask(
                "Open job.json",
                [
                    FormField(
                        "path", "Path", str(form.path or Path.cwd() / "job.json"), check=job_file_problem
                    )
                ],
                lambda values: self.load_job_file(Path(values["path"]).expanduser()),
                "Open",
            )

        self.with_form(open_dialog)

    def load_job_file(self, path: Path) -> None:
        def load(form: JobForm) -> None:
            try:
                form.load_file(path)
            except (OSError, ValueError) as error:
                self.notify(str(error), title="Cannot open job.json", severity="error", timeout=8)
                return
            self.show_tab("job")
            self.notify(f"Loaded {path}", timeout=2)

        self.with_form(load)

    def action_save_job_file(self) -> None:
        def save(form: JobForm) -> None:
            if form.path is None:
                self.ask(
                    "Save job.json as",
                    [FormField("path", "Path", str(Path.cwd() / "job.json"), check=required("path"))],
                    lambda values: self._save_job(form, Path(values["path"]).expanduser()),
                    "Save",
                )
            else:
                self._save_job(form, None)

        self.with_form(save)

    def _save_job(self, form: JobForm, path: Path | None) -> None:
        try:
            written = form.save(path)
        except (OSError, ValueError) as error:
            self.notify(str(error), title="Not saved", severity="error", timeout=8)
            return
        self.notify(f"Saved {written}", timeout=3)

    def action_submit(self) -> None:
        self.show_tab("job")

        def submit(form: JobForm) -> None:
            if not form.request_submit():
                self.notify(
                    "The job form has problems, marked next to each field: fix them and press s again.",
                    title="Not submitted",
                    severity="error",
                    timeout=6,
                )

        self.with_form(submit)

    @on(JobForm.Submit)
    def _submit(self, event: JobForm.Submit) -> None:
        document, target = event.document, event.target

        async def run(task: Task) -> None:
            from tui.backends.base import JobSubmitOptions
            from tui.core.jobspec import apply_storage_account, parse_job_spec
            from tui.core.model import JobRef

            ignored: list[str] = []  # job.json fields the service ignored, as `bai job create` warns of them
            spec = parse_job_spec(document, notes=ignored)
            apply_storage_account(spec, target.storage_account)
            ref = JobRef(target.resource_group, target.workspace, target.experiment, target.name)
            job = await self.backend.jobs.create(
                ref, target.cluster, spec, JobSubmitOptions(storage_account_name=target.storage_account)
            )
            self.notify(f"Job {job.name} submitted ({job.execution_state.value})", title="Submitted")
            for warning in [*ignored, *job.warnings]:
                self.notify(warning, title=f"Job {job.name}: warning", severity="warning", timeout=12)
            chain = path_of(Item.of_job(ref))
            node = await self.tree.reveal(chain)
            if node is not None and node.data is not None:
                self.open_log(node.data)

        self.run_task(f"Submitting job {target.name}", run)

    def action_switch_backend(self) -> None:
        from tui.backends import BACKENDS

        other = BACKENDS[(BACKENDS.index(self.backend_name) + 1) % len(BACKENDS)]

        async def run(task: Task) -> None:
            from tui.backends import open_backend

            backend = open_backend(other)
            old = self.backend
            self.backend, self.backend_name = backend, other
            self.tree.backend = backend
            self.nodes.backend = backend
            self.nodes.workspace = None
            self.sub_title = f"{other} backend"
            self.tree.reload()
            self.notify(f"Now showing the {other} backend")
            await old.close()

        self.run_task(f"Opening the {other} backend", run)


def group_field(item: Item | None) -> FormField:
    """The resource group a new resource goes in: the selection's, else typed."""
    return FormField("group", "Resource group", item.group if item else "", check=required("resource group"))


def workspace_field(item: Item | None) -> FormField:
    return FormField("workspace", "Workspace", item.workspace if item else "", check=required("workspace"))


def job_file_problem(value: str) -> str | None:
    """What is wrong with a job.json path typed in the Open dialog (kept open to fix it), None if fine."""
    if not value.strip():
        return "enter the path of a job.json"
    path = Path(value.strip()).expanduser()
    if path.is_dir():
        return f"{value} is a folder: give the path of a job.json in it"
    if not path.is_file():
        return f"{value} does not exist: give the path of a job.json"
    return None


class ConsoleTabs(TabbedContent):
    """TabbedContent that brings a pane up for a focused widget only while the focus is still there.

    Textual's TabbedContent switches to a pane when it hears that something in it got focus. That note
    travels through two message queues; on a busy machine it could arrive after the user had already chosen
    another tab (focus handed to the tree by then), and the console flipped straight back to the job form.
    """

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.app.focused
        if focused is None or tab_of(focused) != event.tab_pane.id:
            event.prevent_default()  # Textual's own handler (called after this one) does not switch
            event.stop()


def tab_of(widget: Any) -> str | None:
    """The id of the tab pane holding `widget`, None when it is outside the tabs."""
    for node in (widget, *widget.ancestors):
        if isinstance(node, TabPane):
            return node.id
    return None


def start_exit_watchdog(seconds: float) -> None:
    """End the process after `seconds` unless it has ended by then (a daemon thread waits)."""
    import threading
    import time

    def wait_then_exit() -> None:
        time.sleep(seconds)
        os._exit(0)

    threading.Thread(target=wait_then_exit, name="bai-exit-watchdog", daemon=True).start()


def crash_report(error: BaseException | None) -> str:
    """Write the traceback (no local variables) to console-crash.log, mode 0600; the one line to show."""
    import traceback

    path = themes.config_dir() / "console-crash.log"
    detail = "".join(traceback.format_exception(error)) if error is not None else "no exception recorded\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write(detail + "\n")
        where = f"details in {path}"
    except OSError:
        where = "the details could not be written"
    name = type(error).__name__ if error is not None else "error"
    return f"bai: the console stopped on an internal error ({name}); {where}. Please report it."


async def ensure_directory(storage: Any, account: str, share: str, path: str) -> None:
    """Create each missing folder of `path` on the share (az needs `directory create` first; we do it)."""
    from tui.core.errors import ConflictError

    parts = [part for part in path.split("/") if part]
    for depth in range(1, len(parts) + 1):
        with contextlib.suppress(ConflictError):  # already there
            await storage.create_directory(account, share, "/".join(parts[:depth]))


def describe_item(item: Item) -> str:
    """A few facts about the selected resource, in az's words."""
    obj = item.obj
    if obj is None:
        return f"{item.kind} {item.name}"
    from tui.core.model import as_az_dict

    try:
        facts = as_az_dict(obj)
    except TypeError:
        return f"{item.kind} {item.name}"
    lines = [f"{item.kind}: {item.name}"]
    for key, value in facts.items():
        if value in (None, "", [], {}) or key == "name":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        lines.append(f"  {key}: {value}")
    return "\n".join(lines[:14])


def load_keymap() -> dict[str, str]:
    """User key remaps from console.json's "keymap" ({"bai.refresh": "f5"}); bad entries are ignored."""
    keymap = themes.load_settings().get("keymap")
    if not isinstance(keymap, dict):
        return {}
    return {str(key): str(value) for key, value in keymap.items() if isinstance(value, str)}


def parse_console_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bai", description="Open the control console (bai <group> <verb> runs a headless command)."
    )
    parser.add_argument("--backend", help="local or batchai (default: $BAI_BACKEND, else local)")
    parser.add_argument("--job", type=Path, metavar="PATH", help="a job.json to load into the job form")
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="bai-dark, bai-light or bai-high-contrast (16 colours); default: the last one chosen",
    )
    return parser.parse_args(argv)


def run_console(argv: list[str]) -> int:
    """Entry point for `bai` with no verb: parse the console's options, open the backend, run the app."""
    args = parse_console_args(argv)
    names = [entry.name for entry in themes.THEMES]
    if args.theme is not None and args.theme not in names:
        print(f"bai: --theme {args.theme!r} is not a theme: use one of {', '.join(names)}", file=sys.stderr)
        return 2
    if args.job is not None and not args.job.is_file():
        print(f"bai: --job {str(args.job)!r} is not a file: give the path of a job.json", file=sys.stderr)
        return 2
    from tui.backends import backend_name, open_backend

    try:
        name = backend_name(args.backend)
        backend = open_backend(name)
    except BaiError as error:
        print(f"bai: {error}", file=sys.stderr)
        return 1
    app = BaiApp(backend, backend_name=name, job_path=args.job, theme=args.theme, keymap=load_keymap())
    app.run()
    if os.environ.get("BAI_CONSOLE_DEBUG") and app.return_code:
        print(json.dumps({"return_code": app.return_code}), file=sys.stderr)
    return app.return_code or 0
