"""Faults against real local jobs (issue 10): what a job leaks, what outlives it, and a disk that fills up.

Real horovodrun, real supervisor processes, a real state database; each test polls for what it waits on.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tui.backends.base import JobSubmitOptions
from tui.backends.local import open_local_backend
from tui.core.errors import NotFoundError
from tui.core.jobspec import parse_job_spec
from tui.core.model import ClusterRef, ExecutionState, ExperimentRef, JobRef

RG, WS, EXP, CLUSTER = "rg", "ws", "exp", "c"
SHARE_URL = "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/myshare"

# A rank that reports whether it got the secret (never the value itself), then waits to be stopped.
SECRET_RANK = textwrap.dedent(
    """
    import hashlib, os, sys, time
    rank = int(os.environ["HOROVOD_RANK"])
    got = hashlib.sha256(os.environ.get("MY_SECRET", "").encode()).hexdigest()
    print(f"rank {rank} secret {'ok' if got == sys.argv[1] else 'MISSING'}", flush=True)
    time.sleep(600)
    """
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAI_TERMINATE_GRACE_SECONDS", "3")
    return tmp_path / "bai-home"


async def make_tree(backend, nodes: int = 2) -> None:
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    await backend.experiments.create(ExperimentRef(RG, WS, EXP))
    await backend.clusters.create(ClusterRef(RG, WS, CLUSTER), "Standard_NC6", nodes, vm_priority="dedicated")
    await backend.storage.create_account(RG, "mystore", "eastus")
    await backend.storage.create_share("mystore", "myshare")
    await backend.storage.create_directory("mystore", "myshare", "code")


def job_spec(toolkit: dict[str, object], node_count: int = 2, **properties: object):
    return parse_job_spec(
        {
            "properties": {
                "nodeCount": node_count,
                **toolkit,
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/code",
                "mountVolumes": {
                    "azureFileShares": [{"azureFileUrl": SHARE_URL, "relativeMountPath": "myshare"}]
                },
                **properties,
            }
        }
    )


async def until(predicate, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout:g} s")
        await asyncio.sleep(0.2)


def command_lines_containing(needle: bytes) -> list[str]:
    """Every live process whose command line holds `needle` (what `grep -l VALUE /proc/*/cmdline` finds)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(f"{entry.name}: {cmdline.replace(bytes(1), b' ')[:200]!r}")
    return found


async def stdout_of(backend, ref: JobRef) -> str:
    """The job's stdout.txt so far ("" before the supervisor made it)."""
    try:
        chunks = [chunk async for chunk in backend.jobs.stream_file(ref, "stdout.txt", follow=False)]
    except NotFoundError:
        return ""
    return b"".join(chunks).decode()


# ---------------------------------------------------------------------------------------- item 3: secrets


async def test_a_secret_reaches_every_rank_and_no_command_line(home: Path, tmp_path: Path) -> None:
    import hashlib

    backend = open_local_backend(home)
    await make_tree(backend)
    script = tmp_path / "secret_rank.py"
    script.write_text(SECRET_RANK)
    await backend.storage.upload_file("mystore", "myshare", "code", script)
    value = f"s3cret-{uuid.uuid4().hex}"
    digest = hashlib.sha256(value.encode()).hexdigest()
    spec = job_spec(
        {
            "horovodSettings": {
                "pythonScriptFilePath": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/code/secret_rank.py",
                "commandLineArgs": digest,
            }
        },
        secrets=[{"name": "MY_SECRET", "value": value}],
        environmentVariables=[{"name": "PLAIN", "value": "visible"}],
    )
    ref = JobRef(RG, WS, EXP, "secret")
    await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    try:

        async def both_ranks_report() -> bool:
            return (await stdout_of(backend, ref)).count(" secret ") == 2

        await until(both_ranks_report, what="both ranks reporting")
        output = await stdout_of(backend, ref)
        assert output.count("secret ok") == 2, output
        # horovodrun, its `sh -c env ...` per rank, the ranks: none may carry the value in its argv
        assert command_lines_containing(b"visible"), "the scan must see horovodrun's env command line"
        assert command_lines_containing(value.encode()) == []
    finally:
        await backend.jobs.terminate(ref)
        await backend.jobs.wait(ref, poll_interval=0.3, timeout=60)
    leftovers = [path for path in home.rglob("*") if path.is_file() and value.encode() in path.read_bytes()]
    assert leftovers == [], f"the secret outlived the job in {leftovers}"


# ----------------------------------------------------------------------- item 7: what a job leaves behind


def pids_running(needle: str) -> list[int]:
    return [int(line.split(":", 1)[0]) for line in command_lines_containing(needle.encode())]


async def gone(needle: str, timeout: float = 30.0) -> list[int]:
    """Poll until no process's command line holds `needle`; returns those still there at the deadline."""
    deadline = time.monotonic() + timeout
    while (left := pids_running(needle)) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return left


@pytest.fixture(params=["cgroup", "process-tree"])
def tracking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a job's processes are tracked: its own cgroup (v2, where this machine lets root make one),
    and the process tree the supervisor records (it is the subreaper of everything the job starts)."""
    if request.param == "process-tree":
        monkeypatch.setenv("BAI_NO_CGROUP", "1")
    return request.param


@pytest.mark.parametrize("ending", ["terminated", "succeeded"])
async def test_a_process_with_a_cleared_environment_ends_with_its_job(
    home: Path, tracking: str, ending: str
) -> None:
    backend = open_local_backend(home)
    await make_tree(backend, nodes=1)
    marker = f"777.{uuid.uuid4().int % 10**9}"  # a sleep no other process runs
    then = "echo escaped; sleep 600" if ending == "terminated" else "echo escaped"
    spec = job_spec(
        {"customToolkitSettings": {"commandLine": f"env -i setsid sleep {marker} & {then}"}}, node_count=1
    )
    ref = JobRef(RG, WS, EXP, "escape")
    await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    try:

        async def escaped() -> bool:
            return "escaped" in await stdout_of(backend, ref)

        await until(escaped, what="the job's first line")
        assert pids_running(marker), "the escaping process must have started"
        if ending == "terminated":
            await backend.jobs.terminate(ref)
        job = await backend.jobs.wait(ref, poll_interval=0.3, timeout=60)
        expected = ExecutionState.FAILED if ending == "terminated" else ExecutionState.SUCCEEDED
        assert job.execution_state is expected, job.errors
        assert await gone(marker) == [], f"'sleep {marker}' outlived its job ({tracking})"
    finally:
        for pid in pids_running(marker):
            os.kill(pid, 9)
