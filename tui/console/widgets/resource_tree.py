"""The resource tree: groups > workspaces > experiments > jobs > output files, clusters, storage > shares >
folders > files.

Children load when a node is first expanded (a backend call each), and `reload` rebuilds what was open and
puts the cursor back on the same resource, so refreshing never loses the user's place. Job states are shown
by a symbol and a word as well as a colour, so they read on a 16-colour or colourless terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.console.widgets.keys import key_of
from tui.core import format as fmt
from tui.core.model import ClusterRef, ExecutionState, ExperimentRef, JobRef

if TYPE_CHECKING:
    from collections.abc import Mapping

JOB_STATE_LOOK: dict[ExecutionState, tuple[str, str]] = {
    ExecutionState.QUEUED: ("◌", "yellow"),
    ExecutionState.RUNNING: ("●", "cyan"),
    ExecutionState.TERMINATING: ("◼", "magenta"),
    ExecutionState.SUCCEEDED: ("✔", "green"),
    ExecutionState.FAILED: ("✘", "red"),
    ExecutionState.CANCELED: ("⊘", "bright_black"),
}

# The theme colour each state is drawn in: the theme's own choice reads on its background (fixed ANSI cyan
# and yellow all but vanished on the light theme's white, magenta on the dark one in 16 colours).
STATE_ROLE: dict[ExecutionState, str] = {
    ExecutionState.QUEUED: "warning",
    ExecutionState.RUNNING: "primary",
    ExecutionState.TERMINATING: "warning",
    ExecutionState.SUCCEEDED: "success",
    ExecutionState.FAILED: "error",
    ExecutionState.CANCELED: "secondary",
}
Looks = dict[ExecutionState, tuple[str, Any]]
# A state the service named that this version does not know (the word itself is still shown).
UNKNOWN_STATE_LOOK: tuple[str, Any] = ("?", "default")


def state_looks(variables: Mapping[str, str] | None) -> Looks:
    """Symbol and rich colour of each job state under a theme (its CSS variables); the ANSI names without."""
    from rich.color import Color as RichColor
    from rich.color import ColorType
    from textual.color import Color, ColorParseError

    looks: Looks = {}
    for state, (symbol, fallback) in JOB_STATE_LOOK.items():
        value = (variables or {}).get(STATE_ROLE[state])
        try:
            colour: Any = Color.parse(value).rich_color if value else fallback
        except ColorParseError:
            colour = fallback
        if isinstance(colour, RichColor) and colour.type == ColorType.TRUECOLOR:
            # drawn in the theme's shade, named by its hue ("green" for succeeded) where styles are read
            colour = RichColor(fallback, ColorType.TRUECOLOR, triplet=colour.triplet)
        looks[state] = (symbol, colour)
    return looks


# What each kind of node is called in the tree, before its name.
KIND_TAG = {
    "group": "rg",
    "workspace": "ws",
    "experiment": "exp",
    "cluster": "cluster",
    "account": "storage",
    "share": "share",
    "folder": "dir",
    "file": "",
    "job": "",
    "output": "",
    "outdir": "dir",
}


# What an empty level says, so a new user knows the next step; the key comes first because at 80 columns
# the tree is about 22 wide (the whole line also shows beside the tree while the cursor is on it).
# Each {name} is the key of action `bai.<name>`, remapped or not (see `empty_hint`).
EMPTY_HINT = {
    "root": "press {new_group}: new resource group (none yet)",
    "group": "press {new_workspace}: new workspace, {new_storage}: new storage account",
    "workspace": "press {new_experiment}: new experiment, {new_cluster}: new cluster",
    "experiment": "press {tab_job}: the job form (no jobs yet)",
    "account": "press {new_share}: new file share (none yet)",
    "job": "no output files yet ({refresh} refreshes)",
}
HINT_KEYS = {
    "new_group": "g",
    "new_workspace": "w",
    "new_storage": "a",
    "new_experiment": "e",
    "new_cluster": "c",
    "tab_job": "2",
    "new_share": "h",
    "refresh": "r",
}


def empty_hint(kind: str, app: Any = None) -> str:
    """What an empty level of `kind` says, naming the keys the user has now (after any keymap)."""
    keys = {name: key_of(app, f"bai.{name}", default) for name, default in HINT_KEYS.items()}
    return EMPTY_HINT.get(kind, "(empty)").format_map(keys)


# A job's output files as `bai job file list` lists them: the stdout/stderr directory.
OUTPUT_DIRECTORY = "stdouterr"


@dataclass
class Item:
    """What a tree node stands for; `key` identifies it across reloads."""

    kind: str
    group: str = ""
    workspace: str = ""
    experiment: str = ""
    name: str = ""
    account: str = ""
    share: str = ""
    path: str = ""
    job: str = ""  # an output file's job
    output_dir: str = ""  # an output file's output directory id (stdouterr)
    obj: Any = field(default=None, compare=False, repr=False)
    loaded: bool = field(default=False, compare=False)

    # One constructor a kind, so the tree, `path_of` and the console's actions name a resource alike.

    @classmethod
    def of_group(cls, group: str, obj: Any = None) -> Item:
        return cls("group", group=group, name=group, obj=obj)

    @classmethod
    def of_workspace(cls, group: str, workspace: str, obj: Any = None) -> Item:
        return cls("workspace", group=group, workspace=workspace, name=workspace, obj=obj)

    @classmethod
    def of_experiment(cls, group: str, workspace: str, experiment: str, obj: Any = None) -> Item:
        return cls(
            "experiment", group=group, workspace=workspace, experiment=experiment, name=experiment, obj=obj
        )

    @classmethod
    def of_cluster(cls, group: str, workspace: str, name: str, obj: Any = None) -> Item:
        return cls("cluster", group=group, workspace=workspace, name=name, obj=obj)

    @classmethod
    def of_job(cls, ref: JobRef, obj: Any = None) -> Item:
        return cls(
            "job",
            group=ref.resource_group,
            workspace=ref.workspace,
            experiment=ref.experiment,
            name=ref.name,
            obj=obj,
        )

    @classmethod
    def of_account(cls, group: str, account: str, obj: Any = None) -> Item:
        return cls("account", group=group, account=account, name=account, obj=obj)

    @classmethod
    def of_share(cls, group: str, account: str, share: str, obj: Any = None) -> Item:
        return cls("share", group=group, account=account, share=share, name=share, obj=obj)

    @classmethod
    def of_path(cls, kind: str, group: str, account: str, share: str, path: str, obj: Any = None) -> Item:
        """A folder or file on a share, named by the last part of its path."""
        name = path.rpartition("/")[2]
        return cls(kind, group=group, account=account, share=share, name=name, path=path, obj=obj)

    @classmethod
    def of_output(cls, kind: str, ref: JobRef, output_dir: str, path: str, obj: Any = None) -> Item:
        """A job's output file ("output") or folder ("outdir"), `path` inside its output directory."""
        return cls(
            kind,
            group=ref.resource_group,
            workspace=ref.workspace,
            experiment=ref.experiment,
            name=path.rpartition("/")[2],
            path=path,
            job=ref.name,
            output_dir=output_dir,
            obj=obj,
        )

    @property
    def key(self) -> tuple[str, ...]:
        return (
            self.kind,
            self.group,
            self.workspace,
            self.experiment,
            self.name,
            self.account,
            self.share,
            self.path,
            self.job,
            self.output_dir,
        )

    @property
    def job_ref(self) -> JobRef:
        """The job itself, or the job an output file belongs to."""
        return JobRef(self.group, self.workspace, self.experiment, self.job or self.name)

    @property
    def cluster_ref(self) -> ClusterRef:
        return ClusterRef(self.group, self.workspace, self.name)

    @property
    def experiment_ref(self) -> ExperimentRef:
        return ExperimentRef(self.group, self.workspace, self.experiment or self.name)

    @property
    def expandable(self) -> bool:
        return self.kind in (
            "root", "group", "workspace", "experiment", "job", "outdir", "account", "share", "folder"
        )  # fmt: skip

    @property
    def label(self) -> str:
        """Plain text of the label (what tests and search compare against)."""
        return str(label_of(self))


def path_of(item: Item) -> list[Item]:
    """The items from its resource group down to `item`, for `ResourceTree.reveal`."""
    group = Item.of_group(item.group)
    if item.kind == "group":
        return [group]
    if item.kind in ("workspace", "experiment", "cluster", "job", "output", "outdir"):
        workspace = Item.of_workspace(item.group, item.workspace)
        if item.kind == "workspace":
            return [group, workspace]
        experiment = Item.of_experiment(item.group, item.workspace, item.experiment)
        if item.kind == "job":
            return [group, workspace, experiment, item]
        if item.kind in ("output", "outdir"):
            job = Item.of_job(item.job_ref)
            parts = item.path.split("/")
            folders = [
                Item.of_output("outdir", item.job_ref, item.output_dir, "/".join(parts[:depth]))
                for depth in range(1, len(parts))
            ]
            return [group, workspace, experiment, job, *folders, item]
        return [group, workspace, item]
    account = Item.of_account(item.group, item.account)
    if item.kind == "account":
        return [group, account]
    share = Item.of_share(item.group, item.account, item.share)
    if item.kind == "share":
        return [group, account, share]
    chain = [group, account, share]
    parts = item.path.split("/")
    for depth in range(1, len(parts)):
        chain.append(Item.of_path("folder", item.group, item.account, item.share, "/".join(parts[:depth])))
    chain.append(item)
    return chain


def label_of(item: Item, looks: Looks | None = None) -> Text:
    if item.kind == "job" and item.obj is not None:
        state = ExecutionState(item.obj.execution_state)
        symbol, colour = (looks or JOB_STATE_LOOK).get(state, UNKNOWN_STATE_LOOK)
        text = Text()
        text.append(f"{symbol} ", style=Style(color=colour, bold=True))
        text.append(item.name)
        text.append(f" {state.value}", style=Style(color=colour))
        return text
    if item.kind == "cluster" and item.obj is not None:
        cluster = item.obj
        text = Text()
        text.append("cluster ", style="dim")
        text.append(item.name)
        counts = cluster.node_state_counts
        text.append(f" {cluster.current_node_count}/{cluster.target_node_count} nodes", style="dim")
        if counts.idle_node_count:
            idle = (looks or JOB_STATE_LOOK)[ExecutionState.QUEUED][1]  # the warning colour
            text.append(f" {counts.idle_node_count} idle", style=Style(color=idle))
        return text
    if item.kind in ("file", "output"):
        size = getattr(item.obj, "size", None)
        text = Text(item.name)
        if size is not None:
            text.append(f" {_human(size)}", style="dim")
        modified = getattr(item.obj, "last_modified", None)
        if item.kind == "output" and modified is not None:
            text.append(f" {_when(modified)}", style="dim")
        return text
    tag = KIND_TAG.get(item.kind, "")
    text = Text()
    if tag:
        text.append(f"{tag} ", style="dim")
    text.append(item.name)
    return text


def _when(moment: datetime) -> str:
    """A file's time as `bai job file list` users read it: the time today, else the date and time."""
    local = moment.astimezone() if moment.tzinfo is not None else moment
    if local.date() == datetime.now(local.tzinfo).date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


_human = fmt.size


class ResourceTree(Tree[Item]):
    """Lazy tree of the backend's resources; the app sets `backend` before mounting it."""

    DEFAULT_CSS = """
    ResourceTree { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right", "expand_node", "Expand", show=False, id="tree.expand"),
        Binding("left", "collapse_node", "Collapse", show=False, id="tree.collapse"),
    ]

    def __init__(self, backend: Any, *, id: str | None = None) -> None:
        super().__init__("resources", data=Item("root", name="resources"), id=id)
        self.backend = backend
        self.show_root = False
        self.guide_depth = 2
        self.loading_count = 0

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.reload()

    def looks(self) -> Looks:
        return state_looks(self.app.theme_variables)

    def _theme_changed(self, _theme: Any) -> None:
        """Redraw the labels in the new theme's state colours."""
        looks = self.looks()
        stack = list(self.root.children)
        while stack:
            node = stack.pop()
            if node.data is not None and node.data.kind in ("job", "cluster"):
                node.set_label(label_of(node.data, looks))
            stack.extend(node.children)

    def _cursor_or_first(self) -> TreeNode[Item] | None:
        """The node under the cursor; before the tree has placed its cursor (a frame after the first rows
        are drawn), the first row, which is where the cursor is about to go: a key pressed in between
        (Right at once on a busy machine) acts on what the user sees instead of doing nothing."""
        if self.cursor_node is None and self.root.children:
            self.cursor_line = 0
        return self.cursor_node

    def action_expand_node(self) -> None:
        node = self._cursor_or_first()
        if node is not None and node.allow_expand and not node.is_expanded:
            node.expand()
        elif node is not None and node.children:
            self.move_cursor(node.children[0])

    def action_collapse_node(self) -> None:
        node = self._cursor_or_first()
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    # ------------------------------------------------------------------------------------------ loading

    async def children_of(self, item: Item) -> list[Item]:
        """Ask the backend for what sits under `item` (one level)."""
        backend = self.backend
        if item.kind == "root":
            groups = await backend.groups.list()
            return [Item.of_group(g.name, g) for g in sorted(groups, key=lambda g: g.name)]
        if item.kind == "group":
            workspaces = await backend.workspaces.list(item.group)
            accounts = await backend.storage.list_accounts(item.group)
            return [
                *(Item.of_workspace(item.group, w.name, w) for w in sorted(workspaces, key=lambda w: w.name)),
                *(Item.of_account(item.group, a.name, a) for a in sorted(accounts, key=lambda a: a.name)),
            ]
        if item.kind == "workspace":
            experiments = await backend.experiments.list(item.group, item.workspace)
            clusters = await backend.clusters.list(item.group, item.workspace)
            return [
                *(
                    Item.of_experiment(item.group, item.workspace, e.name, e)
                    for e in sorted(experiments, key=lambda e: e.name)
                ),
                *(
                    Item.of_cluster(item.group, item.workspace, c.name, c)
                    for c in sorted(clusters, key=lambda c: c.name)
                ),
            ]
        if item.kind == "experiment":
            jobs = await backend.jobs.list(item.group, item.workspace, item.experiment)
            jobs.sort(key=lambda j: (j.creation_time is None, j.creation_time or 0, j.name))
            return [Item.of_job(replace(item.job_ref, name=j.name), j) for j in jobs]
        if item.kind in ("job", "outdir"):
            output_dir = item.output_dir or OUTPUT_DIRECTORY
            entries = await backend.jobs.list_output_files(item.job_ref, output_dir, item.path or ".")
            entries.sort(key=lambda e: (not e.is_directory, e.name))
            return [
                Item.of_output(
                    "outdir" if entry.is_directory else "output",
                    item.job_ref,
                    output_dir,
                    f"{item.path}/{entry.name}".strip("/"),
                    entry,
                )
                for entry in entries
            ]
        if item.kind == "account":
            shares = await backend.storage.list_shares(item.account)
            return [
                Item.of_share(item.group, item.account, s.name, s)
                for s in sorted(shares, key=lambda s: s.name)
            ]
        if item.kind in ("share", "folder"):
            entries = await backend.storage.list_files(item.account, item.share, item.path)
            entries.sort(key=lambda e: (not e.is_directory, e.name))
            return [
                Item.of_path(
                    "folder" if entry.is_directory else "file",
                    item.group,
                    item.account,
                    item.share,
                    f"{item.path}/{entry.name}".strip("/"),
                    entry,
                )
                for entry in entries
            ]
        return []

    def _add(self, parent: TreeNode[Item], item: Item) -> TreeNode[Item]:
        return parent.add(label_of(item, self.looks()), data=item, allow_expand=item.expandable)

    async def populate(self, node: TreeNode[Item]) -> None:
        """Replace `node`'s children with what the backend says now."""
        assert node.data is not None
        children = await self.children_of(node.data)
        node.remove_children()
        for child in children:
            self._add(node, child)
        if not children:
            hint = empty_hint(node.data.kind, self.app)
            node.add_leaf(Text(hint, style="dim italic"), data=Item("empty", name=hint))
        node.data.loaded = True

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Item]) -> None:
        item = event.node.data
        if item is not None and not item.loaded and item.kind != "root":
            self._load_node(event.node)

    @work(group="tree-load", exit_on_error=False)
    async def _load_node(self, node: TreeNode[Item]) -> None:
        self.loading_count += 1
        node.remove_children()
        node.add_leaf(Text("loading…", style="dim italic"), data=Item("empty", name="loading…"))
        try:
            await self.populate(node)
        except Exception as error:
            node.remove_children()
            self.app.notify(
                _describe(error, key_of(self.app, "bai.refresh", "r")),
                title="Could not load",
                severity="error",
            )
        finally:
            self.loading_count -= 1

    # ------------------------------------------------------------------------------------------ reload

    def expanded_keys(self) -> set[tuple[str, ...]]:
        keys = set()
        stack = list(self.root.children)
        while stack:
            node = stack.pop()
            if node.is_expanded and node.data is not None:
                keys.add(node.data.key)
                stack.extend(node.children)
        return keys

    def find(self, key: tuple[str, ...]) -> TreeNode[Item] | None:
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node.data is not None and node.data.key == key:
                return node
            stack.extend(node.children)
        return None

    def reload(self, reveal: list[Item] | None = None) -> None:
        """Reload everything that is open, keeping the open nodes and the cursor's resource; with `reveal`
        (a path of items from a group down), open that path and put the cursor on its last item."""
        self._reload(reveal)

    @work(exclusive=True, group="tree-reload", exit_on_error=False)
    async def _reload(self, reveal: list[Item] | None = None) -> None:
        expanded = self.expanded_keys()
        cursor = self.cursor_node.data.key if self.cursor_node and self.cursor_node.data else None
        self.loading_count += 1
        try:
            await self._rebuild(self.root, expanded)
            if reveal and await self.reveal(reveal) is not None:
                return
        except Exception as error:
            self.app.notify(
                _describe(error, key_of(self.app, "bai.refresh", "r")),
                title="Could not refresh",
                severity="error",
            )
        finally:
            self.loading_count -= 1
        if cursor:
            self.call_after_refresh(self._restore_cursor, cursor)
        else:
            self.call_after_refresh(self._cursor_to_first)

    def _cursor_to_first(self) -> None:
        """Start on the first resource, so the arrow keys work from the first key press."""
        if self.cursor_node is None and self.root.children:
            self.move_cursor(self.root.children[0])

    async def _rebuild(self, node: TreeNode[Item], expanded: set[tuple[str, ...]]) -> None:
        await self.populate(node)
        if node is not self.root:
            node.expand()
        for child in list(node.children):
            if child.data is not None and child.data.key in expanded and child.data.expandable:
                await self._rebuild(child, expanded)

    def _restore_cursor(self, key: tuple[str, ...]) -> None:
        node = self.find(key)
        if node is None:
            # The resource under the cursor is gone (deleted): whatever now sits on that line is what is
            # selected, so say so, or the panes go on describing the deleted resource.
            if self.cursor_node is not None:
                self.post_message(Tree.NodeHighlighted(self.cursor_node))
            return
        self.move_cursor(node)

    async def reveal(self, chain: list[Item]) -> TreeNode[Item] | None:
        """Open each item of `chain` in turn (reloading a level lacking it); the cursor ends on the last."""
        node: TreeNode[Item] = self.root
        for item in chain:
            found = next((c for c in node.children if c.data is not None and c.data.key == item.key), None)
            if found is None:
                await self.populate(node)
                found = next(
                    (c for c in node.children if c.data is not None and c.data.key == item.key), None
                )
            if found is None:
                return None
            if item is not chain[-1]:
                if not (found.data and found.data.loaded):
                    await self.populate(found)
                found.expand()
            node = found
        self.call_after_refresh(self._move_and_announce, node)
        self.call_after_refresh(self.scroll_to_node, node)
        return node

    def _move_and_announce(self, node: TreeNode[Item]) -> None:
        """Put the cursor on `node` and say it is highlighted even when the cursor's line did not change.

        Tree only announces a new cursor line; the first group created replaces the "none yet" hint on the
        same line, and the details went on showing the hint.
        """
        line = self.cursor_line
        self.move_cursor(node)
        if self.cursor_line == line and self.cursor_node is node:
            self.post_message(Tree.NodeHighlighted(node))

    def update_item(self, node: TreeNode[Item], obj: Any) -> None:
        """Show a fresher object (a job's new state) on an existing node without reloading its level."""
        if node.data is None:
            return
        node.data = replace(node.data, obj=obj)
        node.set_label(label_of(node.data, self.looks()))


def _describe(error: Exception, refresh: str = "r") -> str:
    from tui.console.wording import error_text
    from tui.core.errors import BaiError

    if isinstance(error, BaiError):
        return error_text(error)  # the console's words: its labels and actions, never a CLI flag
    return f"the backend failed ({type(error).__name__}: {error}); press {refresh} to try again"
