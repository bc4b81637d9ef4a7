#!/usr/bin/env python
"""Memory of the console after streaming a 1 GB training log through the live log.

    .venv/bin/python bench/console_memory.py [--size-mb 1024]

Target: under 200 MB resident. The app runs headless on a temporary local backend; its live log is fed,
in 1 MiB chunks as fast as the parser takes them, the recorded real output of `horovodrun -np 4` running our
trainer (tests/data/logs/np4-verbose1.log: Keras progress bars with their \\r and \\b runs, epoch ends,
checkpoints, warnings) repeated up to --size-mb. Prints the process's resident memory before the stream,
after it (VmRSS) and at its peak (VmHWM), with the lines kept on screen: the Log widget's line limit and the
parser's per-rank limit keep memory flat however long the job runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_workload import make_home  # noqa: E402

SOURCE = ROOT / "tests" / "data" / "logs" / "np4-verbose1.log"


def memory_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(size_mb: int) -> None:
    await make_home()
    from tui.backends import open_backend
    from tui.console.app import BaiApp
    from tui.console.widgets.live_log import LiveLog

    run = SOURCE.read_bytes()
    chunk = (run * (2 * (1 << 20) // len(run) + 1))[: 1 << 20]  # whole 1 MiB slices of the repeated run
    total = size_mb * (1 << 20)

    async def source(name: str):  # type: ignore[no-untyped-def]
        if name != "stdout.txt":
            return
        sent = 0
        while sent < total:
            yield chunk
            sent += len(chunk)

    app = BaiApp(open_backend("local"), remember_theme=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.5)
        log = app.query_one(LiveLog)
        before = memory_mib("VmRSS")
        start = time.perf_counter()
        log.open_source(source, "job bench", "running")
        await pilot.press("3")
        while not log.finished:
            await pilot.pause(0.5)
        await pilot.pause(0.5)
        seconds = time.perf_counter() - start
        after, peak = memory_mib("VmRSS"), memory_mib("VmHWM")
        rows = log.query_one("#progress").row_texts()
        lines = log.text.line_count
        streamed = log.bytes_read
    print(
        f"streamed {streamed / (1 << 20):.0f} MiB of horovodrun -np 4 output in {seconds:.1f} s "
        f"({streamed / (1 << 20) / seconds:.0f} MiB/s); {len(rows)} progress rows, "
        f"{lines} lines kept in the Log"
    )
    print(
        f"resident memory: before {before:.0f} MiB, after {after:.0f} MiB, peak {peak:.0f} MiB "
        "(target < 200 MB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="memory after streaming a big log")
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    asyncio.run(main(args.size_mb))
