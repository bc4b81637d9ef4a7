"""The cyclic GC's older collections run after a key's answer is painted, never inside the key (issue 12).

Answering a key allocates more than anything else the console does, so the interpreter's own trigger
started the collections of the middle generation (2-4 ms) and the full ones (10-16 ms while workers stream)
inside key presses; the console now runs them itself once due, just after the answer is on screen, or from
a timer when no key comes.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

from tests import test_console as base
from tests.test_console import make_app, until
from tui.console.main_screen import MainScreen

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


@pytest.mark.parametrize("generation", [1, 2])
async def test_a_due_collection_runs_once_the_keys_answer_is_painted(
    backend, monkeypatch, generation
) -> None:  # type: ignore[no-untyped-def]
    before = gc.get_threshold()
    app = make_app(backend)
    seen: list[str] = []
    making_due = [False]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] >= 1 and not making_due[0]:
            seen.append(f"collection of generation {info['generation']}")

    original = MainScreen.action_show_tab

    def show_tab(self: MainScreen, tab: str) -> None:
        # The key comes when a collection of `generation` is due: the one below it was collected more
        # times than the interpreter's threshold. Its own trigger would start it at the next collection of
        # the youngest generation, which the key's layout and render bring about.
        making_due[0] = True
        for _ in range(before[generation] + 1):
            gc.collect(generation - 1)
        making_due[0] = False
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
            await until(pilot, lambda: len(seen) >= 2, timeout=30, what="the due collection")
        finally:
            gc.callbacks.remove(on_gc)
        assert seen[:2] == ["painted", f"collection of generation {generation}"], seen
    assert gc.get_threshold() == before  # given back when the console ends: the process goes on as it was


def test_keys_that_run_no_action_do_not_hold_collections_back_for_long(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Typing into a field runs no action, so no answer collects after it; the timer does, at the latest
    MAX_WAIT_SECONDS after a collection fell due, even while keys keep coming."""
    from tui.console import gc_pacing

    class NoTimers:
        def set_interval(self, *args: Any, **kwargs: Any) -> None:
            pass

    clock = [1000.0]
    monkeypatch.setattr(gc_pacing.time, "monotonic", lambda: clock[0])
    pacer = gc_pacing.GcPacer()
    before = gc.get_threshold()
    pacer.start(NoTimers())
    try:
        gc.collect()  # every count back to 0
        for _ in range(before[1] + 1):
            gc.collect(0)  # the middle generation falls due
        pacer.key_came()
        pacer.collect_when_idle()
        assert pacer.collections[1] == 0  # a key just came: its answer would collect
        clock[0] += gc_pacing.MAX_WAIT_SECONDS / 2
        pacer.key_came()
        pacer.collect_when_idle()
        assert pacer.collections[1] == 0
        clock[0] += gc_pacing.MAX_WAIT_SECONDS / 2
        pacer.key_came()  # keys still coming, none answered by an action
        pacer.collect_when_idle()
        assert pacer.collections[1] == 1 and pacer.due() is None
    finally:
        pacer.stop()
    assert gc.get_threshold() == before
