"""Switching tabs (1, 2, 3) repaints what changes, not the frame around the panes (issue 12, key latency).

Textual's TabbedContent repainted its whole area at every switch (its `active` asks for a repaint), though
it looks no different after it (the frame is the same border and background around the panes): 26 lines at
100x30, a tenth of a tab switch's CPU while workers stream into the log.
The user sees the same: the chosen tab's pane, its label marked, the others hidden.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from textual.strip import Strip
from textual.widgets import ContentSwitcher, Tabs

from tests import test_console as base
from tests.test_console import make_app, until
from tui.console.main_screen import MainScreen
from tui.console.panes import ConsoleTabs

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


def count_painted_lines(monkeypatch: pytest.MonkeyPatch, *classes: type) -> Counter[str]:
    """Count the lines each of `classes` paints (Textual calls `render_line` only for lines not cached)."""
    painted: Counter[str] = Counter()
    for cls in classes:
        original = cls.render_line

        def render_line(self: Any, y: int, _original: Any = original, _name: str = cls.__name__) -> Strip:
            painted[_name] += 1
            return _original(self, y)

        monkeypatch.setattr(cls, "render_line", render_line)
    return painted


def shown_tab(screen: MainScreen) -> tuple[str, list[str]]:
    """The marked tab's id and the ids of the panes on screen."""
    tabs = screen.pane_tabs
    active = tabs.query_one(Tabs).active_tab
    panes = [pane.id or "" for pane in tabs.query_one(ContentSwitcher).children if pane.display]
    return (active.id or "") if active is not None else "", panes


async def test_a_tab_switch_shows_the_pane_without_repainting_the_frame(backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=base.SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.pause(0.3)
        painted = count_painted_lines(monkeypatch, ConsoleTabs, Tabs)
        for key, tab in (("3", "log"), ("1", "nodes"), ("2", "job"), ("1", "nodes")):
            painted.clear()
            await pilot.press(key)
            await until(pilot, lambda tab=tab: shown_tab(screen)[1] == [tab], what=f"the {tab} pane")
            await pilot.pause(0.1)  # painted
            assert shown_tab(screen) == (f"--content-tab-{tab}", [tab])
            assert screen.pane_tabs.active == tab
            # The tab row shows the change; the frame's border and background are reused as they were.
            assert painted["Tabs"] > 0, painted
            assert painted["ConsoleTabs"] == 0, painted


async def test_a_tab_chosen_while_the_console_starts_is_not_taken_back_by_the_saved_place(
    backend, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The saved place (tree selection and tab) comes back once the tree has loaded; a tab the user chose
    before that (3, to see the log at once) stays: it used to be switched back to the saved tab."""
    from tui.console.place import Place, save_place

    save_place("local", Place(None, "job", None))
    loaded = asyncio.Event()
    groups = backend.groups
    original = groups.list

    async def slow_list(*args: Any, **kwargs: Any) -> Any:
        await loaded.wait()  # the first level of the tree comes once the user has pressed 3
        return await original(*args, **kwargs)

    monkeypatch.setattr(groups, "list", slow_list)
    app = make_app(backend)
    async with app.run_test(size=base.SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: app.main.pane_tabs.active == "log", what="the log tab")
        loaded.set()
        await until(pilot, lambda: not app.main.restoring, timeout=30, what="the saved place back")
        await until(pilot, lambda: app.tree.root.children, what="the tree")
        await pilot.pause(0.2)
        assert app.main.pane_tabs.active == "log"
        assert shown_tab(app.main)[1] == ["log"]
