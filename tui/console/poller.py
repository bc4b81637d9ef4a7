"""The console's one poller: a worker that refreshes what is in view and posts it for the panes to render.

Every few seconds (and at once after a change or a new selection) it asks `tui.backends.refresh` for the
cluster list of the workspace the node table shows and the state of every unfinished job the tree shows, all
concurrently and each under a deadline, so one slow answer holds up nothing else. It posts one `Polled`
message per round; a round still queued when the next one arrives is replaced by it (Textual's
`can_replace`), so a busy screen never renders stale rounds one after another. The node table, the tree's
job labels and the open log's state render what they are given; none of them calls the backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.widgets.tree import TreeNode

from tui.backends.refresh import Snapshot, Workspace, refresh
from tui.console.widgets.tree_items import Item
from tui.core.model import JobRef

DEADLINE_SECONDS = 10.0  # the longest one round waits for any single answer


@dataclass(frozen=True)
class View:
    """What the user can see that may change by itself: a workspace's clusters, unfinished jobs."""

    workspace: Workspace | None
    jobs: tuple[JobRef, ...]


class Polled(Message):
    """One round's answers, for the view they were asked for."""

    def __init__(self, view: View, snapshot: Snapshot) -> None:
        super().__init__()
        self.view = view
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        """A newer round makes this one, still queued, worthless: only the newest is rendered."""
        return isinstance(message, Polled)


class Poller:
    """Runs the rounds in one exclusive worker of `screen`; `view` says what to ask for each round."""

    def __init__(self, screen: Any, view: Callable[[], View], seconds: float) -> None:
        self.screen = screen
        self.view = view
        self.seconds = seconds
        self.rounds = 0

    def start(self) -> None:
        """Poll now and then every `seconds` (a running loop is replaced: exclusive worker)."""
        self.screen.run_worker(self.loop(), group="poller", exclusive=True, exit_on_error=False)

    poll_now = start

    async def loop(self) -> None:
        while True:
            view = self.view()
            if view.workspace is not None or view.jobs:
                snapshot = await refresh(
                    self.screen.backend,
                    jobs=view.jobs,
                    workspaces=[view.workspace] if view.workspace is not None else [],
                    timeout=DEADLINE_SECONDS,
                )
                self.rounds += 1
                self.screen.post_message(Polled(view, snapshot))
            await asyncio.sleep(self.seconds)


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


def unfinished_jobs(root: TreeNode[Item]) -> tuple[JobRef, ...]:
    """The refs of the jobs in view whose state may still move (not succeeded, failed...)."""
    refs = []
    for node in jobs_in_view(root):
        item = node.data
        if item is not None and item.obj is not None and not item.obj.execution_state.is_final:
            refs.append(item.job_ref)
    return tuple(refs)
