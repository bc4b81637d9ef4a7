#!/usr/bin/env python
"""How fast the live log parser reads a big horovodrun log, next to `grep -c Epoch` on the same file.

    .venv/bin/python bench/logstream.py [--size-mb 200] [--runs 3] [--source LOG]

Targets: at least 100 MB/s, and peak memory under 100 MB, on a horovodrun log. The log is made of real
output: a recorded `horovodrun -np 2` run of our trainer (200 steps per epoch and worker: progress bars
with their \\r and \\b runs, epoch ends, checkpoint messages, the test result) repeated to --size-mb in a
temporary folder. `--source tests/data/logs/np2-verbose1.log` (20-step epochs, so seven times the lines and
epoch ends per MB) is the worst case we have. Each run parses the whole file in a fresh process, reading it
in 1 MiB chunks as `bai logs summarize` does, and reports wall-clock and CPU throughput and the process's
peak resident memory; a process that only reads the file (same chunks, no parsing) gives the baseline
memory. `grep -c Epoch` on the same file, in the same run,
shows what "reading the bytes" costs with a C tool.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / "tests" / "data" / "logs" / "np2-long-epochs.log"

# Runs in a child process so that its peak RSS is the parser's alone.
CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
parse = sys.argv[3] == "parse"
if parse:
    from tui.core.logstream import EpochEnded, LogStream
    stream = LogStream()
epochs = lines = 0
wall, cpu = time.perf_counter(), time.process_time()
with open(sys.argv[2], "rb") as source:
    while chunk := source.read(1 << 20):
        if parse:
            for event in stream.feed(chunk):
                if type(event) is EpochEnded:
                    epochs += 1
if parse:
    stream.close()
    lines = len(stream.lines())
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"wall": wall, "cpu": cpu, "rss_mib": rss_kib / 1024, "epochs": epochs, "lines": lines}))
"""


def build_log(source: Path, size_mb: int, folder: Path) -> Path:
    run = source.read_bytes()
    target = folder / "horovodrun.log"
    copies = max(1, (size_mb * 1024 * 1024) // len(run))
    with target.open("wb") as out:
        for _ in range(copies):
            out.write(run)
    return target


def child(log: Path, mode: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO), str(log), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def grep_seconds(log: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(["grep", "-c", "Epoch", str(log)], capture_output=True, text=True, check=False)
    return time.perf_counter() - start, int(result.stdout.strip() or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of the generated log (default 200)")
    parser.add_argument("--runs", type=int, default=3, help="parses of the whole file (default 3)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the real log to repeat")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-logstream-") as folder:
        log = build_log(args.source, args.size_mb, Path(folder))
        size_mb = log.stat().st_size / 1e6
        print(f"log: {size_mb:.0f} MB, {args.source.name} repeated; load average {os.getloadavg()[0]:.1f}")
        baseline = child(log, "read")
        parses, greps = [], []
        for run in range(args.runs):
            parsed = child(log, "parse")
            grep_s, matches = grep_seconds(log)
            parses.append(parsed)
            greps.append(grep_s)
            print(
                f"run {run + 1}: LogStream {size_mb / parsed['wall']:.0f} MB/s wall, "
                f"{size_mb / parsed['cpu']:.0f} MB/s CPU, peak RSS {parsed['rss_mib']:.0f} MiB "
                f"({parsed['epochs']} epoch ends, {parsed['lines']} lines kept) | "
                f"grep -c Epoch {size_mb / grep_s:.0f} MB/s ({matches} lines)"
            )
        wall = statistics.median(size_mb / p["wall"] for p in parses)
        cpu = statistics.median(size_mb / p["cpu"] for p in parses)
        rss = max(p["rss_mib"] for p in parses)
        grep = statistics.median(size_mb / g for g in greps)
        print(
            f"median: LogStream {wall:.0f} MB/s wall ({cpu:.0f} MB/s CPU), grep -c Epoch {grep:.0f} MB/s; "
            f"peak RSS {rss:.0f} MiB, of which reading the file alone {baseline['rss_mib']:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
