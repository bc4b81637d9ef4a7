#!/usr/bin/env python
"""How long the headless `bai` takes from a cold process start, next to `python -c pass` on the same machine.

    .venv/bin/python bench/service_latency.py [--runs 15] [--jobs 100] [--compile] [--before TREE]

Target: `bai cluster show` and `bai job list` (of 100 jobs) within 300 ms of `python -c pass`. A user at a
jump box types these in loops (`watch bai cluster show ...`), so start-up is the cost they feel.

Set-up, in a temporary $BAI_HOME on the local backend: a group, workspace, experiment and a 1-node cluster,
then 100 customToolkit jobs running `true`, submitted through the backend's API (cheap) and waited for, so
the list shows finished jobs as a real experiment would. Each measured command is a fresh process; the figure
is the median of --runs runs (min and max printed too).

The timed runs use compiled bytecode, as an installed bai does (a shell that sets PYTHONDONTWRITEBYTECODE
would make every run compile the sources again): it goes to a cache in the temporary folder, filled by the
untimed first run of each command; `--compile` times compiling runs instead. `--before TREE` (a `git archive`
of an older commit) measures that tree too, its own code on a $BAI_HOME its own bench set up, process by
process in turn with this tree's, so both see the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_MS = 300.0


def bai_command(tree: Path = REPO) -> list[str]:
    """`bai` of a tree: its entry point (`tui.cli.main:main`; `tui.cli:main` before issue 9's layout)."""
    module = "tui.cli.main" if (tree / "tui" / "cli" / "main.py").exists() else "tui.cli"
    # -P: the working directory (this tree, maybe) is not put ahead of PYTHONPATH, which names the tree
    return [sys.executable, "-P", "-c", f"import sys; from {module} import main; sys.exit(main())"]


def populate_other(tree: Path, home: Path, jobs: int) -> None:
    """The set-up of `populate`, by another tree's own bench and code (its state's schema may differ)."""
    code = (
        "import asyncio, sys; from pathlib import Path; sys.path.insert(0, 'bench'); import service_latency; "
        f"asyncio.run(service_latency.populate(Path({str(home)!r}), {jobs}))"
    )
    env = {**os.environ, "PYTHONPATH": str(tree), "BAI_HOME": str(home)}
    subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True, capture_output=True)


async def populate(home: Path, jobs: int) -> None:
    from tui.backends.local import open_local_backend
    from tui.core.jobspec import parse_job_spec
    from tui.core.model import ClusterRef, ExperimentRef, JobRef

    backend = open_local_backend(home)
    try:
        await backend.groups.create("rg", "eastus")
        await backend.workspaces.create("rg", "ws")
        await backend.experiments.create(ExperimentRef("rg", "ws", "exp"))
        await backend.clusters.create(ClusterRef("rg", "ws", "c"), "Standard_NC6", 1)
        await backend.storage.create_account("rg", "bench", "eastus")
        await backend.storage.create_share("bench", "logs")
        for index in range(jobs):
            spec = parse_job_spec(
                {
                    "properties": {
                        "nodeCount": 1,
                        "customToolkitSettings": {"commandLine": "true"},
                        "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
                        "mountVolumes": {
                            "azureFileShares": [
                                {
                                    "azureFileUrl": "https://bench.file.core.windows.net/logs",
                                    "relativeMountPath": "logs",
                                }
                            ]
                        },
                    }
                }
            )
            await backend.jobs.create(JobRef("rg", "ws", "exp", f"job-{index:03d}"), "c", spec)
        last = JobRef("rg", "ws", "exp", f"job-{jobs - 1:03d}")
        await backend.jobs.wait(last, poll_interval=0.5, timeout=600)
    finally:
        await backend.close()


def measure_in_turn(
    cases: list[tuple[str, list[str], str]], envs: dict[str, dict[str, str]], runs: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Wall-clock and CPU (user + system) milliseconds of each run of each case, the cases taking turns (so a
    change in the machine's load falls on all alike). CPU time barely moves when other work shares the
    machine, so it shows the command's own cost when the wall clock is noisy."""
    for _name, command, label in cases:  # warm the file cache (and fill the bytecode cache) once
        subprocess.run(command, env=envs[label], capture_output=True, check=True)
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _c, _l in cases}
    for _ in range(runs):
        for name, command, label in cases:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, env=envs[label], capture_output=True, check=True)
            wall = (time.perf_counter() - start) * 1000
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
            results[name][0].append(wall)
            results[name][1].append(cpu)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per command (default 15)")
    parser.add_argument("--jobs", type=int, default=100, help="jobs in the listed experiment (default 100)")
    parser.add_argument("--compile", action="store_true", help="compile the sources in every run")
    parser.add_argument("--before", type=Path, metavar="TREE", help="another checkout, measured in turn")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bai-bench-") as folder:
        trees = {"": REPO} if args.before is None else {"before: ": args.before.resolve(), "after: ": REPO}
        envs: dict[str, dict[str, str]] = {}
        for label, tree in trees.items():
            home = Path(folder) / f"home{len(envs)}"
            home.mkdir()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("BAI_", "AZURE_"))}
            env["BAI_HOME"] = str(home)
            env["PYTHONPATH"] = str(tree)
            if not args.compile:
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / f"pycache{len(envs)}")
            started = time.perf_counter()
            if tree == REPO:
                os.environ["BAI_HOME"] = str(home)
                asyncio.run(populate(home, args.jobs))
            else:
                populate_other(tree, home, args.jobs)
            took = time.perf_counter() - started
            print(f"{label}set-up: {args.jobs} finished jobs in {took:.1f} s", file=sys.stderr)
            envs[label] = env

        cases: list[tuple[str, list[str], str]] = []
        for label, tree in trees.items():
            bai = bai_command(tree)
            cases += [
                (f"{label}python -c pass", [sys.executable, "-c", "pass"], label),
                (
                    f"{label}bai cluster show",
                    [*bai, "cluster", "show", "-g", "rg", "-w", "ws", "-n", "c"],
                    label,
                ),
                (
                    f"{label}bai cluster show -o table",
                    [*bai, "cluster", "show", "-g", "rg", "-w", "ws", "-n", "c", "-o", "table"],
                    label,
                ),
                (
                    f"{label}bai job list ({args.jobs} jobs)",
                    [*bai, "job", "list", "-g", "rg", "-w", "ws", "-e", "exp"],
                    label,
                ),
            ]
        for name, command, label in cases:
            if "job list" in name:
                listed = subprocess.run(command, env=envs[label], capture_output=True, text=True, check=True)
                assert listed.stdout.count('"executionState": "succeeded"') == args.jobs, "jobs not all done"

        load = os.getloadavg()
        results = measure_in_turn(cases, envs, args.runs)
    print(
        f"load average before: {load[0]:.1f}, after: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); "
        f"{'compiling every run' if args.compile else 'bytecode cached'}"
    )
    print(
        f"{'command':<36}{'median ms':>10}{'min':>7}{'max':>7}{'over python':>13}"
        f"{'cpu ms':>8}{'cpu over':>10}"
    )
    worst = 0.0
    for label in trees:
        baseline = statistics.median(results[f"{label}python -c pass"][0])
        baseline_cpu = statistics.median(results[f"{label}python -c pass"][1])
        for name, _command, of in cases:
            if of != label:
                continue
            walls, cpus = results[name]
            median, cpu = statistics.median(walls), statistics.median(cpus)
            if not name.endswith("python -c pass") and label != "before: ":
                worst = max(worst, median - baseline)
            print(
                f"{name:<36}{median:>10.0f}{min(walls):>7.0f}{max(walls):>7.0f}{median - baseline:>13.0f}"
                f"{cpu:>8.0f}{cpu - baseline_cpu:>10.0f}"
            )
    verdict = "within" if worst <= TARGET_MS else "OVER"
    print(f"worst: {worst:.0f} ms (wall clock) over python -c pass ({verdict} the {TARGET_MS:.0f} ms target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
