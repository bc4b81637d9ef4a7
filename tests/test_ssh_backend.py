"""The ssh backend end to end with `bai`, on two real SSH hosts (network namespaces, one sshd each).

The tutorial's workflow runs with `--backend ssh` (BAI_BACKEND=ssh) and its workers really run in both
namespaces; a host down at submission fails `job create` within seconds naming it; a host lost mid-run fails
the job within seconds naming it and shows unusable until it comes back; terminate and a failed rank leave
no worker on any host; a secret never appears on any command line. Needs root and sshd (skips otherwise).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ssh_hosts import SshHosts, ssh_hosts  # noqa: F401 (the session fixture)
from test_cli import Bai

RG, WS, EXP, CLUSTER, ACCOUNT, SHARE = (
    "batchai.horovod",
    "batchaidev",
    "cifar",
    "hosts",
    "baistore",
    "myshare",
)
IN_WS = ("-g", RG, "-w", WS)
SECRET = "s3cr3t-never-in-ps-7781"

# One worker: says where it runs (pid, network namespace, hostname), proves it got the environment (a hash
# of the secret, never the secret), then does what its arguments say.
WORK = textwrap.dedent(
    """
    import hashlib, os, socket, sys, time
    rank = int(os.environ.get("HOROVOD_RANK", "0"))
    secret = hashlib.sha256(os.environ.get("MY_SECRET", "").encode()).hexdigest()[:12]
    print(f"rank {rank} pid {os.getpid()} netns {os.readlink('/proc/self/ns/net')} "
          f"hostname {socket.gethostname()} secret {secret} plain {os.environ.get('PLAIN')} "
          f"argv {sys.argv[1:]}", flush=True)
    args = sys.argv[1:]
    if "--crash" in args and rank == 1:
        time.sleep(1)
        raise ValueError("boom from rank 1")
    if "--hang" in args:
        print(f"rank {rank} ready", flush=True)
        time.sleep(600)
    if "--wait-for" in args:
        path = args[args.index("--wait-for") + 1]
        deadline = time.time() + 120
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.2)
    if rank == 0 and "--dir" in args:
        folder = args[args.index("--dir") + 1]
        os.makedirs(os.path.join(folder, "saved_models"), exist_ok=True)
        with open(os.path.join(folder, "saved_models", "keras_cifar10_trained_model.h5"), "wb") as out:
            out.write(b"model")
        print("Test accuracy: 1.0", flush=True)
    """
)


class World:
    """One $BAI_HOME with the tutorial's resources and a cluster of the two namespace hosts."""

    def __init__(self, bai: Bai, hosts: SshHosts):
        self.bai = bai
        self.hosts = hosts
        self.home = bai.home

    def job_file(self, name: str, args: str, node_count: int = 2, **extra: Any) -> Path:
        root = "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar"
        document = {
            "properties": {
                "nodeCount": node_count,
                "horovodSettings": {
                    "pythonScriptFilePath": f"{root}/work.py",
                    "commandLineArgs": args,
                },
                "stdOutErrPathPrefix": root,
                "mountVolumes": {
                    "azureFileShares": [
                        {
                            "azureFileUrl": f"https://{ACCOUNT}.file.core.windows.net/{SHARE}",
                            "relativeMountPath": SHARE,
                        }
                    ]
                },
                "environmentVariables": [{"name": "PLAIN", "value": "plain-value"}],
                "secrets": [{"name": "MY_SECRET", "value": SECRET}],
                **extra,
            }
        }
        path = self.home / f"{name}.json"
        path.write_text(json.dumps(document))
        return path

    def submit(
        self, name: str, args: str, check: bool = True, **extra: Any
    ) -> subprocess.CompletedProcess[str]:
        return self.bai(
            "job",
            "create",
            *IN_WS,
            "-e",
            EXP,
            "-n",
            name,
            "-c",
            CLUSTER,
            "-f",
            str(self.job_file(name, args, **extra)),
            "-o",
            "none",
            check=check,
            timeout=90,
        )

    def job(self, name: str) -> dict[str, Any]:
        return self.bai.json("job", "show", *IN_WS, "-e", EXP, "-n", name)

    def cluster(self) -> dict[str, Any]:
        return self.bai.json("cluster", "show", *IN_WS, "-n", CLUSTER)

    def host_states(self) -> dict[str, str]:
        return {host["name"]: host["state"] for host in self.cluster()["hosts"]}

    def processes(self, text: str) -> list[int]:
        """This world's processes whose command line has `text` (its workers run scripts from its share)."""
        return processes_with(text, self.home)

    def stdouterr(self, name: str) -> Path:
        found = list(
            (self.home / "bai-home" / "storage" / ACCOUNT / SHARE).glob(f"cifar/**/jobs/{name}/*/stdouterr")
        )
        assert len(found) == 1, found
        return found[0]

    def stdout(self, name: str) -> str:
        try:
            return (self.stdouterr(name) / "stdout.txt").read_text()
        except (AssertionError, FileNotFoundError):
            return ""

    def wait_state(self, name: str, timeout: float = 90) -> dict[str, Any]:
        return wait_for(
            lambda: (job := self.job(name))["executionState"] in ("succeeded", "failed") and job, timeout
        )


def wait_for(condition: Callable[[], Any], timeout: float = 60, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {condition}")
        time.sleep(every)


def processes_with(text: str, within: Path | None = None) -> list[int]:
    """Pids (on this machine, which shares its pid namespace with the hosts) whose command line has `text`
    (and the folder `within`: another xdist worker may run its own hosts and jobs at the same time)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline and (within is None or str(within).encode() in cmdline):
                found.append(int(entry.name))
    return found


def netns_of(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/net")


def worker_pids(stdout: str) -> dict[int, int]:
    pids = {}
    for line in stdout.splitlines():
        parts = line.split(":", 1)[-1].split()
        if len(parts) > 3 and parts[0] == "rank" and parts[2] == "pid":
            pids[int(parts[1])] = int(parts[3])
    return pids


def end(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def world(ssh_hosts: SshHosts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:  # noqa: F811
    home = tmp_path_factory.mktemp("ssh-world")
    bai = Bai(home)
    bai.env["BAI_BACKEND"] = "ssh"
    bai.env["BAI_TERMINATE_GRACE_SECONDS"] = "3"
    made = World(bai, ssh_hosts)
    bai("group", "create", "-n", RG, "-l", "eastus", "-o", "none")
    bai("workspace", "create", "-g", RG, "-n", WS, "-o", "none")
    bai("experiment", "create", *IN_WS, "-n", EXP, "-o", "none")
    bai("storage", "account", "create", "-g", RG, "-n", ACCOUNT, "-l", "eastus", "-o", "none")
    bai("storage", "share", "create", "-n", SHARE, "--account-name", ACCOUNT, "-o", "none")
    bai(
        "storage",
        "directory",
        "create",
        "-n",
        "cifar",
        "--share-name",
        SHARE,
        "--account-name",
        ACCOUNT,
        "-o",
        "none",
    )
    (home / "work.py").write_text(WORK)
    bai(
        "storage",
        "file",
        "upload",
        "--path",
        "cifar",
        "--share-name",
        SHARE,
        "--account-name",
        ACCOUNT,
        "--source",
        str(home / "work.py"),
        "-o",
        "none",
    )
    bai(
        "cluster",
        "create",
        *IN_WS,
        "-n",
        CLUSTER,
        "--hosts",
        ssh_hosts.hosts_option(),
        "--ssh-user",
        "root",
        "--ssh-key",
        str(ssh_hosts.key),
        "--network-interface",
        ssh_hosts.interface,
        "-o",
        "none",
        timeout=90,
    )
    yield made
    end(processes_with(str(home)))


# ---------------------------------------------------------------------------------------------- clusters


def test_cluster_create_checks_every_host_and_shows_them(world: World, tmp_path: Path) -> None:
    hosts, bai = world.hosts, world.bai
    a, b = hosts.hosts
    shown = world.cluster()
    assert shown["currentNodeCount"] == 2 and shown["allocationState"] == "steady"
    assert shown["nodeStateCounts"]["idleNodeCount"] == 2
    assert shown["hosts"] == [
        {"name": a.address, "slots": 1, "state": "idle", "gpus": []},
        {"name": b.address, "slots": 1, "state": "idle", "gpus": []},
    ]
    # The backend's own known_hosts has both keys; the user's ~/.ssh is never touched.
    known = (world.home / "bai-home" / "ssh" / "known_hosts").read_text()
    assert a.address in known and b.address in known
    assert not (world.home / ".ssh").exists() and not (world.home / ".horovod").exists()

    # horovodrun's hostfile format, with the comments and blank lines horovodrun rejects; --target 1.
    hostfile = tmp_path / "hostfile"
    hostfile.write_text(f"# our two hosts\n\n{a.address} slots=2  # first\n{b.address} slots=1\n")
    made = bai.json(
        "cluster",
        "create",
        *IN_WS,
        "-n",
        "fromfile",
        "--hostfile",
        str(hostfile),
        "--target",
        "1",
        "--ssh-user",
        "root",
        "--ssh-key",
        str(hosts.key),
        timeout=90,
    )
    assert made["currentNodeCount"] == 1 and made["targetNodeCount"] == 1
    assert [(h["name"], h["slots"], h["state"]) for h in made["hosts"]] == [(a.address, 2, "idle")]
    grown = bai.json("cluster", "resize", *IN_WS, "-n", "fromfile", "--target", "2", timeout=90)
    assert [(h["name"], h["state"]) for h in grown["hosts"]] == [(a.address, "idle"), (b.address, "idle")]
    bai("cluster", "delete", *IN_WS, "-n", "fromfile", "-y")

    # A host nobody answers for: create fails within seconds, one line per failed check, nothing created.
    nobody = a.address.rsplit(".", 1)[0] + ".99"
    started = time.monotonic()
    failed = bai(
        "cluster",
        "create",
        *IN_WS,
        "-n",
        "broken",
        "--hosts",
        f"{a.address},{nobody}",
        "--ssh-user",
        "root",
        "--ssh-key",
        str(hosts.key),
        check=False,
        timeout=90,
    )
    assert time.monotonic() - started < 15
    assert failed.returncode == 1
    lines = failed.stderr.splitlines()
    assert len(lines) == 1, failed.stderr
    assert lines[0].startswith(f"bai: error: host {nobody}: cannot be reached over SSH"), failed.stderr
    assert lines[0].endswith("(cluster broken not created)"), failed.stderr
    # A job Python without Horovod fails the check on every host, naming each.
    failed = bai(
        "cluster",
        "create",
        *IN_WS,
        "-n",
        "broken",
        "--hosts",
        hosts.hosts_option(),
        "--python",
        "/usr/bin/python3",
        "--ssh-user",
        "root",
        "--ssh-key",
        str(hosts.key),
        check=False,
        timeout=90,
    )
    assert [line.split(":")[2].strip() for line in failed.stderr.splitlines()] == [
        f"host {a.address}",
        f"host {b.address}",
    ], failed.stderr
    assert "the job Python /usr/bin/python3 cannot run Horovod" in failed.stderr
    assert bai("cluster", "show", *IN_WS, "-n", "broken", check=False).returncode != 0


def test_a_changed_host_key_refuses_the_host(world: World) -> None:
    hosts, bai = world.hosts, world.bai
    a = hosts.hosts[0]
    known = world.home / "bai-home" / "ssh" / "known_hosts"
    original = known.read_text()
    other = world.home / "otherkey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    fake = f"{a.address} {' '.join(Path(f'{other}.pub').read_text().split()[:2])}\n"
    known.write_text(
        "".join(line for line in original.splitlines(True) if not line.startswith(a.address)) + fake
    )
    try:
        failed = bai(
            "cluster",
            "create",
            *IN_WS,
            "-n",
            "changed",
            "--hosts",
            a.address,
            "--ssh-user",
            "root",
            "--ssh-key",
            str(hosts.key),
            check=False,
            timeout=90,
        )
        assert f"host {a.address}: its SSH host key is not the one bai saw first" in failed.stderr
        assert "ssh-keygen -R" in failed.stderr
        assert fake in known.read_text()  # the first key seen is kept, never replaced
    finally:
        known.write_text(original)


# ------------------------------------------------------------------------------------------------- jobs


def test_tutorial_workflow_runs_on_both_hosts(world: World) -> None:
    a, b = world.hosts.hosts
    go = world.home / "bai-home" / "storage" / ACCOUNT / SHARE / "cifar" / "go"
    go.unlink(missing_ok=True)
    # Script arguments that horovodrun's parser would take (`--n`) never reach it.
    world.submit(
        "tutorial",
        "--dir $AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar --n 1000 --wait-for "
        "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar/go",
    )
    wait_for(lambda: len(worker_pids(world.stdout("tutorial"))) == 2, 90)
    running = world.cluster()
    assert running["nodeStateCounts"]["runningNodeCount"] == 2, running
    assert {h["name"]: h["state"] for h in running["hosts"]} == {a.address: "running", b.address: "running"}
    assert world.job("tutorial")["executionState"] == "running"
    # Resized down while busy: the second host leaves when the job ends (hosts go in the listed order).
    resized = world.bai.json("cluster", "resize", *IN_WS, "-n", CLUSTER, "--target", "1", timeout=90)
    assert resized["allocationState"] == "resizing"
    assert [(h["name"], h["state"]) for h in resized["hosts"]] == [
        (a.address, "running"),
        (b.address, "leaving"),
    ]
    go.write_text("go")
    job = world.wait_state("tutorial")
    assert job["executionState"] == "succeeded", job
    out = world.stdout("tutorial")
    # Each rank ran in its own host's network namespace, with the job's variables and secret.
    by_rank = {}
    for line in out.splitlines():
        if "]<stdout>:rank " in line and " netns " in line:
            fields = line.split("<stdout>:", 1)[1].split()
            by_rank[int(fields[1])] = dict(zip(fields[2::2], fields[3::2], strict=False))
    assert {by_rank[0]["netns"], by_rank[1]["netns"]} == {
        f"net:[{a.netns_inode()}]",
        f"net:[{b.netns_inode()}]",
    }
    assert {by_rank[0]["hostname"], by_rank[1]["hostname"]} == {a.name, b.name}
    expected = hashlib.sha256(SECRET.encode()).hexdigest()[:12]
    assert by_rank[0]["secret"] == by_rank[1]["secret"] == expected
    assert by_rank[0]["plain"] == "plain-value"
    assert "argv ['--dir'" in out and "'--n', '1000'" in out
    assert f"[bai] rank 1 of the job runs on host {b.address}" in out
    files = {f["name"] for f in world.bai.json("job", "file", "list", *IN_WS, "-e", EXP, "-j", "tutorial")}
    assert {"stdout.txt", "stderr.txt", f"execution-{a.address}.log", f"execution-{b.address}.log"} <= files
    streamed = world.bai(
        "job", "file", "stream", *IN_WS, "-e", EXP, "-j", "tutorial", "-f", "stdout.txt"
    ).stdout
    assert "Test accuracy: 1.0" in streamed
    target = world.home / "model.h5"
    world.bai(
        "storage",
        "file",
        "download",
        "--path",
        "cifar/saved_models/keras_cifar10_trained_model.h5",
        "--share-name",
        SHARE,
        "--account-name",
        ACCOUNT,
        "--dest",
        str(target),
        "-o",
        "none",
    )
    assert target.read_bytes() == b"model"
    after = world.cluster()
    assert after["allocationState"] == "steady" and after["currentNodeCount"] == 1
    assert world.host_states() == {a.address: "idle"}
    # The tutorial's step 14 (stop paying) and back.
    assert world.bai.json("cluster", "resize", *IN_WS, "-n", CLUSTER, "--target", "0")["hosts"] == []
    world.bai("cluster", "resize", *IN_WS, "-n", CLUSTER, "--target", "2", "-o", "none", timeout=90)
    assert world.host_states() == {a.address: "idle", b.address: "idle"}


@pytest.mark.slow
def test_the_tutorial_trainer_trains_on_both_hosts(world: World, tmp_path: Path) -> None:
    """The real trainer (TensorFlow, Horovod allreduce over Gloo between the hosts) on tiny test-made data."""
    from cifar_data import write_cifar_dataset

    trainer = Path(__file__).resolve().parents[1] / "trainer" / "cifar_cnn_distributed.py"
    bai = world.bai
    bai("storage", "file", "upload", "--path", "cifar", "--share-name", SHARE, "--account-name", ACCOUNT,
        "--source", str(trainer), "-o", "none")  # fmt: skip
    data = write_cifar_dataset(tmp_path / "data", train_per_batch=20, test_images=32, batches=5)
    bai("storage", "file", "upload-batch", "--destination", f"{SHARE}/cifar/data", "--account-name", ACCOUNT,
        "--source", str(data), "-o", "none", timeout=120)  # fmt: skip
    root = "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar"
    path = world.job_file("trainer", "")
    document = json.loads(path.read_text())
    document["properties"]["horovodSettings"] = {
        "pythonScriptFilePath": f"{root}/{trainer.name}",
        "commandLineArgs": f"--dir={root} --data-dir={root}/data --epochs 1 --verbose 2"
        " --max-train-images 64 --max-test-images 32",
    }
    path.write_text(json.dumps(document))
    bai("job", "create", *IN_WS, "-e", EXP, "-n", "trainer", "-c", CLUSTER, "-f", str(path), "-o", "none",
        timeout=90)  # fmt: skip
    job = world.wait_state("trainer", 600)
    assert job["executionState"] == "succeeded", job["errors"]
    out = world.stdout("trainer")
    assert "Test accuracy:" in out
    assert "[bai] rank 0 of the job runs on host" in out and "[bai] rank 1 of the job runs on host" in out


def test_secret_never_on_a_command_line_and_terminate_stops_every_host(world: World) -> None:
    world.submit("hang", "--hang")
    wait_for(lambda: world.stdout("hang").count(" ready") == 2, 90)
    pids = worker_pids(world.stdout("hang"))
    assert {netns_of(pid) for pid in pids.values()} == {
        f"net:[{host.netns_inode()}]" for host in world.hosts.hosts
    }
    assert processes_with(SECRET) == []
    # The workers read their environment from a 0600 file that is gone once all have started.
    job_dirs = list((world.home / "bai-home" / "storage" / ".bai" / "jobs").glob("*/hosts.json"))
    assert job_dirs
    wait_for(lambda: not any((path.parent / "secrets.env").exists() for path in job_dirs), 30)
    job = world.bai.json("job", "terminate", *IN_WS, "-e", EXP, "-n", "hang", timeout=90)
    assert job["executionState"] == "failed"
    assert "terminated" in job["errors"][0]["message"]
    wait_for(lambda: world.processes("work.py --hang") == [], 10)
    assert all(world.host_states()[host.address] == "idle" for host in world.hosts.hosts)


def test_a_failed_rank_stops_the_workers_on_the_other_host(world: World) -> None:
    b = world.hosts.hosts[1]
    world.submit("crash", "--crash --hang")
    job = world.wait_state("crash")
    assert job["executionState"] == "failed"
    message = job["errors"][0]["message"]
    assert f"rank 1 on host {b.address} exited with code 1" in message and "boom from rank 1" in message, (
        message
    )
    assert world.processes("work.py --crash") == []


def test_job_preparation_on_each_host_custom_toolkit_on_the_first_and_custom_mpi_on_all(world: World) -> None:
    a, b = world.hosts.hosts
    root = "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar"
    base = json.loads(world.job_file("custom", "").read_text())["properties"]
    del base["horovodSettings"]
    custom = dict(base, customToolkitSettings={"commandLine": "echo custom on $(hostname) plain=$PLAIN"})
    custom["jobPreparation"] = {"commandLine": "echo prep on $(hostname)"}
    mpi = dict(base, customMpiSettings={"commandLine": f"python3 {root}/work.py --mpi"})
    for name, properties in (("custom", custom), ("mpi", mpi)):
        (world.home / f"{name}.json").write_text(json.dumps({"properties": properties}))
        path = str(world.home / f"{name}.json")
        world.bai("job", "create", *IN_WS, "-e", EXP, "-n", name, "-c", CLUSTER, "-f", path,
                  "--run-job-preparation", "-o", "none", timeout=90)  # fmt: skip
    for name in ("custom", "mpi"):
        assert world.wait_state(name)["executionState"] == "succeeded", world.job(name)
    folder = world.stdouterr("custom")
    assert (folder / f"stdout-job_prep-{a.address}.txt").read_text() == f"prep on {a.name}\n"
    assert (folder / f"stdout-job_prep-{b.address}.txt").read_text() == f"prep on {b.name}\n"
    assert f"custom on {a.name} plain=plain-value" in (folder / "stdout.txt").read_text()
    out = world.stdout("mpi")
    assert {f"hostname {host.name}" in out for host in (a, b)} == {True}, out


def test_max_wall_clock_time_stops_the_workers_on_every_host(world: World) -> None:
    world.submit("wallclock", "--hang --wallclock", constraints={"maxWallClockTime": "PT50S"})
    job = world.wait_state("wallclock", 150)
    assert job["executionState"] == "failed"
    assert job["errors"][0]["code"] == "MaxWallClockTimeExceeded", job["errors"]
    wait_for(lambda: world.processes("work.py --hang --wallclock") == [], 15)


def test_a_killed_supervisor_is_noticed_and_the_workers_on_every_host_stopped(world: World) -> None:
    import sqlite3

    world.submit("orphan", "--hang")
    wait_for(lambda: world.stdout("orphan").count(" ready") == 2, 90)
    with sqlite3.connect(world.home / "bai-home" / "ssh-state.sqlite3") as conn:
        (pid,) = conn.execute("SELECT supervisor_pid FROM jobs WHERE name = 'orphan'").fetchone()
    os.kill(pid, signal.SIGKILL)
    job = wait_for(lambda: (found := world.job("orphan"))["executionState"] == "failed" and found, 60)
    assert job["errors"][0]["code"] == "SupervisorLost", job["errors"]
    wait_for(lambda: world.processes("work.py --hang") == [], 30)


async def test_the_console_node_table_shows_the_hosts_and_their_states(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_console import fill_dialog, go_to, make_app, until

    from tui.backends import open_backend
    from tui.core.model import ClusterRef, JobRef

    a, b = world.hosts.hosts
    monkeypatch.setenv("BAI_HOME", str(world.home / "bai-home"))
    monkeypatch.setenv("BAI_BACKEND", "ssh")
    backend = open_backend()
    app = make_app(backend)

    def hosts() -> str:
        return str(app.query_one("#nodes-hosts").render())

    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await go_to(pilot, app, RG, WS, CLUSTER)
            await until(pilot, lambda: CLUSTER in app.nodes.clusters, 30, "the cluster row")
            assert app.nodes.cell(CLUSTER, "idle") == "2"
            assert f"{a.address}  1 slot  idle" in hosts() and f"{b.address}  1 slot  idle" in hosts()
            # A running job's hosts read running; a host that went away reads unusable, with why.
            world.submit("console", "--hang")
            await until(pilot, lambda: app.nodes.cell(CLUSTER, "running") == "2", 90, "2 running nodes")
            await until(pilot, lambda: hosts().count("  running") == 2, 30, "both hosts running")
            ref = JobRef(RG, WS, EXP, "console")
            await backend.jobs.terminate(ref)
            await until(pilot, lambda: hosts().count("  idle") == 2, 60, "both hosts idle again")
            b.link(up=False)
            try:
                await until(pilot, lambda: f"{b.address}  1 slot  unusable" in hosts(), 60, "b unusable")
                assert "cannot be reached over SSH" in hosts()
                assert app.nodes.cell(CLUSTER, "unusable") == "1"
            finally:
                b.link(up=True)
            await until(pilot, lambda: f"{b.address}  1 slot  idle" in hosts(), 60, "b idle again")
            # A cluster of the same hosts made in the console's create dialog (c).
            await pilot.press("c")
            values = {"name": "fromconsole", "hosts": f"{a.address}:2,{b.address}", "ssh_user": "root"}
            values |= {"ssh_key": str(world.hosts.key), "interface": world.hosts.interface}
            await fill_dialog(pilot, values)
            await until(pilot, lambda: "fromconsole" in app.nodes.clusters, 60, "the new cluster's row")
            assert f"{a.address}  2 slots  idle" in hosts()
            await backend.clusters.delete(ClusterRef(RG, WS, "fromconsole"))
    finally:
        await backend.close()


def test_a_host_down_at_submission_fails_job_create_naming_it(world: World) -> None:
    a, b = world.hosts.hosts
    b.link(up=False)
    try:
        started = time.monotonic()
        failed = world.submit("unreachable", "", check=False)
        took = time.monotonic() - started
        print(f"job create with a host down failed after {took:.1f} s")
        assert failed.returncode == 1 and took < 15, (took, failed.stderr)  # ~10 s: a loaded 2-core CI
        assert f"bai: error: host {b.address}: cannot be reached over SSH" in failed.stderr
        assert world.bai("job", "show", *IN_WS, "-e", EXP, "-n", "unreachable", check=False).returncode != 0
        assert world.host_states() == {a.address: "idle", b.address: "unusable"}
        # A job that does not need the missing host runs on the other one, with a warning naming it.
        one = world.submit("onehost", "", nodeCount=1)
        assert f"host {b.address}: cannot be reached over SSH" in one.stderr, one.stderr
        assert "the job runs on the other hosts" in one.stderr
        assert world.wait_state("onehost")["executionState"] == "succeeded"
    finally:
        b.link(up=True)
    # A host that comes back is no longer unusable at the next probe.
    wait_for(lambda: world.host_states()[b.address] == "idle", 40, every=1)


def test_a_host_lost_mid_run_fails_the_job_naming_it(world: World) -> None:
    a, b = world.hosts.hosts
    world.submit("lost", "--hang")
    wait_for(lambda: world.stdout("lost").count(" ready") == 2, 90)
    pids = worker_pids(world.stdout("lost"))
    b.link(up=False)
    try:
        started = time.monotonic()
        job = world.wait_state("lost", 60)
        took = time.monotonic() - started
        print(f"the job failed {took:.1f} s after its host was lost")
        assert job["executionState"] == "failed"
        assert took < 20, took
        assert f"host {b.address} was lost during the job" in job["errors"][0]["message"], job["errors"]
        # Nothing is left on the host that is still there.
        on_a = [
            pid for pid in world.processes("work.py --hang") if netns_of(pid) == f"net:[{a.netns_inode()}]"
        ]
        assert on_a == []
        assert world.host_states() == {a.address: "idle", b.address: "unusable"}
    finally:
        b.link(up=True)
        end([pid for pid in pids.values() if pid in world.processes("work.py --hang")])
    wait_for(lambda: world.host_states()[b.address] == "idle", 40, every=1)


def test_group_delete_removes_the_cluster_and_its_jobs(world: World) -> None:
    """The tutorial's last step; runs last (it removes the module's resources)."""
    world.submit("last", "--hang")
    wait_for(lambda: world.stdout("last").count(" ready") == 2, 90)
    world.bai("group", "delete", "-n", RG, "-y", timeout=90)
    assert world.bai("cluster", "show", *IN_WS, "-n", CLUSTER, check=False).returncode != 0
    wait_for(lambda: world.processes("work.py --hang") == [], 30)
