"""Local backend with real horovodrun: the tutorial's workflow through the service layer, a crashing rank,
terminating a running Horovod job, and script arguments that horovodrun's own parser must never see."""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path

import pytest
from cifar_data import write_cifar_dataset

from tui.backends.base import JobSubmitOptions
from tui.backends.local import open_local_backend
from tui.backends.local.procs import job_processes, start_time
from tui.core.jobspec import parse_job_spec
from tui.core.model import AllocationState, ClusterRef, ExecutionState, ExperimentRef, JobRef

RG, WS, EXP, CLUSTER = "batchai.horovod", "batchaidev", "cifar", "nc6cluster"
CLUSTER_REF = ClusterRef(RG, WS, CLUSTER)
TRAINER = Path(__file__).resolve().parents[1] / "trainer" / "cifar_cnn_distributed.py"
SHARE_URL = "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/myshare"

# Until the real trainer is in the tree: a small real Horovod program (allreduce across the ranks).
ALLREDUCE = textwrap.dedent(
    """
    import argparse, os
    import horovod.tensorflow as hvd
    import tensorflow as tf

    parser = argparse.ArgumentParser()
    parser.add_argument("--dir")
    args, _ = parser.parse_known_args()
    hvd.init()
    total = hvd.allreduce(tf.constant(float(hvd.rank() + 1)), op=hvd.Sum)
    print(f"rank {hvd.rank()} of {hvd.size()}: allreduce sum {float(total):g}", flush=True)
    if hvd.rank() == 0:
        os.makedirs(os.path.join(args.dir, "saved_models"), exist_ok=True)
        with open(os.path.join(args.dir, "saved_models", "keras_cifar10_trained_model.h5"), "wb") as out:
            out.write(b"model")
        print("Test accuracy: 1.0", flush=True)
    """
)

# A rank that needs no TensorFlow: quick, and still started, prefixed and reaped by the real horovodrun.
RANKS = textwrap.dedent(
    """
    import os, sys, time
    rank = int(os.environ["HOROVOD_RANK"])
    print(f"rank {rank} pid {os.getpid()} argv {sys.argv[1:]}", flush=True)
    if "--crash" in sys.argv and rank == 1:
        time.sleep(0.5)
        raise ValueError(f"boom from rank {rank}")
    if "--hang" in sys.argv:
        print(f"rank {rank} ready", flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAI_TERMINATE_GRACE_SECONDS", "3")
    return tmp_path / "bai-home"


async def tree(backend, nodes: int = 2) -> None:
    """Steps 1-4 and 6 of the tutorial: group, workspace, experiment, cluster, storage."""
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    await backend.experiments.create(ExperimentRef(RG, WS, EXP))
    await backend.clusters.create(CLUSTER_REF, "Standard_NC6", nodes, vm_priority="dedicated")
    await backend.storage.create_account(RG, "mystore", "eastus")
    await backend.storage.create_share("mystore", "myshare")
    await backend.storage.create_directory("mystore", "myshare", "cifar")


def horovod_job(script: str, args: str, node_count: int = 2, **properties: object):
    return parse_job_spec(
        {
            "properties": {
                "nodeCount": node_count,
                "horovodSettings": {
                    "pythonScriptFilePath": f"$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar/{script}",
                    "commandLineArgs": args,
                },
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar",
                "mountVolumes": {
                    "azureFileShares": [{"azureFileUrl": SHARE_URL, "relativeMountPath": "myshare"}]
                },
                **properties,
            }
        }
    )


async def upload_text(backend, tmp_path: Path, name: str, text: str) -> None:
    source = tmp_path / name
    source.write_text(text)
    await backend.storage.upload_file("mystore", "myshare", "cifar", source)


async def until(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_tutorial_workflow_on_a_two_node_cluster(home, tmp_path):
    backend = open_local_backend(home)
    await tree(backend)
    cluster = await backend.clusters.get(CLUSTER_REF)
    assert (cluster.allocation_state, cluster.node_state_counts.idle_node_count) == (
        AllocationState.STEADY,
        2,
    )

    # Step 7: the training script (and, since nothing here reaches the internet, test-made data) on the share.
    if TRAINER.exists():
        await backend.storage.upload_file("mystore", "myshare", "cifar", TRAINER)
        script, extra = (
            TRAINER.name,
            (
                " --data-dir=$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar/data --epochs 1 --verbose 2"
                " --max-train-images 64 --max-test-images 32"
            ),
        )
        data = write_cifar_dataset(tmp_path / "data", train_per_batch=20, test_images=32, batches=5)
        await backend.storage.upload_directory("mystore", "myshare", "cifar/data", data)
    else:
        await upload_text(backend, tmp_path, "allreduce.py", ALLREDUCE)
        script, extra = "allreduce.py", ""

    # Step 8: the tutorial's job.json (2 nodes), with its placeholder filled from --storage-account-name.
    spec = horovod_job(
        script,
        "--dir=$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar" + extra,
        jobPreparation={"commandLine": "apt update; apt install mpi-default-dev mpi-default-bin -y"},
        containerSettings={"imageSourceRegistry": {"image": "tensorflow/tensorflow:1.8.0-gpu"}},
    )
    ref = JobRef(RG, WS, EXP, "cifar_distributed")
    job = await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    assert job.toolkit == "horovod"
    assert len(job.warnings) == 2

    async def stream() -> bytes:
        return b"".join([chunk async for chunk in backend.jobs.stream_file(ref, "stdout.txt")])

    streaming = asyncio.create_task(stream())

    # Steps 9-10 while it runs: running, both nodes held; a fresh backend object sees the same.
    async def both_running() -> bool:
        counts = (await backend.clusters.get(CLUSTER_REF)).node_state_counts
        return counts.running_node_count == 2

    await until(both_running)
    fresh = open_local_backend(home)
    assert (await fresh.jobs.get(ref)).execution_state is ExecutionState.RUNNING
    assert (await fresh.clusters.get(CLUSTER_REF)).node_state_counts.idle_node_count == 0

    job = await fresh.jobs.wait(ref, poll_interval=0.5, timeout=400)
    assert job.execution_state is ExecutionState.SUCCEEDED, job.errors
    assert job.exit_code == 0
    streamed = await asyncio.wait_for(streaming, 30)

    # Step 11: the output files as Batch AI listed them.
    files = {entry.name for entry in await backend.jobs.list_output_files(ref, "stdouterr")}
    nodes = sorted(name[len("execution-") : -len(".log")] for name in files if name.startswith("execution-"))
    assert len(nodes) == 2
    assert files == {"stdout.txt", "stderr.txt"} | {
        name
        for node in nodes
        for name in (f"execution-{node}.log", f"stdout-job_prep-{node}.txt", f"stderr-job_prep-{node}.txt")
    }

    # Step 12: the stream is the file, byte for byte (fetched from the share where Batch AI put it).
    stdouterr = f"cifar/{job.job_output_directory_path_segment}/stdouterr"
    downloaded = await backend.storage.download_file(
        "mystore", "myshare", f"{stdouterr}/stdout.txt", tmp_path
    )
    assert streamed == downloaded.read_bytes()
    assert b"[0]<stdout>:" in streamed and b"[1]<stdout>:" in streamed
    assert b"Test accuracy:" in streamed

    # Step 13: the trained model.
    model = await backend.storage.download_file(
        "mystore", "myshare", "cifar/saved_models/keras_cifar10_trained_model.h5", tmp_path / "model.h5"
    )
    assert model.stat().st_size > 0

    # Steps 14-15: resize to 0, delete everything.
    cluster = await backend.clusters.resize(CLUSTER_REF, 0)
    assert (cluster.current_node_count, cluster.allocation_state) == (0, AllocationState.STEADY)
    await backend.groups.delete(RG)
    assert await backend.groups.list() == []
    assert not (home / "storage" / "mystore").exists()
    assert list((home / "jobs").iterdir()) == []


async def test_crashing_rank_fails_the_job_with_its_error(home, tmp_path):
    backend = open_local_backend(home)
    await tree(backend)
    await upload_text(backend, tmp_path, "ranks.py", RANKS)
    ref = JobRef(RG, WS, EXP, "crash")
    # `--n 1000` would be an ambiguous abbreviation for horovodrun's own parser: it must reach the script.
    spec = horovod_job("ranks.py", "--n 1000 --crash")
    await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    job = await backend.jobs.wait(ref, poll_interval=0.2, timeout=120)
    assert job.execution_state is ExecutionState.FAILED
    assert job.exit_code not in (None, 0)
    error = job.errors[0]
    assert error.message == "rank 1 exited with code 1: ValueError: boom from rank 1"
    assert error.details["rank"] == "1"
    out = b"".join([chunk async for chunk in backend.jobs.stream_file(ref, "stdout.txt")]).decode()
    assert "argv ['--n', '1000', '--crash']" in out
    assert (await backend.clusters.get(CLUSTER_REF)).node_state_counts.idle_node_count == 2


async def test_terminate_stops_every_rank(home, tmp_path):
    backend = open_local_backend(home)
    await tree(backend)
    await upload_text(backend, tmp_path, "ranks.py", RANKS)
    ref = JobRef(RG, WS, EXP, "hang")
    spec = horovod_job("ranks.py", "--hang")
    job = await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name="mystore"))
    uuid = job.job_output_directory_path_segment.rsplit("/", 1)[1]
    seen = b""
    async for chunk in backend.jobs.stream_file(ref, "stdout.txt"):
        seen += chunk
        if seen.count(b" ready") == 2:
            break
    pids = [int(line.split(" pid ")[1].split()[0]) for line in seen.decode().splitlines() if " pid " in line]
    assert len(pids) == 2
    assert sorted(job_processes(uuid)) != []
    job = await backend.jobs.terminate(ref)
    assert job.execution_state is ExecutionState.FAILED
    assert job.errors[0].code == "JobTerminated"
    assert job_processes(uuid) == []
    # Gone, or at most a zombie waiting for init to reap it: nothing of the job runs any more.
    assert [pid for pid in pids if start_time(pid) is not None] == []
    assert (await backend.clusters.get(CLUSTER_REF)).node_state_counts.idle_node_count == 2
