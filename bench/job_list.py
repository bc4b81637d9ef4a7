#!/usr/bin/env python
"""How long `bai job list` takes on the local backend with many jobs, next to a bare `python -c pass`.

    .venv/bin/python bench/job_list.py [--jobs 10000] [--runs 5] [--before DIR]

Target: listing 10,000 jobs of one experiment (the table a user reads) within 300 ms of starting Python and
doing nothing. The jobs are written straight into a temporary $BAI_HOME's SQLite database (creating them
through the backend would run 10,000 real jobs): finished jobs, each with a job plan of the size a real
horovod job has, in an experiment of the tutorial's group, workspace and cluster, and 2,000 jobs of another
experiment beside them. Each timing is a fresh `bai job list -g G -w W -e E` process (JSON, the default:
every field of every job) and the same with `-o table`; the best and the spread of --runs are printed.
--before DIR times the same commands of another source tree of bai in the same run (for example an earlier
commit: `git archive COMMIT | tar -x -C DIR`), on a copy of the same state taken back to the schema that
tree reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_workload import CLUSTER, EXPERIMENT, GROUP, WORKSPACE, make_home  # noqa: E402

TARGET_MS = 300


def plan_text(index: int) -> str:
    """A job plan of a real horovod job's size (its command line, environment, mounts, ranks)."""
    return json.dumps(
        {
            "toolkit": "horovod",
            "command": f"python train.py --epochs 25 --batch-size 64 --seed {index}",
            "environment": {f"VAR_{n}": f"value-{n}-{index}" for n in range(12)},
            "mounts": [
                {"kind": "azureFileShare", "path": f"/mnt/share{n}", "relative": "afs"} for n in range(3)
            ],
            "nodes": [{"rank_base": n, "slots": 1} for n in range(2)],
            "stdouterr_real": f"/tmp/outputs/{index}",
        }
    )


def fill(database: Path, experiment: str, jobs: int) -> None:
    from tui.backends.local import db

    with db.opened(database) as conn:
        cluster_id = conn.execute("SELECT id FROM clusters WHERE name = ?", (CLUSTER,)).fetchone()["id"]
        stamp = db.now_text()
        rows = [
            (
                str(uuid.uuid4()),
                GROUP,
                WORKSPACE,
                experiment,
                f"job-{index:05d}",
                cluster_id,
                CLUSTER,
                "succeeded",
                0,
                2,
                "horovod",
                plan_text(index),
                f"00000000-0000-0000-0000-000000000000/{GROUP}/workspaces/{WORKSPACE}/experiments/{experiment}"
                f"/jobs/job-{index:05d}/{uuid.uuid4()}",
                "$AZ_BATCHAI_MOUNT_ROOT/afs",
                f"/tmp/outputs/{index}",
                stamp,
                stamp,
                stamp,
                stamp,
                0,
            )
            for index in range(jobs)
        ]
        with db.immediate(conn):
            conn.executemany(
                "INSERT INTO jobs (uuid, resource_group, workspace, experiment, name, cluster_id,"
                " cluster_name, state, priority, node_count, toolkit, plan, segment, std_out_err_path_prefix,"
                " stdouterr_dir, created, transition_time, start_time, end_time, exit_code)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child: user + system, its stdout). It runs in $BAI_HOME: `python -c`
    imports from its working folder first, so only PYTHONPATH says whose bai runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True, cwd=env["BAI_HOME"])
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout


async def prepare(jobs: int) -> Path:
    home = await make_home()
    from tui.backends import open_backend
    from tui.backends.local.home import Layout
    from tui.core.model import ExperimentRef

    backend = open_backend("local")
    await backend.experiments.create(ExperimentRef(GROUP, WORKSPACE, "other"))
    await backend.close()
    database = Layout(home).database
    fill(database, EXPERIMENT, jobs)
    fill(database, "other", 2000)
    return home


# What each schema version added, dropped again to hand a state to a bai that reads an earlier one.
ADDED_IN = {3: ["DROP INDEX IF EXISTS jobs_unusual"], 2: ["DROP INDEX IF EXISTS jobs_by_experiment"]}


def state_for(tree: Path, home: Path) -> Path:
    """A copy of `home` whose state the bai in `tree` reads (its SCHEMA_VERSION)."""
    text = (tree / "tui/backends/local/db.py").read_text()
    version = int(re.search(r"^SCHEMA_VERSION = (\d+)", text, re.MULTILINE)[1])
    copy = home.with_name(home.name + "-before")
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("pycache"))
    conn = sqlite3.connect(copy / "state.sqlite3")
    for added in sorted(ADDED_IN, reverse=True):
        if added > version:
            for statement in ADDED_IN[added]:
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    return copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=10_000, help="jobs in the experiment listed (default 10000)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timings of each command (default 5)")
    parser.add_argument(
        "--before", type=Path, metavar="DIR", help="also time the bai of this source tree (an earlier commit)"
    )
    args = parser.parse_args()
    home = asyncio.run(prepare(args.jobs))
    # An installed bai runs from compiled bytecode (pip writes it at install). A shell that sets
    # PYTHONDONTWRITEBYTECODE would make every timed run compile the project's sources again (~0.4 s of
    # CPU here): the bytecode goes to a temporary cache instead, and an untimed run of each command fills it.
    env = {**os.environ, "BAI_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    bai = [sys.executable, "-c", "import sys; from tui.cli.main import main; sys.exit(main())"]
    listing = [*bai, "job", "list", "-g", GROUP, "-w", WORKSPACE, "-e", EXPERIMENT]
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([sys.executable, "-c", "pass"], env),
        "bai job list": (listing, env),
        "bai job list -o table": ([*listing, "-o", "table"], env),
    }
    if args.before:
        tree = args.before.resolve()
        before = {**env, "PYTHONPATH": str(tree), "BAI_HOME": str(state_for(tree, home))}
        commands["before: bai job list"] = (listing, before)
        commands["before: bai job list -o table"] = ([*listing, "-o", "table"], before)
    print(f"{args.jobs} jobs in the experiment listed; load average {os.getloadavg()[0]:.1f}")
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for command, command_env in commands.values():
        timed(command, command_env)  # fills the bytecode cache
    for _ in range(args.runs):
        for name, (command, command_env) in commands.items():
            wall, cpu, out = timed(command, command_env)
            times[name].append(wall * 1000)
            cpus[name].append(cpu * 1000)
            shown = out.count('"name": "job-') + sum(line.startswith("job-") for line in out.splitlines())
            assert name == "python -c pass" or shown == args.jobs, f"{name} showed {shown} jobs"
    for name in commands:
        wall, cpu = times[name], cpus[name]
        print(
            f"  {name}: wall best {min(wall):.0f} ms ({min(wall):.0f}-{max(wall):.0f}), "
            f"CPU best {min(cpu):.0f} ms ({min(cpu):.0f}-{max(cpu):.0f})"
        )
    for kind, figures in (("wall", times), ("CPU", cpus)):
        for name in ("bai job list", "before: bai job list"):
            if name not in figures:
                continue
            extra = min(figures[name]) - min(figures["python -c pass"])
            verdict = "met" if extra <= TARGET_MS else "NOT met"
            print(f"{name}: {extra:.0f} ms of {kind} over python -c pass (target <= {TARGET_MS}): {verdict}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
