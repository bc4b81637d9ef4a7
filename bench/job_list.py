#!/usr/bin/env python
"""How long `bai job list` takes on the local backend with many jobs, next to a bare `python -c pass`.

    .venv/bin/python bench/job_list.py [--jobs 10000] [--runs 5]

Target: listing 10,000 jobs of one experiment (the table a user reads) within 300 ms of starting Python and
doing nothing. The jobs are written straight into a temporary $BAI_HOME's SQLite database (creating them
through the backend would run 10,000 real jobs): finished jobs, each with a job plan of the size a real
horovod job has, in an experiment of the tutorial's group, workspace and cluster, and 2,000 jobs of another
experiment beside them. Each timing is a fresh `bai job list -g G -w W -e E` process (JSON, the default:
every field of every job) and the same with `-o table`; the best and the spread of --runs are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
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
    """(wall seconds, CPU seconds of the child: user + system, its stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=10_000, help="jobs in the experiment listed (default 10000)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timings of each command (default 5)")
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
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "bai job list": listing,
        "bai job list -o table": [*listing, "-o", "table"],
    }
    print(f"{args.jobs} jobs in the experiment listed; load average {os.getloadavg()[0]:.1f}")
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        timed(command, env)  # fills the bytecode cache
    for _ in range(args.runs):
        for name, command in commands.items():
            wall, cpu, out = timed(command, env)
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
        extra = min(figures["bai job list"]) - min(figures["python -c pass"])
        verdict = "met" if extra <= TARGET_MS else "NOT met"
        print(
            f"bai job list: {extra:.0f} ms of {kind} over python -c pass (target <= {TARGET_MS}): {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
