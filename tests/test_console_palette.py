"""The command palette under fast keys (issue 10 item 4): `tmux send-keys C-p Enter Enter` on an empty
BAI_HOME ended the console with ScreenStackError. Keys sent at once arrive before the palette has closed: the
second Enter was handled by the palette after the first had already closed it, which closed it again (and
popped the console's own screen, which is not allowed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual import events
from textual.command import CommandPalette

from tests import test_console as base
from tests.test_console import SIZE, make_app, notices, until
from tui.backends import open_backend
from tui.console.main_screen import MainScreen

home = base.home  # the fixture: a temporary, empty BAI_HOME


@pytest.fixture
async def empty(home: Path) -> AsyncIterator[object]:
    backend = open_backend("local")
    yield backend
    await backend.close()


def burst(app, *keys: tuple[str, str | None]) -> None:  # type: ignore[no-untyped-def]
    """Keys as a terminal delivers them when sent at once: all queued before any is handled."""
    for key, character in keys:
        app.post_message(events.Key(key, character))


@pytest.mark.parametrize("turns", [0, 1, 2, 5])
async def test_a_fast_double_enter_in_the_palette_runs_one_command_and_the_console_stays(
    empty, turns: int
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(empty)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        burst(app, ("ctrl+p", None))
        for _ in range(turns):
            await asyncio.sleep(0)
        burst(app, ("enter", "\r"), ("enter", "\r"))
        await until(pilot, lambda: not CommandPalette.is_open(app), 30, "the palette to close")
        await pilot.pause(0.5)
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen_stack[0], MainScreen) and len(app.screen_stack) <= 2
        assert notices(app).count("Refreshing…") <= 1  # the command chosen ran once at most
    assert app.return_code in (None, 0)


async def test_a_paste_outside_a_text_field_never_runs_as_hotkeys(empty) -> None:  # type: ignore[no-untyped-def]
    """Issue 10 item 10: a terminal that does not mark a paste (tmux paste-buffer without -p, a serial line)
    delivers it as keys, all in one read. 100 KB of text with g, w, d, q in it opened dialogs, typed into
    them and could quit. Keys that arrive together like that are a paste: outside a text field it is dropped
    (and the user told), however long."""
    app = make_app(empty)
    text = "hello gwq dz 0 " * 400
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        burst(app, *((char if char != " " else "space", char) for char in text))
        await pilot.pause(1.0)
        assert app.is_running and app.return_code is None
        assert len(app.screen_stack) == 1  # no dialog opened by a pasted letter
        assert any("paste" in notice.lower() for notice in notices(app))
        await pilot.press("g")  # a key typed on its own is still a hotkey
        await until(pilot, lambda: len(app.screen_stack) == 2, 30, "g's dialog")
        burst(app, *((char, char) for char in "pasted-group"))  # a paste into a text field is text
        await until(pilot, lambda: "pasted-group" in app.focused.value, 30, "the pasted name")  # type: ignore[union-attr]
    assert app.return_code in (None, 0)
