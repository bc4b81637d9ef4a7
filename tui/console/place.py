"""Where the user left the console, per backend, so that reopening it comes back there (re-attach).

Kept in console.json under "places" → backend name: the selected resource (as the tree names it), the tab
shown, and the job whose log the user last opened or submitted ("watched"). On the next start the console
opens the tree down to that resource and brings up that tab; if the watched job is still queued or running,
it is selected instead and its log follows, as after `bai` was closed with a job running (the README's
"reopening it shows the job and re-attaches its log").
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from tui.console import settings
from tui.console.widgets.tree_items import Item
from tui.core.model import JobRef

PLACES = "places"
TABS = ("nodes", "job", "log")
SAVE_DELAY_SECONDS = 0.5
ITEM_FIELDS = tuple(f.name for f in fields(Item) if f.name not in ("obj", "loaded"))


@dataclass
class Place:
    """What to come back to: the selection (None: the tree's first line), the tab, the watched job."""

    item: Item | None = None
    tab: str = "nodes"
    watched: JobRef | None = None


def item_to_json(item: Item) -> dict[str, str]:
    return {name: getattr(item, name) for name in ITEM_FIELDS if getattr(item, name)}


def item_from_json(data: Any) -> Item | None:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return None
    values = {name: str(data.get(name, "")) for name in ITEM_FIELDS}
    if values["kind"] in ("root", "empty") or not values["group"]:
        return None
    return Item(**values)


def load_place(backend_name: str) -> Place:
    """The place saved for `backend_name`; an empty `Place` when none (or a broken one) was saved."""
    places = settings.load_settings().get(PLACES)
    data = places.get(backend_name) if isinstance(places, dict) else None
    if not isinstance(data, dict):
        return Place()
    tab = data.get("tab") if data.get("tab") in TABS else "nodes"
    return Place(item_from_json(data.get("item")), str(tab), job_from_json(data.get("watched")))


def job_from_json(data: Any) -> JobRef | None:
    names = [f.name for f in fields(JobRef)]
    if not isinstance(data, dict) or not all(
        isinstance(data.get(name), str) and data[name] for name in names
    ):
        return None
    return JobRef(**{name: data[name] for name in names})


def save_place(backend_name: str, place: Place) -> None:
    """Remember `place` for `backend_name` (other backends' places are kept); never fails the console."""
    places = settings.load_settings().get(PLACES)
    places = dict(places) if isinstance(places, dict) else {}
    places[backend_name] = {
        "item": item_to_json(place.item) if place.item is not None else None,
        "tab": place.tab,
        "watched": asdict(place.watched) if place.watched is not None else None,
    }
    settings.save_setting(PLACES, places)


class Reattach:
    """The main screen's memory of the user's place: kept as they move, saved soon after, restored at start.

    A mixin of `MainScreen`, which provides the tree, the tabs, the backend and `open_log`.
    """

    if TYPE_CHECKING:
        from textual.timer import Timer

        from tui.console.widgets.resource_tree import ResourceTree

        backend: Any
        job_path: Any
        open_job_ref: Any
        pane_tabs: Any
        place_timer: Timer | None

        @property
        def tree(self) -> ResourceTree: ...
        @property
        def app(self) -> Any: ...
        def open_log(self, item: Item) -> None: ...
        def show_tab(self, tab: str) -> None: ...
        def set_timer(self, delay: float, callback: Any) -> Timer: ...

    watched: JobRef | None = None
    restoring = True  # until the saved place is back: the tree's first highlights are not the user's
    tab_chosen = False  # a tab brought up while restoring (a key, a job's log opened): the saved one waits

    def place_now(self) -> Place:
        node = self.tree.cursor_node
        item = node.data if node is not None else None
        if item is not None and item.kind in ("root", "empty"):
            item = None
        return Place(item, str(self.pane_tabs.active or "nodes"), self.watched)

    def remember_place(self) -> None:
        """Save where the user is, half a second after they stop moving (one write, not one per key)."""
        if self.restoring:
            return
        timer = getattr(self, "place_timer", None)
        if timer is not None:
            timer.stop()
        self.place_timer = self.set_timer(SAVE_DELAY_SECONDS, self.save_place_now)

    def save_place_now(self) -> None:
        timer = getattr(self, "place_timer", None)
        if timer is not None:
            timer.stop()
            self.place_timer = None
        if self.restoring:
            return
        with contextlib.suppress(Exception):  # also while the console closes: never in the way of quitting
            save_place(self.app.backend_name, self.place_now())

    async def reattach(self) -> None:
        """Come back to the saved place: the watched job while it still runs (its log following), else the
        selected resource and tab. Whatever cannot be found any more is skipped, silently."""
        import asyncio

        from tui.console.widgets.tree_items import path_of

        place = load_place(self.app.backend_name)
        try:
            tree = self.tree
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 15.0
            while (tree.loading_count or not tree.root.children) and loop.time() < deadline:
                await asyncio.sleep(0.05)  # the tree's first level loads first; a reveal then adds to it
            job = None
            if place.watched is not None:
                try:
                    job = await self.backend.jobs.get(place.watched)
                except Exception:
                    job = None  # deleted since, or the backend cannot say: the plain place is enough
            if job is not None and not job.execution_state.is_final:
                self.watched = place.watched
                node = await tree.reveal(path_of(Item.of_job(place.watched, job)))
                if node is not None and node.data is not None:
                    self.open_log(node.data)
                return
            if place.item is not None:
                await tree.reveal(path_of(place.item))
            # A job.json given on the command line brings up the form instead; a tab the user chose while
            # the tree loaded (3 for the log at once) stays.
            if self.job_path is None and not self.tab_chosen:
                self.show_tab(place.tab)
        finally:
            self.restoring = False
