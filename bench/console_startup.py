#!/usr/bin/env python
"""Cold start of `bai` (no verb) to its first painted screen, in a real pseudo-terminal.

    .venv/bin/python bench/console_startup.py [--runs 7] [--compile] [--before TREE]

Target: at most 1 s. Each run starts a fresh `bai` process on a 100x30 pty over a temporary BAI_HOME that
holds the tutorial's resources, and times from the spawn until the first frame is on the terminal (the
footer's key hints have been written) and until the resource tree shows the resource group (the first
backend answer drawn); then it presses q and checks the process ended. Also prints `python -c pass` on the
same interpreter, the floor any Python program pays.

The timed runs use compiled bytecode, as an installed bai does: a shell that sets PYTHONDONTWRITEBYTECODE
would make each run compile the project's ~60 modules again (60-150 ms of CPU), so the bytecode goes to a
cache in the temporary home, filled by one untimed run. `--compile` times that compiling run instead.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import fcntl
import os
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_workload import GROUP, KEEP_HOME, make_home  # noqa: E402

BAI = Path(sys.executable).parent / "bai"
ESCAPE = re.compile(rb"\x1b\[[0-9;?>]*[A-Za-z$]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


def cpu_seconds(pid: int) -> float:
    """user + system CPU the process has used so far (what start-up costs without other load)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(env: dict[str, str]) -> dict[str, float]:
    """Times (s) from spawn to: the first frame (header and tabs drawn), the tree showing the group, the
    footer's key hints; and the CPU used by the first frame."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(BAI)], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True, start_new_session=True
    )
    os.close(slave)
    seen = b""
    marks: dict[str, float] = {}
    wanted = {
        "first_frame": (b"bai", b"Nodes 1", b"Log 3"),
        "tree": (f"rg {GROUP}".encode(),),
        "footer": (b"Refresh",),
    }
    deadline = start + 20
    while time.perf_counter() < deadline and not all(name in marks for name in wanted):
        ready, _, _ = select.select([master], [], [], 0.02)
        if not ready:
            continue
        try:
            seen += os.read(master, 65536)
        except OSError:
            break
        now = time.perf_counter() - start
        text = ESCAPE.sub(b"", seen)
        for name, needles in wanted.items():
            if name not in marks and all(needle in text for needle in needles):
                marks[name] = now
                if name in ("first_frame", "footer"):
                    marks[f"{name}_cpu"] = cpu_seconds(process.pid)
    os.write(master, b"q")
    try:
        end = time.perf_counter() + 10
        while process.poll() is None and time.perf_counter() < end:
            select.select([master], [], [], 0.05)
            try:
                os.read(master, 65536)
            except OSError:
                break
        process.wait(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    if len(marks) < len(wanted) + 2:
        screen = ESCAPE.sub(b"", seen)[-1500:]
        raise SystemExit(f"bai did not draw its first screen in 20 s (marks {marks}): {screen!r}")
    return marks


def other_home(tree: Path) -> Path:
    """A BAI_HOME made by another tree's own code (its state's schema may differ from this tree's)."""
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "import asyncio, sys; sys.path.insert(0, 'bench'); from console_workload import make_home; "
            "print(asyncio.run(make_home()))",
        ],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), KEEP_HOME: "1"},  # removed by this process (atexit)
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(made.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="cold start of the console to its first painted screen")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--compile", action="store_true", help="compile the sources in every run (no bytecode cache)"
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="TREE",
        help="another checkout (a `git archive` of an older commit): its runs alternate with this tree's",
    )
    args = parser.parse_args()
    trees = {"this tree": (ROOT, asyncio.run(make_home()))}
    if args.before is not None:
        trees = {"before": (args.before.resolve(), other_home(args.before.resolve())), **trees}
    for _tree, home in trees.values():
        atexit.register(shutil.rmtree, home, ignore_errors=True)  # its state and its bytecode cache
    envs = {}
    for label, (tree, home) in trees.items():
        env = {
            **os.environ,
            "PYTHONPATH": str(tree),
            "BAI_HOME": str(home),
            "BAI_BACKEND": "local",
            "TERM": "xterm-256color",
            "COLUMNS": "100",
            "LINES": "30",
        }
        if not args.compile:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
            one_run(env)  # untimed: fills the bytecode cache
        envs[label] = env
    python = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        python.append(time.perf_counter() - start)
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in envs}
    loads = [os.getloadavg()[0]]
    for _ in range(args.runs):  # alternating, so a change in the machine's load falls on both alike
        for label, env in envs.items():
            runs[label].append(one_run(env))
        loads.append(os.getloadavg()[0])

    print(
        f"runs: {args.runs} each, load average {min(loads):.1f}-{max(loads):.1f}, "
        f"{'compiling every run' if args.compile else 'bytecode cached'}"
    )
    print(f"python -c pass:                     median {statistics.median(python) * 1000:.0f} ms")
    for label, marks in runs.items():

        def ms(name: str, marks: list[dict[str, float]] = marks) -> str:
            values = [run[name] * 1000 for run in marks]
            return f"median {statistics.median(values):.0f} ms, max {max(values):.0f} ms"

        if len(runs) > 1:
            print(f"{label} ({trees[label][0].name}):")
        print(f"bai -> first painted screen:        {ms('first_frame')} (target <= 1000 ms)")
        print(f"   CPU used by then (no contention): {ms('first_frame_cpu')}")
        print(f"bai -> resource tree filled:        {ms('tree')}")
        print(f"bai -> footer key hints drawn:      {ms('footer')}")
        print(f"   CPU used by then:                 {ms('footer_cpu')}")


if __name__ == "__main__":
    main()
