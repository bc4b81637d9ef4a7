"""The resource tree: groups > workspaces > experiments > jobs > output files, clusters, storage > shares >
folders > files.

Children load when a node is first expanded (a backend call each), and `reload` rebuilds what was open and
puts the cursor back on the same resource, so refreshing never loses the user's place. Job states are shown
by a symbol and a word as well as a colour, so they read on a 16-colour or colourless terminal (those
labels, and the `Item` each node stands for, are in `tree_items`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.console.widgets.keys import key_of
from tui.console.widgets.tree_items import (
    OUTPUT_DIRECTORY,
    Item,
    Looks,
    empty_hint,
    label_of,
    state_looks,
)


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
