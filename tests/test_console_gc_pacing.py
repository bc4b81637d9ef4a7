"""The cyclic GC's full collections run after a key's answer is painted, never inside the key (issue 12).

Answering a key allocates more than anything else the console does, so the interpreter's own trigger
started full collections (10-16 ms each while workers stream) inside key presses; the console now runs
them itself once due, just after the answer is on screen, or from a timer when no key comes.
"""

from __future__ import annotations

import gc
from typing import Any

from tests import test_console as base
from tests.test_console import make_app, until
from tui.console.main_screen import MainScreen

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


async def test_a_due_full_collection_runs_once_the_keys_answer_is_painted(backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    before = gc.get_threshold()
    app = make_app(backend)
    seen: list[str] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append("full collection")

    original = MainScreen.action_show_tab

    def show_tab(self: MainScreen, tab: str) -> None:
        # The key comes when a full collection is due: as many collections of the middle generation since
        # the last full one as the interpreter's threshold. Its trigger would start one at the next young
        # collection, which the key's own layout and render bring about.
        for _ in range(before[2] + 1):
            gc.collect(1)
        original(self, tab)
        self.app.call_after_refresh(lambda: seen.append("painted"))

    monkeypatch.setattr(MainScreen, "action_show_tab", show_tab)
    async with app.run_test(size=base.SIZE) as pilot:
        await until(pilot, lambda: app.gc_pacer.pacing, timeout=30, what="the console up, its heap frozen")
        # and the Azure SDK's models too (`gc.freeze` sets the collections' counts back to 0)
        await until(
            pilot, lambda: not [w for w in app.workers if w.group == "gc-freeze" and not w.is_finished]
        )
        gc.callbacks.append(on_gc)
        try:
            await pilot.press("3")
            await until(pilot, lambda: "full collection" in seen, timeout=30, what="the due full collection")
        finally:
            gc.callbacks.remove(on_gc)
        assert seen[:2] == ["painted", "full collection"], seen
    assert gc.get_threshold() == before  # given back when the console ends: the process goes on as it was
