"""The console's one table of actions: key, binding id, palette title and help, and help group for each.

The main screen's key bindings, the command palette's entries and the grouped key list are all generated
from `ACTIONS`, so none of them can drift from the others. Each binding has an id (`bai.<name>`) a user can
remap in console.json's `"keymap"` (`{"bai.refresh": "f5"}`). An action runs on the main screen unless its
name says otherwise (`app.quit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

# The help groups, in the order a key list shows them.
GROUPS = ("Resources", "Storage", "Jobs", "Log", "View", "Console")
KEY_NAMES = {"slash": "/", "question_mark": "?", "escape": "Esc"}


@dataclass(frozen=True)
class ActionSpec:
    """One console action: its key, its binding id (for keymaps), its palette title and help, its group."""

    name: str
    key: str
    action: str
    title: str
    help: str
    group: str
    show: bool = True
    footer: str = ""  # a shorter word for the footer, which must fit 80 columns with ? and q

    @property
    def footer_label(self) -> str:
        return self.footer or self.title.split(" /")[0]

    @property
    def binding_id(self) -> str:
        return f"bai.{self.name}"

    @property
    def key_label(self) -> str:
        """The default key as a user types it (`/`, not `slash`)."""
        return KEY_NAMES.get(self.key, self.key)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "refresh",
        "r",
        "refresh",
        "Refresh",
        "Reload the tree (keeping the selection) and the node table",
        "View",
    ),
    ActionSpec(
        "new_group", "g", "create_group", "Create resource group", "az group create", "Resources", show=False
    ),
    ActionSpec(
        "new_workspace",
        "w",
        "create_workspace",
        "Create workspace",
        "az batchai workspace create",
        "Resources",
        show=False,
    ),
    ActionSpec(
        "new_experiment",
        "e",
        "create_experiment",
        "Create experiment",
        "az batchai experiment create",
        "Resources",
        show=False,
    ),
    ActionSpec(
        "new_cluster",
        "c",
        "create_cluster",
        "Create cluster",
        "az batchai cluster create",
        "Resources",
        show=False,
    ),
    ActionSpec(
        "new_storage",
        "a",
        "create_storage_account",
        "Create storage account",
        "az storage account create",
        "Storage",
        show=False,
    ),
    ActionSpec(
        "new_share",
        "h",
        "create_share",
        "Create file share",
        "az storage share create",
        "Storage",
        show=False,
    ),
    ActionSpec(
        "new_folder",
        "n",
        "create_folder",
        "Create folder on share",
        "az storage directory create",
        "Storage",
        show=False,
    ),
    ActionSpec(
        "upload",
        "u",
        "upload",
        "Upload to share",
        "az storage file upload (a file or a folder)",
        "Storage",
        footer="Upload",
    ),
    ActionSpec(
        "download",
        "f",
        "download",
        "Download a file",
        "az storage file download / az batchai job file download",
        "Storage",
        show=False,
    ),
    ActionSpec(
        "resize",
        "z",
        "resize",
        "Resize cluster",
        "az batchai cluster resize --target N",
        "Resources",
        show=False,
        footer="Resize",
    ),
    ActionSpec(
        "scale_zero",
        "0",
        "scale_to_zero",
        "Scale cluster to 0",
        "az batchai cluster resize --target 0: stop paying for idle nodes",
        "Resources",
        footer="Scale to 0",
    ),
    ActionSpec(
        "open_job",
        "o",
        "open_job_file",
        "Open job.json",
        "Load a job.json into the job form",
        "Jobs",
        show=False,
    ),
    ActionSpec(
        "save_job",
        "v",
        "save_job_file",
        "Save job.json",
        "Write the edited job form back to job.json",
        "Jobs",
        show=False,
    ),
    ActionSpec(
        "submit",
        "s",
        "submit",
        "Submit job",
        "az batchai job create with the job form",
        "Jobs",
        footer="Submit",
    ),
    ActionSpec(
        "terminate", "t", "terminate", "Terminate job", "az batchai job terminate", "Jobs", show=False
    ),
    ActionSpec(
        "compare",
        "k",
        "compare_runs",
        "Compare runs",
        "The selected experiment's jobs side by side: accuracy, epochs, duration, curves",
        "Jobs",
        show=False,
    ),
    ActionSpec(
        "delete",
        "d",
        "delete",
        "Delete selected",
        "Delete the selected resource (asks first)",
        "Resources",
        footer="Delete",
    ),
    ActionSpec(
        "follow",
        "p",
        "toggle_follow",
        "Follow / pause log",
        "Stop or resume scrolling the live log",
        "Log",
        show=False,
        footer="Follow/pause",
    ),
    ActionSpec("search", "slash", "search_log", "Search log", "Find text in the live log", "Log", show=False),
    ActionSpec(
        "stderr",
        "x",
        "toggle_stderr",
        "Show stderr.txt / stdout.txt",
        "Switch the log's file",
        "Log",
        show=False,
        footer="stderr",
    ),
    ActionSpec(
        "backend",
        "b",
        "switch_backend",
        "Switch backend",
        "Show the next backend (local / batchai / azureml / ssh)",
        "Console",
        show=False,
    ),
    ActionSpec(
        "theme",
        "m",
        "app.next_theme",
        "Next theme",
        "Cycle dark / light / high-contrast (remembered)",
        "Console",
        show=False,
    ),
    ActionSpec(
        "tab_nodes",
        "1",
        "show_tab('nodes')",
        "Show node table",
        "The cluster node-state table",
        "View",
        show=False,
    ),
    ActionSpec("tab_job", "2", "show_tab('job')", "Show job form", "The job.json form", "View", show=False),
    ActionSpec(
        "tab_log", "3", "show_tab('log')", "Show live log", "The selected job's live log", "View", show=False
    ),
    ActionSpec(
        "back",
        "escape",
        "back",
        "Back / to the tree",
        "One level back (out of a search, a field, a pane), and finally to the tree",
        "View",
        footer="Tree",
    ),
    ActionSpec(
        "help",
        "question_mark",
        "toggle_help",
        "Show keys",
        "Show or hide this list of every key, with its id for console.json's keymap",
        "Console",
        footer="Keys",
    ),
    ActionSpec("quit", "q", "app.quit", "Quit", "Leave the console (jobs keep running)", "Console"),
)


# The keys each pane's footer shows while that pane has the keyboard; `EVERYWHERE`'s show in every footer.
# Every key works from every pane (where no text field takes it): this only chooses what the footer,
# which fits about eight keys at 80 columns, spends its room on.
PANE_KEYS: dict[str, tuple[str, ...]] = {
    "tree": tuple(spec.name for spec in ACTIONS if spec.show and spec.name not in ("back", "help", "quit")),
    "nodes": ("resize", "scale_zero", "refresh"),
    "job": ("submit", "save_job", "open_job"),
    "log": ("follow", "search", "stderr"),
}
EVERYWHERE = ("back", "help", "quit")


def action_on(spec: ActionSpec, namespace: str) -> str:
    """The spec's action addressed from a pane: to the screen unless it already names its target."""
    return spec.action if spec.action.startswith(("app.", "screen.")) else f"{namespace}.{spec.action}"


def bindings() -> list[Binding]:
    """The main screen's key bindings, one per action, each with its remappable id; the footer shows only
    `EVERYWHERE`'s from here, each pane adds its own (see `pane_bindings`)."""
    return [
        Binding(spec.key, spec.action, spec.footer_label, show=spec.name in EVERYWHERE, id=spec.binding_id)
        for spec in ACTIONS
    ]


def pane_bindings(pane: str) -> list[Binding]:
    """The keys a pane's footer shows (`PANE_KEYS`): the screen's actions under the same ids, so a keymap
    moves them together."""
    names = PANE_KEYS[pane]
    return [
        Binding(spec.key, action_on(spec, "screen"), spec.footer_label, id=spec.binding_id)
        for name in names
        for spec in ACTIONS
        if spec.name == name
    ]


def key_for(binding_id: str, keymap: dict[str, str]) -> str:
    """The key now bound to `binding_id`: the user's remap when there is one, else the table's key."""
    if binding_id in keymap:
        return keymap[binding_id]
    spec = next((spec for spec in ACTIONS if spec.binding_id == binding_id), None)
    return spec.key_label if spec else ""


def palette_entries(keymap: dict[str, str]) -> list[tuple[str, str, str]]:
    """(title, action, help) for each action, the help ending with the key that runs it."""
    out = []
    for spec in ACTIONS:
        key = key_for(spec.binding_id, keymap)
        out.append((spec.title, spec.action, f"{spec.help}  [key: {key}]" if key else spec.help))
    return out


# Keys that are not actions of the table (no id to remap): how to move around, listed first by `?`.
MOVE_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓ ← →", "move in the tree; → opens a level, ← closes it"),
    ("Enter", "open the selected job's live log"),
    ("Tab / Shift+Tab", "next / previous pane (tree, then the tab's table, form or log)"),
    ("Ctrl+P", "command palette: every action by name"),
)


def help_groups(keymap: dict[str, str]) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every action's (key, title, binding id), grouped as `GROUPS` orders them after the moving keys:
    the console's whole key list, as `?` shows it."""
    moving = [(key, what, "") for key, what in MOVE_KEYS]
    return [("Move", moving)] + [
        (
            group,
            [
                (key_for(spec.binding_id, keymap), spec.title, spec.binding_id)
                for spec in ACTIONS
                if spec.group == group
            ],
        )
        for group in GROUPS
    ]
