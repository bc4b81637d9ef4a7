"""Faults against real local jobs (issue 10): what a job leaks, what outlives it, and a disk that fills up.

Real horovodrun, real supervisor processes, a real state database; each test polls for what it waits on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tui.backends.base import JobSubmitOptions
from tui.backends.local import open_local_backend
from tui.backends.local.procs import job_processes, start_time
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
    home: Path, tmp_path: Path, tracking: str, ending: str
) -> None:
    backend = open_local_backend(home)
    await make_tree(backend, nodes=1)
    marker = f"777.{uuid.uuid4().int % 10**9}"  # a sleep no other process runs
    pid_file = tmp_path / "escaped.pid"
    # The escaping process writes its pid, then the job goes on only once it has (so it surely started).
    escape = f"env -i setsid sh -c 'echo $$ > {pid_file}; exec sleep {marker}' &"
    wait = f"while [ ! -s {pid_file} ]; do sleep 0.05; done; echo escaped"
    then = "; sleep 600" if ending == "terminated" else ""
    spec = job_spec({"customToolkitSettings": {"commandLine": f"{escape} {wait}{then}"}}, node_count=1)
    ref = JobRef(RG, WS, EXP, "escape")
    await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    try:

        async def escaped() -> bool:
            return "escaped" in await stdout_of(backend, ref)

        await until(escaped, what="the job's first line")
        if ending == "terminated":
            await backend.jobs.terminate(ref)
        job = await backend.jobs.wait(ref, poll_interval=0.3, timeout=60)
        expected = ExecutionState.FAILED if ending == "terminated" else ExecutionState.SUCCEEDED
        assert job.execution_state is expected, job.errors
        assert await gone(marker) == [], f"'sleep {marker}' outlived its job ({tracking})"
        assert start_time(int(pid_file.read_text())) is None
    finally:
        for pid in pids_running(marker):
            os.kill(pid, 9)


# ------------------------------------------------------------------------------------ item 1: a full disk

# A rank that prints 200 KB per step until it is stopped (a log far bigger than the disk it goes to).
LOUD_RANK = textwrap.dedent(
    """
    import os, sys, time
    rank = int(os.environ["HOROVOD_RANK"])
    line = ("x" * 999 + "\\n") * 200
    step = 0
    while True:
        sys.stdout.write(f"rank {rank} step {step}\\n" + line)
        sys.stdout.flush()
        step += 1
        time.sleep(0.01)
    """
)


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A 20 MB tmpfs for BAI_HOME (root only: skipped elsewhere), unmounted afterwards."""
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)], check=False)
    if mounted.returncode != 0:
        pytest.skip("this machine does not let root mount a tmpfs")
    monkeypatch.setenv("BAI_TERMINATE_GRACE_SECONDS", "3")
    monkeypatch.setenv("BAI_HOME", str(disk / "bai-home"))
    try:
        yield disk
    finally:
        for _ in range(50):
            if subprocess.run(["umount", str(disk)], check=False, capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        else:
            subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, name: str) -> Path:
    """Write zeros to a file on `disk` until the disk is full (unbuffered: every byte that fits)."""
    path = disk / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 8, 1):
            block = bytes(size)
            try:
                while os.write(fd, block) == size:
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    return path


async def test_a_full_disk_fails_the_job_frees_its_nodes_and_stops_its_ranks(
    small_disk: Path, tmp_path: Path
):
    home = small_disk / "bai-home"
    backend = open_local_backend(home)
    await make_tree(backend)
    script = tmp_path / "loud_rank.py"
    script.write_text(LOUD_RANK)
    await backend.storage.upload_file("mystore", "myshare", "code", script)
    spec = job_spec(
        {"horovodSettings": {"pythonScriptFilePath": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/code/loud_rank.py"}}
    )
    ref = JobRef(RG, WS, EXP, "loud")
    created = await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    job_uuid = created.job_output_directory_path_segment.rsplit("/", 1)[1]
    try:
        job = await backend.jobs.wait(ref, poll_interval=0.5, timeout=90)
        assert job.execution_state is ExecutionState.FAILED
        assert [error.code for error in job.errors] == ["DiskFull"], job.errors
        assert f"disk full at {small_disk}" in job.errors[0].message, job.errors[0].message
        counts = (await backend.clusters.get(ClusterRef(RG, WS, CLUSTER))).node_state_counts
        assert (counts.running_node_count, counts.idle_node_count) == (0, 2)

        async def no_ranks_left() -> bool:
            return job_processes(job_uuid) == []

        await until(no_ranks_left, timeout=30, what="every rank stopped")
    finally:
        for pid in job_processes(job_uuid):
            os.kill(pid, 9)


async def test_terminate_works_on_a_full_disk_and_a_failed_write_says_why(small_disk: Path) -> None:
    from tests.test_cli import Bai

    home = small_disk / "bai-home"
    backend = open_local_backend(home)
    await make_tree(backend, nodes=1)
    spec = job_spec({"customToolkitSettings": {"commandLine": "echo waiting; sleep 600"}}, node_count=1)
    ref = JobRef(RG, WS, EXP, "quiet")
    created = await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    job_uuid = created.job_output_directory_path_segment.rsplit("/", 1)[1]
    bai = Bai(small_disk)
    bai.env["BAI_HOME"] = str(home)
    try:

        async def waiting() -> bool:
            return "waiting" in await stdout_of(backend, ref)

        await until(waiting, what="the job's first line")
        filler = fill(small_disk, "filler-1")
        terminated = bai("job", "terminate", *("-g", RG, "-w", WS, "-e", EXP, "-n", "quiet"), check=False)
        assert terminated.returncode == 0, terminated.stderr
        job = await backend.jobs.wait(ref, poll_interval=0.3, timeout=60)
        assert job.execution_state is ExecutionState.FAILED and job.errors[0].code == "JobTerminated"

        fill(small_disk, "filler-2")  # whatever space bai kept in reserve is used up now too
        refused = bai("group", "create", "-n", "rg2", "-l", "eastus", check=False)
        assert refused.returncode == 1
        lines = refused.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("bai: error: "), refused.stderr
        assert "full" in lines[0] and str(home) in lines[0], lines[0]
        assert "unexpected" not in lines[0]

        filler.unlink()
        (small_disk / "filler-2").unlink()
        assert bai("group", "create", "-n", "rg2", "-l", "eastus", check=False).returncode == 0
    finally:
        for pid in job_processes(job_uuid):
            os.kill(pid, 9)


# ----------------------------------------------------------------- item 9: a damaged or read-only state

READS = [
    ("group", "list"),
    ("cluster", "list", "-g", "rg", "-w", "ws"),
    ("job", "list", "-g", "rg", "-w", "ws", "-e", "exp"),
]
WRITES = [
    ("group", "create", "-n", "rg2", "-l", "eastus"),
    ("job", "terminate", "-g", "rg", "-w", "ws", "-e", "exp", "-n", "j"),
]


def make_state(home: Path) -> None:
    from tests.test_cli import Bai

    bai = Bai(home)
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("workspace", "create", "-g", "rg", "-n", "ws")
    bai("experiment", "create", "-g", "rg", "-w", "ws", "-n", "exp")


def damage_cases(tmp_path: Path) -> dict[str, Callable[[Path], None]]:
    import sqlite3

    def garbage(path: Path) -> None:
        path.write_bytes(b"this is no database, just text somebody saved here\n" * 100)

    def foreign(path: Path) -> None:
        path.unlink()
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
            conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
        conn.close()

    def newer(path: Path) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA user_version = 99")
        conn.close()

    def truncated(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])

    def folder(path: Path) -> None:
        path.unlink()
        path.mkdir()

    return {"garbage": garbage, "foreign": foreign, "newer": newer, "truncated": truncated, "folder": folder}


@pytest.mark.parametrize("damage", ["garbage", "foreign", "newer", "truncated", "folder"])
def test_a_damaged_state_is_named_and_never_written_over(tmp_path: Path, damage: str) -> None:
    from tests.test_cli import Bai

    make_state(tmp_path)
    database = tmp_path / "bai-home" / "state.sqlite3"
    damage_cases(tmp_path)[damage](database)
    before = database.read_bytes() if database.is_file() else None
    bai = Bai(tmp_path)
    for args in READS + WRITES:
        result = bai(*args, check=False)
        lines = result.stderr.splitlines()
        assert result.returncode == 1 and len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith(f"bai: error: the state at {database} is damaged: "), (args, lines[0])
        assert lines[0].endswith("; move it away to start afresh"), lines[0]
    if before is not None:
        assert database.read_bytes() == before, "a command wrote over the damaged state"


@pytest.fixture
def read_only_home(tmp_path: Path):
    """A BAI_HOME with some state on a tmpfs that is then remounted read-only (root only)."""
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("remounting a tmpfs read-only needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)], check=False).returncode:
        pytest.skip("this machine does not let root mount a tmpfs")
    try:
        make_state(disk)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_reads_work_on_a_read_only_state_and_writes_say_why_not(read_only_home: Path) -> None:
    from tests.test_cli import Bai

    bai = Bai(read_only_home)
    for args in READS:
        result = bai(*args, check=False)
        assert result.returncode == 0, (args, result.stderr)
    assert [group["name"] for group in bai.json("group", "list")] == ["rg"]
    for args in WRITES[:1]:
        result = bai(*args, check=False)
        lines = result.stderr.splitlines()
        assert result.returncode == 1 and len(lines) == 1, (args, result.stderr)
        assert "read-only" in lines[0] and str(read_only_home / "bai-home") in lines[0], lines[0]
        assert "unexpected" not in lines[0]


# --------------------------------------------------------------- item 5: an outage under a batchai stream


async def test_a_batchai_stream_survives_an_outage_that_job_wait_survives(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from azure_emulator import AzureEmulator, Timings
    from azure_emulator.testing import ACCOUNT, job_ref, tutorial_setup
    from azure_emulator.testing import CLUSTER as BATCHAI_CLUSTER
    from azure_emulator.testing import job_spec as batchai_job_spec

    from tui.backends.batchai import open_batchai_backend

    # Links live 2 s, so the stream must fetch new ones (POST listOutputFiles) during the 4 s outage.
    with AzureEmulator(Timings(replay=10.0, sas_lifetime=2.0)) as emulator:
        env = {**emulator.env(), "BAI_RETRY_BACKOFF": "0.8", "BAI_RETRY_TOTAL": "5"}
        backend = open_batchai_backend(env)
        try:
            await tutorial_setup(backend, tmp_path)
            ref = job_ref()
            await backend.jobs.create(
                ref, BATCHAI_CLUSTER, batchai_job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT)
            )
            caplog.set_level(logging.INFO, logger="tui.backends.batchai.stream")
            # The service goes away as the stream starts: its first request is the POST for the link.
            emulator.outage(4.0)
            waiting = asyncio.create_task(backend.jobs.wait(ref, poll_interval=0.2, timeout=60))
            streamed = bytearray()
            async for chunk in backend.jobs.stream_file(ref, "stdout.txt"):
                streamed += chunk
            job = await waiting
            assert job.execution_state is ExecutionState.SUCCEEDED  # job wait survived it...
            assert bytes(streamed) == emulator.world.stdout  # ...and so did the stream: nothing lost
            assert any("reconnecting" in record.getMessage() for record in caplog.records)
        finally:
            await backend.close()


async def test_bai_job_file_stream_says_reconnecting_on_a_terminal(tmp_path: Path) -> None:
    import pty
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from azure_emulator import AzureEmulator, Timings
    from azure_emulator.testing import ACCOUNT, EXPERIMENT_REF, job_ref, tutorial_setup
    from azure_emulator.testing import CLUSTER as BATCHAI_CLUSTER
    from azure_emulator.testing import job_spec as batchai_job_spec

    from tests.test_cli import BAI, make_env
    from tui.backends.batchai import open_batchai_backend

    with AzureEmulator(Timings(replay=6.0)) as emulator:
        env = {**emulator.env(), "BAI_RETRY_BACKOFF": "0.8", "BAI_RETRY_TOTAL": "5"}
        backend = open_batchai_backend(env)
        try:
            await tutorial_setup(backend, tmp_path)
            ref = job_ref()
            await backend.jobs.create(
                ref, BATCHAI_CLUSTER, batchai_job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT)
            )
        finally:
            await backend.close()
        emulator.outage(8.0)  # longer than the command takes to start on a loaded machine
        where = (
            "-g",
            EXPERIMENT_REF.resource_group,
            "-w",
            EXPERIMENT_REF.workspace,
            "-e",
            EXPERIMENT_REF.name,
        )
        primary, secondary = pty.openpty()
        try:
            process = await asyncio.create_subprocess_exec(
                *BAI, "job", "file", "stream", *where, "-j", ref.name, "-f", "stdout.txt",
                stdout=subprocess.PIPE, stderr=secondary, env={**make_env(tmp_path), **env},
            )  # fmt: skip
            os.close(secondary)

            def read_terminal() -> bytes:
                seen = b""
                with contextlib.suppress(OSError):  # EIO once the command closed its end
                    while chunk := os.read(primary, 65536):
                        seen += chunk
                return seen

            reading = asyncio.create_task(asyncio.to_thread(read_terminal))
            stdout, _ = await asyncio.wait_for(process.communicate(), 90)
            terminal = await asyncio.wait_for(reading, 30)
        finally:
            os.close(primary)
        assert process.returncode == 0, terminal
        assert stdout == emulator.world.stdout
        assert b"reconnecting" in terminal, terminal


# ------------------------------------------------------------------- kill -9: the supervisor goes away


async def test_a_killed_supervisor_takes_every_process_of_its_job_with_it(home: Path, tracking: str) -> None:
    """kill -9 of the supervisor: the next reader fails the job and ends all it started, also a process
    that cleared its environment and left its session (found by the job's cgroup or recorded tree)."""
    import signal

    backend = open_local_backend(home)
    await make_tree(backend, nodes=1)
    marker = f"777.{uuid.uuid4().int % 10**9}"
    spec = job_spec(
        {"customToolkitSettings": {"commandLine": f"env -i setsid sleep {marker} & echo escaped; sleep 600"}},
        node_count=1,
    )
    ref = JobRef(RG, WS, EXP, "orphaned")
    created = await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    job_uuid = created.job_output_directory_path_segment.rsplit("/", 1)[1]
    try:

        async def escaped() -> bool:
            return "escaped" in await stdout_of(backend, ref) and bool(pids_running(marker))

        await until(escaped, what="the escaping process")

        async def tracked() -> bool:
            """The supervisor knows the escaped process: in the cgroup, or in its recorded tree."""
            if tracking == "cgroup":
                return True
            record = home / "jobs" / job_uuid / "processes"
            listed = (
                {line.split(" ", 1)[0] for line in record.read_text().splitlines()}
                if record.exists()
                else set()
            )
            return any(str(pid) in listed for pid in pids_running(marker))

        await until(tracked, what="the escaped process recorded")
        supervisors = [int(line.split(":", 1)[0]) for line in command_lines_containing(job_uuid.encode())
                       if "tui.backends.local.supervisor" in line]  # fmt: skip
        assert len(supervisors) == 1, supervisors
        os.kill(supervisors[0], signal.SIGKILL)
        job = await backend.jobs.wait(ref, poll_interval=0.3, timeout=60)
        assert job.execution_state is ExecutionState.FAILED
        assert job.errors[0].code == "SupervisorLost", job.errors
        assert await gone(marker) == [], f"'sleep {marker}' outlived its killed supervisor ({tracking})"
        assert job_processes(job_uuid) == []
    finally:
        for pid in pids_running(marker):
            os.kill(pid, 9)
