#!/usr/bin/env python
"""Key-press latency of the console while 8 workers each write 20 progress updates a second into the live log.

    .venv/bin/python bench/console_keypress.py [--seconds 20] [--workers 8] [--rate 20]

Target: p99 <= 50 ms. The app runs headless (Textual's own test driver, so the full message loop,
layout and compositor run; only the bytes to a terminal are skipped) on a temporary local backend with the
tutorial's resources. The live log is fed horovodrun-style Keras progress output (see console_workload.py)
at workers x rate updates a second through the real parser, while a key press is sent every 50 ms: down and
up in the resource tree, and 3 / 1 to switch to the busy log tab and back. Latency is from posting the key
event until the screen has been refreshed
after the key's action ran (`call_after_refresh`), i.e. the key is answered on screen.

The machine may be shared: next to the wall-clock figures it prints the load average and the process's CPU
time, per key press (from the key event to the painted answer) and in all while streaming (the share of one
core the console and its simulated workers used), which other processes' load changes much less.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_workload import make_home, workers  # noqa: E402

# Before Textual, as `bai` imports it: the console's settings for Textual (TEXTUAL_FPS) are made there.
import tui.console  # noqa: E402,F401


async def main(seconds: float, ranks: int, rate: float) -> None:
    await make_home()
    from textual import events

    from tui.backends import open_backend
    from tui.console.app import BaiApp
    from tui.console.main_screen import MainScreen
    from tui.console.widgets.live_log import LiveLog
    from tui.console.widgets.resource_tree import ResourceTree

    app = BaiApp(open_backend("local"), remember_theme=False)
    latencies: list[float] = []
    cpu_times: list[float] = []
    by_key: dict[str, list[float]] = {}
    answered = asyncio.Event()
    sent_at = sent_cpu = 0.0
    full_collections: list[float] = []  # the cyclic GC's full passes while keys are sent, in seconds
    gc_started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif gc_started[0]:
            full_collections.append(time.perf_counter() - gc_started[0])

    def painted() -> None:
        latencies.append(time.perf_counter() - sent_at)
        cpu_times.append(time.process_time() - sent_cpu)
        answered.set()

    for owner, name in (
        (ResourceTree, "action_cursor_down"),
        (ResourceTree, "action_cursor_up"),
        (MainScreen, "action_show_tab"),
    ):
        original = getattr(owner, name)

        def timed(self, *args, _original=original) -> None:  # type: ignore[no-untyped-def]
            _original(self, *args)
            self.app.call_after_refresh(painted)

        setattr(owner, name, timed)

    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(ResourceTree)
        while not tree.root.children:
            await pilot.pause(0.05)
        await pilot.press("right")
        await pilot.pause(0.5)
        log = app.query_one(LiveLog)

        def source(name: str):  # type: ignore[no-untyped-def]
            return workers(ranks, rate, seconds + 6) if name == "stdout.txt" else workers(0, 1, 0)

        log.open_source(source, "job bench", "running")
        await pilot.press("3")  # the log shown: what the stream alone costs, and what a key waits behind
        await pilot.pause(1.0)  # the stream is flowing
        quiet_start, quiet_cpu = time.perf_counter(), time.process_time()
        await pilot.pause(3.0)
        streaming = (time.process_time() - quiet_cpu) / (time.perf_counter() - quiet_start)
        await pilot.press("1")
        await pilot.pause(0.3)
        latencies.clear()  # those two keys were the bench's own
        cpu_times.clear()
        gc.callbacks.append(on_gc)
        start, start_cpu, load_before = time.perf_counter(), time.process_time(), os.getloadavg()[0]
        keys = ("down", "3", "up", "1")  # tree cursor, and switching to/from the busy log tab
        presses = 0
        while time.perf_counter() - start < seconds:
            key = keys[presses % len(keys)]
            presses += 1
            answered.clear()
            sent_at, sent_cpu = time.perf_counter(), time.process_time()
            app.post_message(events.Key(key, key if len(key) == 1 else None))
            try:
                await asyncio.wait_for(answered.wait(), 5)
            except TimeoutError:
                latencies.append(5.0)
            by_key.setdefault(key, []).append(latencies[-1])
            await asyncio.sleep(0.05)
        busy = (time.process_time() - start_cpu) / (time.perf_counter() - start)
        gc.callbacks.remove(on_gc)
        updates = sum(rank.step or 0 for rank in log.stream.ranks.values())
        rows = len(log.query_one("#progress").row_texts())

    def p99(values: list[float]) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * 0.99))] * 1000

    groups = {
        "tree cursor (down/up)": by_key.get("down", []) + by_key.get("up", []),
        "tab switch (3/1)": by_key.get("3", []) + by_key.get("1", []),
    }
    for label, values in groups.items():
        print(
            f"  {label}: p50 {statistics.median(values) * 1000:.1f} ms, p99 {p99(values):.1f} ms, "
            f"max {max(values) * 1000:.1f} ms ({len(values)} presses)"
        )
    cpu_times.sort()
    print(
        f"CPU time per key press: p50 {statistics.median(cpu_times) * 1000:.1f} ms, "
        f"p99 {p99(cpu_times):.1f} ms"
    )
    print(
        f"CPU while streaming: {streaming * 100:.0f}% of a core with the log shown and no keys, "
        f"{busy * 100:.0f}% with the keys; load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    if full_collections:
        print(
            f"full GC collections: {len(full_collections)}, mean "
            f"{statistics.mean(full_collections) * 1000:.1f} ms, max {max(full_collections) * 1000:.1f} ms"
        )
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(
        f"{ranks} workers x {rate:g} updates/s for {seconds:g} s ({rows} progress rows, "
        f"{updates} steps parsed); {len(latencies)} key presses"
    )
    print(
        f"key press -> answered on screen: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms (target p99 <= 50 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="key latency under a busy live log")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rate", type=float, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.workers, args.rate))
