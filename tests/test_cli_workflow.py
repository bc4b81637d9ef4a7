"""The tutorial's whole workflow, step by step, from the command line on the local backend: a 2-node
cluster, the trainer uploaded to the share and run by path from the mount root with real horovodrun on
test-made data."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from cifar_data import write_cifar_dataset
from test_cli import BAI, Bai

REPO = Path(__file__).resolve().parents[1]
TRAINER = REPO / "trainer" / "cifar_cnn_distributed.py"
RG, WS, EXP, CLUSTER = "batchai.horovod", "batchaidev", "cifar", "nc6cluster"
IN_WS = ("-g", RG, "-w", WS)
IN_EXP = (*IN_WS, "-e", EXP)
STORAGE = ("--share-name", "myshare", "--account-name", "mystorage")

JOB_JSON = {
    "$schema": "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-05-01/job.json",
    "properties": {
        "nodeCount": 2,
        "horovodSettings": {
            "pythonScriptFilePath": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar/cifar_cnn_distributed.py",
            "commandLineArgs": "--dir=$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar "
            "--data-dir=$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar/data --epochs 1",
        },
        "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar",
        "mountVolumes": {
            "azureFileShares": [
                {
                    "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/myshare",
                    "relativeMountPath": "myshare",
                }
            ]
        },
        "jobPreparation": {
            "commandLine": "apt update; apt install mpi-default-dev mpi-default-bin -y; "
            "pip install keras horovod"
        },
        "containerSettings": {"imageSourceRegistry": {"image": "tensorflow/tensorflow:1.8.0-gpu"}},
    },
}


def header(table: str) -> list[str]:
    return table.splitlines()[0].split()


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_the_tutorial_from_the_command_line(tmp_path: Path) -> None:
    bai = Bai(tmp_path)
    # 1-3: resource group, workspace, experiment
    bai("group", "create", "--name", RG, "--location", "eastus")
    bai("workspace", "create", "-g", RG, "-n", WS)
    bai("experiment", "create", *IN_WS, "--name", EXP)
    # 4-5: a 2-node cluster, shown as az's table
    bai("cluster", "create", *IN_WS, "--name", CLUSTER, "--vm-priority", "dedicated", "--vm-size",
        "Standard_NC6", "--target", "2", "--generate-ssh-keys")  # fmt: skip
    table = bai("cluster", "show", *IN_WS, "-n", CLUSTER, "--output", "table").stdout
    assert header(table) == ["Name", "Resource", "Group", "Workspace", "VM", "Size", "State", "Idle",
                             "Running", "Preparing", "Leaving", "Unusable"]  # fmt: skip
    assert table.splitlines()[2].split() == [
        CLUSTER,
        RG,
        WS,
        "Standard_NC6",
        "steady",
        "2",
        "0",
        "0",
        "0",
        "0",
    ]
    # 6-7: storage, the trainer, the data
    bai("storage", "account", "create", "-g", RG, "-n", "mystorage", "-l", "eastus", "--sku", "Standard_LRS")
    bai("storage", "share", "create", "--name", "myshare", "--account-name", "mystorage")
    bai("storage", "directory", "create", "--name", "cifar", *STORAGE)
    bai("storage", "file", "upload", "--path", "cifar", *STORAGE, "--source", str(TRAINER))
    data = write_cifar_dataset(tmp_path / "data", train_per_batch=20, test_images=40)
    bai("storage", "file", "upload-batch", "--destination", "myshare/cifar/data", "--source", str(data),
        "--account-name", "mystorage")  # fmt: skip

    # 8: submit; the local backend skips jobPreparation and the container, and says so
    (tmp_path / "job.json").write_text(json.dumps(JOB_JSON, indent=4))
    created = bai("job", "create", "--cluster", CLUSTER, "--name", "cifar_distributed", *IN_EXP,
                  "--config-file", "job.json", "--storage-account-name", "mystorage")  # fmt: skip
    assert json.loads(created.stdout)["nodeCount"] == 2
    warnings = created.stderr.lower()
    assert "bai: warning:" in warnings and "preparation" in warnings and "container" in warnings

    job = ("-n", "cifar_distributed", *IN_EXP)
    with subprocess.Popen(
        [*BAI, "job", "file", "stream", *IN_EXP, "-j", "cifar_distributed", "-f", "stdout.txt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=bai.env,
        cwd=tmp_path,
    ) as stream:
        # 9-10: while it runs, both nodes are running it
        seen_running = False
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            state = bai.json("job", "show", *job, "--query", "executionState")
            if state in ("succeeded", "failed"):
                break
            counts = bai.json("cluster", "show", *IN_WS, "-n", CLUSTER, "--query", "nodeStateCounts")
            if state == "running" and counts["runningNodeCount"] == 2:
                assert counts["idleNodeCount"] == 0
                seen_running = True
                break
            time.sleep(0.5)
        assert seen_running, "never saw the job running on both nodes"
        waited = bai("job", "wait", *job, "--interval", "1", timeout=300)
        final = json.loads(waited.stdout)
        assert final["executionState"] == "succeeded", final
        assert final["exitCode"] == 0
        streamed, stream_errors = stream.communicate(timeout=60)
    assert stream.returncode == 0, stream_errors

    # 11: the output files, az's table
    files = bai("job", "file", "list", *IN_EXP, "-j", "cifar_distributed", "--output", "table").stdout
    assert header(files) == ["Name", "Type", "Size", "Modified"]
    names = {line.split()[0] for line in files.splitlines()[2:]}
    assert {"stdout.txt", "stderr.txt"} <= names
    assert any(name.startswith("execution-") and name.endswith(".log") for name in names)

    # 12: the streamed stdout is the file, byte for byte
    segment = final["jobOutputDirectoryPathSegment"]
    bai("storage", "file", "download", "--path", f"cifar/{segment}/stdouterr/stdout.txt", *STORAGE,
        "--dest", str(tmp_path / "stdout.txt"))  # fmt: skip
    on_share = (tmp_path / "stdout.txt").read_bytes()
    assert streamed == on_share
    assert b"Test accuracy:" in streamed

    # 13: the trained model
    model = "cifar/saved_models/keras_cifar10_trained_model.h5"
    bai("storage", "file", "download", "--path", model, *STORAGE, "--dest", str(tmp_path))
    assert (tmp_path / "keras_cifar10_trained_model.h5").read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"

    # 14: stop paying for idle nodes
    bai("cluster", "resize", *IN_WS, "-n", CLUSTER, "--target", "0")
    deadline = time.monotonic() + 60
    while True:
        cluster = bai.json("cluster", "show", *IN_WS, "-n", CLUSTER)
        if cluster["allocationState"] == "steady" and cluster["currentNodeCount"] == 0:
            break
        assert time.monotonic() < deadline, cluster
        time.sleep(0.5)

    # 15: remove everything
    bai("group", "delete", "--name", RG, "--yes")
    assert bai("group", "show", "-n", RG, check=False).returncode == 1
    assert bai.json("workspace", "list") == []
