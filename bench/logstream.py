#!/usr/bin/env python
"""How fast the live log parser reads three shapes of log, before and after, next to `grep -c` on each.

    .venv/bin/python bench/logstream.py [--size-mb 200] [--runs 3] [--before 7b80a93] [--shapes long,sample]
    .venv/bin/python bench/logstream.py --ranks 256 --size-mb 1024 --shapes sample   # memory at many ranks
    .venv/bin/python bench/logstream.py --instructions --size-mb 4   # instructions, whatever the load

Shapes, each a temporary file of --size-mb made of real output repeated:

* long: tests/data/logs/np2-long-epochs.log, a recorded `horovodrun -np 2` run of our trainer with 200-step
  epochs (the bench log: mostly progress-bar rewrites). Target: at least 400 MB/s CPU.
* sample: tests/data/logs/horovodrun-np2-sample.log, a real run with 63-step epochs, TensorFlow warnings and
  checkpoint messages (390 finished lines per MB against 61 in the bench log). Target: at least 200 MB/s CPU.
* short: short `print` lines of a script without progress bars (`it 1234: loss=0.1234 acc=0.9876 lr=1e-3`,
  about 40 characters). Target: at least 100 MB/s CPU.

With --ranks N the horovodrun logs' rank numbers are spread over N ranks (copy k of the run speaks as ranks
2k and 2k+1 modulo N), which shows the memory of a long run with many workers.

Each parse runs in a fresh process that reads the file in 1 MiB chunks as `bai logs summarize` does, and
reports wall-clock and CPU throughput and its peak resident memory (target: under 100 MB). "before" is the
parser of commit --before (default 7b80a93, the parser as issue 12 found it), taken with `git archive` into a
temporary folder; before and after alternate within each run, so both see the same load on this shared
machine. `grep -c Epoch` on the same file is the "just read the bytes" mark. CPU MB/s (process time) is the
steadier figure; the machine's load average is printed with each shape. With --instructions each parse runs
once under valgrind's callgrind instead and the instructions it executed per MB are printed (the same process
importing the parser and reading the file without parsing taken off): a count the load does not move.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / "tests" / "data" / "logs"
SOURCES = {"long": LOGS / "np2-long-epochs.log", "sample": LOGS / "horovodrun-np2-sample.log"}
TARGETS = {"long": 400, "sample": 200, "short": 100}  # MB/s CPU
RSS_TARGET_MB = 100
MANY_RANKS_RSS_TARGET_MB = 200  # a 1 GB log of 256 ranks

# Runs in a child process so that its peak RSS is the parser's alone.
CHILD = r"""
import json, sys, time


def main() -> None:
    # In a function, as every real reader of the events (the console, `bai logs summarize`): a loop at a
    # module's top level looks its names up in a dict at every step, which added ~0.06 us per event to the
    # parse (a fifth of the time on short lines) and is not the parser's.
    sys.path.insert(0, sys.argv[1])
    parse = sys.argv[3] == "parse"
    if parse or sys.argv[3] == "import":
        from tui.core.logstream import EpochEnded, LogStream
        stream = LogStream()
    epochs = 0
    wall, cpu = time.perf_counter(), time.process_time()
    with open(sys.argv[2], "rb") as source:
        while chunk := source.read(1 << 20):
            if parse:
                for event in stream.feed(chunk):
                    if type(event) is EpochEnded:
                        epochs += 1
    if parse:
        stream.close()
        lines, ranks = len(stream.lines()), len(stream.ranks)
        history = sum(len(progress.history) for progress in stream.ranks.values())
    else:
        lines = ranks = history = 0
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # VmHWM, not ru_maxrss: the latter keeps the bench's own memory from before the exec.
    with open("/proc/self/status") as status:
        rss_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mib": rss_kib / 1024, "epochs": epochs, "lines": lines,
                      "ranks": ranks, "history": history}))


main()
"""


def spread_ranks(run: bytes, copy: int, ranks: int) -> bytes:
    """Copy `copy` of a two-rank horovodrun run, speaking as ranks 2*copy and 2*copy + 1 (modulo `ranks`)."""
    first, second = (2 * copy) % ranks, (2 * copy + 1) % ranks
    run = run.replace(b"[0]<std", b"[\x00A]<std").replace(b"[1]<std", b"[\x00B]<std")
    return run.replace(b"[\x00A]<std", b"[%d]<std" % first).replace(b"[\x00B]<std", b"[%d]<std" % second)


def write_short_lines(out: BinaryIO, size: int) -> None:
    """About `size` bytes of a training script's own short `print` lines."""
    written = step = 0
    while written < size:
        piece = b"".join(
            b"it %d: loss=%.4f acc=%.4f lr=1e-3\n" % (step + i, 1 / (step + i + 1), (step + i) % 9973 / 9973)
            for i in range(10_000)
        )
        if written + len(piece) > size:
            piece = piece[: piece.rfind(b"\n", 0, size - written) + 1]
            if not piece:
                return
        out.write(piece)
        written += len(piece)
        step += 10_000


def build_log(shape: str, size_mb: int, ranks: int, folder: Path) -> Path:
    target = folder / f"{shape}.log"
    size = size_mb * 1024 * 1024
    with target.open("wb") as out:
        if shape == "short":
            write_short_lines(out, size)
            return target
        run = SOURCES[shape].read_bytes()
        copies = max(1, size // len(run))
        if ranks <= 2:
            block = run * max(1, (8 << 20) // len(run))
            written = 0
            while written + len(block) <= copies * len(run):
                out.write(block)
                written += len(block)
            out.write(run * ((copies * len(run) - written) // len(run)))
        else:
            cycle = b"".join(spread_ranks(run, copy, ranks) for copy in range((ranks + 1) // 2))
            per_cycle = (ranks + 1) // 2
            for _ in range(copies // per_cycle):
                out.write(cycle)
            for copy in range(copies % per_cycle):
                out.write(spread_ranks(run, copy, ranks))
    return target


def extract_before(rev: str, folder: Path) -> Path | None:
    """The `tui` package of commit `rev`, for the "before" parse; None when git cannot give it."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", rev, "tui"], capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"no 'before' parse: git archive {rev} failed ({error})")
        return None
    target = folder / f"before-{rev}"
    target.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def child(code: Path, log: Path, mode: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(code), str(log), mode], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def instructions(code: Path, log: Path, mode: str) -> int:
    """Instructions the child executes (valgrind's callgrind), which the machine's load does not change."""
    args = (str(code), str(log), mode)
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            CHILD,
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))  # type: ignore[union-attr]


def count_instructions(shapes: list[str], size_mb: int, ranks: int, codes: list, folder: Path) -> None:
    """Per shape: instructions per MB of each parser, its import and reading the file alone taken off."""
    for shape in shapes:
        log = build_log(shape, size_mb, ranks, folder)
        size = log.stat().st_size / 1e6
        counts = {
            name: (instructions(code, log, "parse") - instructions(code, log, "import")) / size
            for name, code in codes
        }
        text = ", ".join(f"{name} {count / 1e6:.0f} M" for name, count in counts.items())
        ratio = ""
        if len(counts) == 2:
            after, before = counts.values()
            ratio = f" (after / before: {after / before:.2f})"
        print(f"{shape}: {size:.1f} MB; instructions per MB parsed: {text}{ratio}")


def grep_seconds(log: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(["grep", "-c", "Epoch", str(log)], capture_output=True, text=True, check=False)
    return time.perf_counter() - start, int(result.stdout.strip() or 0)


def describe(size_mb: float, parsed: dict[str, float]) -> str:
    return (
        f"{size_mb / parsed['wall']:.0f} MB/s wall, {size_mb / parsed['cpu']:.0f} MB/s CPU, "
        f"peak RSS {parsed['rss_mib']:.0f} MiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of each generated log (default 200)")
    parser.add_argument("--runs", type=int, default=3, help="parses of each file by each parser (default 3)")
    parser.add_argument("--before", default="7b80a93", help="commit whose parser is 'before' ('' for none)")
    parser.add_argument("--shapes", default="long,sample,short", help="which shapes (default all three)")
    parser.add_argument("--ranks", type=int, default=2, help="ranks the horovodrun logs are spread over")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions with valgrind instead (use --size-mb 2)",
    )
    args = parser.parse_args()
    shapes = [shape.strip() for shape in args.shapes.split(",") if shape.strip()]
    unknown = [shape for shape in shapes if shape not in TARGETS]
    if unknown:
        parser.error(f"--shapes: unknown shape {', '.join(unknown)} (use long, sample, short)")

    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-logstream-") as tmp:
        folder = Path(tmp)
        before = extract_before(args.before, folder) if args.before else None
        codes = [("after", REPO)] + ([(f"before {args.before}", before)] if before else [])
        if args.instructions:
            count_instructions(shapes, args.size_mb, args.ranks, codes, folder)
            return 0
        for shape in shapes:
            log = build_log(shape, args.size_mb, args.ranks, folder)
            size_mb = log.stat().st_size / 1e6
            ranks = f", {args.ranks} ranks" if args.ranks > 2 and shape != "short" else ""
            print(f"\n{shape}: {size_mb:.0f} MB{ranks}; load average {os.getloadavg()[0]:.1f}")
            reading = child(REPO, log, "read")
            results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in codes}
            greps = []
            for run in range(args.runs):
                order = codes if run % 2 == 0 else codes[::-1]
                for name, code in order:
                    parsed = child(code, log, "parse")
                    results[name].append(parsed)
                    print(
                        f"  run {run + 1} {name}: {describe(size_mb, parsed)} ({parsed['epochs']} epoch "
                        f"ends, {parsed['lines']} lines kept, {parsed['history']} history entries)"
                    )
                grep_s, matches = grep_seconds(log)
                greps.append(size_mb / grep_s)
            for name, _ in codes:
                cpu = sorted(size_mb / parsed["cpu"] for parsed in results[name])
                wall = sorted(size_mb / parsed["wall"] for parsed in results[name])
                rss = max(parsed["rss_mib"] for parsed in results[name])
                print(
                    f"  {name}: best {cpu[-1]:.0f} MB/s CPU (spread {cpu[0]:.0f}-{cpu[-1]:.0f}), best "
                    f"{wall[-1]:.0f} MB/s wall ({wall[0]:.0f}-{wall[-1]:.0f}), peak RSS {rss:.0f} MiB"
                )
                if name == "after":
                    target = TARGETS[shape]
                    rss_target = RSS_TARGET_MB if args.ranks <= 2 else MANY_RANKS_RSS_TARGET_MB
                    verdict = "met" if cpu[-1] >= target and rss < rss_target else "NOT met"
                    print(f"  target >= {target} MB/s CPU and RSS < {rss_target} MB: {verdict}")
                    if verdict != "met":
                        failed.append(shape)
            print(
                f"  grep -c Epoch: best {max(greps):.0f} MB/s ({matches} lines); reading the file alone: "
                f"peak RSS {reading['rss_mib']:.0f} MiB"
            )
    if failed:
        print(f"\ntargets not met on this machine now: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
