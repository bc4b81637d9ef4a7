#!/usr/bin/env python
"""Memory of the console after streaming a 1 GB training log through the live log.

    .venv/bin/python bench/console_memory.py [--size-mb 1024] [--ranks 256]

Target: under 200 MB resident. The app runs headless on a temporary local backend; its live log is fed,
in 1 MiB chunks as fast as the parser takes them, the recorded real output of `horovodrun -np 4` running our
trainer (tests/data/logs/np4-verbose1.log: Keras progress bars with their \\r and \\b runs, epoch ends,
checkpoints, warnings) repeated up to --size-mb. Prints the process's resident memory before the stream,
after it (VmRSS) and at its peak (VmHWM), with the lines kept on screen: the Log widget's line limit and the
parser's limits keep memory flat however long the job runs. With --ranks N the four ranks of each copy of the
run speak as the next four of N ranks (copy k as ranks 4k..4k+3 modulo N), as a job of N workers would: the
parser's caps over all ranks (lines, epoch history) keep that flat too.
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


def spread_ranks(run: bytes, copy: int, ranks: int) -> bytes:
    """Copy `copy` of the four-rank run, its ranks 0-3 speaking as ranks 4*copy..4*copy+3 modulo `ranks`."""
    for rank in range(4):
        run = run.replace(b"[%d]<std" % rank, b"[\x00%d]<std" % rank)
    for rank in range(4):
        run = run.replace(b"[\x00%d]<std" % rank, b"[%d]<std" % ((4 * copy + rank) % ranks))
    return run


async def main(size_mb: int, ranks: int) -> None:
    await make_home()
    from tui.backends import open_backend
    from tui.console.app import BaiApp
    from tui.console.widgets.live_log import LiveLog

    run = SOURCE.read_bytes()
    if ranks > 4:
        run = b"".join(spread_ranks(run, copy, ranks) for copy in range((ranks + 3) // 4))
    cycle = run * (2 * (1 << 20) // len(run) + 2)
    total = size_mb * (1 << 20)

    async def source(name: str):  # type: ignore[no-untyped-def]
        if name != "stdout.txt":
            return
        sent = 0
        while sent < total:
            at = sent % len(run)  # 1 MiB slices of the repeated run (of all ranks)
            yield cycle[at : at + (1 << 20)]
            sent += 1 << 20

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
        kept = len(log.stream.records())
        history = sum(len(progress.history) for progress in log.stream.ranks.values())
    print(
        f"streamed {streamed / (1 << 20):.0f} MiB of horovodrun -np {max(ranks, 4)} output in "
        f"{seconds:.1f} s ({streamed / (1 << 20) / seconds:.0f} MiB/s); {len(rows)} progress rows, "
        f"{lines} lines kept in the Log, {kept} in the parser, {history} epochs of history"
    )
    print(
        f"resident memory: before {before:.0f} MiB, after {after:.0f} MiB, peak {peak:.0f} MiB "
        "(target < 200 MB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="memory after streaming a big log")
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--ranks", type=int, default=4, help="workers the output is spread over (default 4)")
    args = parser.parse_args()
    asyncio.run(main(args.size_mb, args.ranks))
