"""What the resource tree's nodes stand for and how they read: `Item` (a resource, one constructor a kind),
`path_of` (the items from a group down to one), `label_of` (a node's label, job states by symbol, word and
theme colour) and the hints an empty level shows.

Kept apart from the `ResourceTree` widget: the console's actions, the poller and the place memory name
resources with `Item` and `path_of` without needing the widget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text

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
