"""The console's job-state poller: moves job labels along queued -> running -> succeeded/failed.

Every few seconds it reads the state of each job shown in the tree (expanded experiments only) that is not
final yet, and updates the tree's label, the details of the selected job, and the open log's title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets.tree import TreeNode

from tui.console.widgets.resource_tree import Item

if TYPE_CHECKING:
    from tui.console.main_screen import MainScreen


def jobs_in_view(root: TreeNode[Item]) -> list[TreeNode[Item]]:
    """The tree's job nodes under expanded parents: the jobs a user can see."""
    stack = list(root.children)
    jobs: list[TreeNode[Item]] = []
    while stack:
        node = stack.pop()
        if node.data is not None and node.data.kind == "job":
            jobs.append(node)
        elif node.is_expanded:
            stack.extend(node.children)
    return jobs


async def refresh_job_states(screen: MainScreen) -> None:
    """Read each unfinished job in view once and show any state that moved."""
    tree = screen.tree
    for node in jobs_in_view(tree.root):
        item = node.data
        if item is None or item.obj is None:
            continue
        if item.obj.execution_state.is_final:
            # A reload (after t, say) may have brought the final state before this poll saw it.
            if screen.open_job_ref == item.job_ref:
                screen.live_log.set_state(item.obj.execution_state.value)
            continue
        try:
            job = await screen.backend.jobs.get(item.job_ref)
        except Exception:
            continue  # a vanished job shows up on the next refresh
        if job.execution_state != item.obj.execution_state:
            tree.update_item(node, job)
            if node is tree.cursor_node and node.data is not None:
                screen.show_details(node.data)
        if screen.open_job_ref == item.job_ref:
            screen.live_log.set_state(job.execution_state.value)
