#!/usr/bin/env python
"""What the ssh backend costs over the local one: host checks, and a 2-rank horovodrun job end to end.

    sudo .venv/bin/python bench/ssh_job_latency.py [--runs 3]

Builds two SSH hosts in network namespaces (tests/ssh_hosts.py: a bridge, one sshd each), then times, in the
same run and on the same machine: `cluster create` of the two hosts (both probed in parallel: SSH, the job
Python's Horovod, the shared storage root), `job create` (the hosts probed again), a 2-rank horovodrun job
of a script that only prints (no TensorFlow) from submission to `succeeded` on the ssh backend (one rank per
host) and on the local backend (np=2 on this machine), and `job create` failing with one host unreachable.
Medians printed, min and max beside them. Needs root and OpenSSH's server.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

SCRIPT = "import os; print('rank', os.environ['HOROVOD_RANK'], flush=True)\n"


def spec_for(script: Path):  # type: ignore[no-untyped-def]
    from tui.core.jobspec import parse_job_spec

    return parse_job_spec(
        {
            "properties": {
                "nodeCount": 2,
                "horovodSettings": {"pythonScriptFilePath": str(script)},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_TEMP",
            }
        }
    )


async def resources(backend, **cluster: object) -> float:  # type: ignore[no-untyped-def]
    from tui.core.model import ClusterRef, ExperimentRef

    await backend.groups.create("rg", "eastus")
    await backend.workspaces.create("rg", "ws")
    await backend.experiments.create(ExperimentRef("rg", "ws", "exp"))
    began = time.perf_counter()
    await backend.clusters.create(ClusterRef("rg", "ws", "c"), target_node_count=2, **cluster)
    return time.perf_counter() - began


async def run_job(backend, name: str, script: Path) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from tui.core.model import ExecutionState, JobRef

    ref = JobRef("rg", "ws", "exp", name)
    began = time.perf_counter()
    await backend.jobs.create(ref, "c", spec_for(script))
    created = time.perf_counter() - began
    job = await backend.jobs.wait(ref, poll_interval=0.1, timeout=600)
    assert job.execution_state is ExecutionState.SUCCEEDED, job.errors
    return created, time.perf_counter() - began


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s (min {min(values):.2f}, max {max(values):.2f})"


async def main(runs: int) -> None:
    from ssh_hosts import missing_requirements, namespace_hosts

    from tui.backends.local import open_local_backend
    from tui.backends.ssh import open_ssh_backend
    from tui.core.errors import BaiError
    from tui.core.model import JobRef

    reason = missing_requirements()
    if reason:
        raise SystemExit(f"ssh_job_latency: {reason}")
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder, namespace_hosts(Path(folder) / "hosts") as hosts:
        script = Path(folder) / "ranks.py"
        script.write_text(SCRIPT)
        local = open_local_backend(Path(folder) / "local")
        await resources(local, vm_size="Standard_NC6")
        ssh = open_ssh_backend(Path(folder) / "ssh")
        options = {
            "hosts": hosts.hosts_option(),
            "admin_user_name": "root",
            "ssh_key": str(hosts.key),
            "network_interface": hosts.interface,
        }
        rows["ssh: cluster create (2 hosts probed)"] = [await resources(ssh, **options)]
        for index in range(runs):
            created, total = await run_job(ssh, f"ssh{index}", script)
            rows.setdefault("ssh: job create (hosts probed)", []).append(created)
            rows.setdefault("ssh: 2 ranks on 2 hosts, submit -> succeeded", []).append(total)
            _created, total = await run_job(local, f"local{index}", script)
            rows.setdefault("local: 2 ranks here, submit -> succeeded", []).append(total)
        hosts.hosts[1].link(up=False)
        try:
            began = time.perf_counter()
            try:
                await ssh.jobs.create(JobRef("rg", "ws", "exp", "down"), "c", spec_for(script))
            except BaiError:
                rows["ssh: job create with a host down -> refused"] = [time.perf_counter() - began]
        finally:
            hosts.hosts[1].link(up=True)
    for label, values in rows.items():
        print(f"{label:48} {summary(values)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
