"""The tutorial's workflow with `bai --backend azureml` in subprocesses against the emulator's Azure ML API:
group, storage, share, upload, workspace, cluster, the tutorial's own job.json, node states while it runs,
every rank's log streamed through `-f stdout.txt`, the model downloaded from the share, resize to 0, delete;
and a scan of everything shown for the token, the storage key and SAS signatures."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure_emulator import MODEL_BYTES, AzureEmulator, Timings
from azure_emulator.ml import split_ranks
from test_batchai_cli import assert_no_secret, secrets_of
from test_cli import BAI, Bai

pytestmark = pytest.mark.timeout(300)

RG, WS, EXP, CLUSTER, ACCOUNT, SHARE = (
    "batchai.horovod",
    "batchaidev",
    "cifar",
    "nc6cluster",
    "baistore",
    "myshare",
)
IN_WS = ("-g", RG, "-w", WS)
IN_EXP = (*IN_WS, "-e", EXP)
STORAGE = ("--share-name", SHARE, "--account-name", ACCOUNT)
TUTORIAL_JOB = Path(__file__).parent / "data" / "jobs" / "tutorial-job.json"


class MLBai(Bai):
    """`bai ... --backend azureml` against the emulator; keeps every byte it printed for the secret scan."""

    def __init__(self, home: Path, emulator: AzureEmulator) -> None:
        super().__init__(home)
        self.env.update(emulator.ml_env())
        del self.env["BAI_BACKEND"]  # chosen with --backend on each command
        self.seen: list[str] = []

    def __call__(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[override]
        result = super().__call__(*args, "--backend", "azureml", **kwargs)
        self.seen += [result.stdout, result.stderr]
        return result


@pytest.fixture
def emulator() -> Iterator[AzureEmulator]:
    with AzureEmulator(Timings(node_prepare=0.5, replay=2.0, node_leave=0.2)) as emu:
        emu.ml.idle_scale = 0.01  # PT2M of idle time before scale-down takes 1.2 s here
        yield emu


def wait_for(check, timeout: float = 45.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)
    return value


def test_the_tutorial_with_bai_backend_azureml(emulator: AzureEmulator, tmp_path: Path) -> None:
    bai = MLBai(tmp_path, emulator)
    bai("group", "create", "--name", RG, "--location", "eastus")
    # storage first: the workspace is made on the tutorial's account
    bai("storage", "account", "create", "-g", RG, "-n", ACCOUNT, "-l", "eastus", "--sku", "Standard_LRS")
    bai("storage", "share", "create", "--name", SHARE, "--account-name", ACCOUNT)
    bai("storage", "directory", "create", "--name", "cifar", *STORAGE)
    script = tmp_path / "cifar_cnn_distributed.py"
    script.write_text("print('train')\n")
    bai("storage", "file", "upload", "--path", "cifar", *STORAGE, "--source", str(script))

    workspace = bai.json("workspace", "create", "-g", RG, "-n", WS, "--storage-account", ACCOUNT)
    assert (workspace["name"], workspace["location"], workspace["provisioningState"]) == (
        WS,
        "eastus",
        "succeeded",
    )
    stored = emulator.call(lambda: emulator.ml.workspaces[(RG.lower(), WS.lower())])
    assert stored.storage_account.endswith(f"/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}")
    assert "/providers/Microsoft.KeyVault/vaults/" in stored.key_vault
    bai("experiment", "create", *IN_WS, "--name", EXP)
    assert [e["name"] for e in bai.json("experiment", "list", *IN_WS)] == [EXP]

    created = bai("cluster", "create", *IN_WS, "--name", CLUSTER, "--vm-priority", "dedicated",
                  "--vm-size", "Standard_NC6", "--target", "4", "-o", "json")  # fmt: skip
    assert "bai: warning: --vm-size Standard_NC6 is retired" in created.stderr
    assert "Standard_NC4as_T4_v3" in created.stderr
    compute = emulator.call(lambda: emulator.ml.workspaces[(RG.lower(), WS.lower())].computes[CLUSTER])
    assert (compute.min_nodes, compute.max_nodes, compute.priority) == (4, 4, "Dedicated")
    cluster = wait_for(
        lambda: (c := bai.json("cluster", "show", *IN_WS, "-n", CLUSTER))["allocationState"] == "steady" and c
    )
    assert cluster["currentNodeCount"] == cluster["targetNodeCount"] == 4
    assert cluster["nodeStateCounts"] == {
        "idleNodeCount": 4, "runningNodeCount": 0, "preparingNodeCount": 0, "leavingNodeCount": 0,
        "unusableNodeCount": 0, "preemptedNodeCount": 0,
    }  # fmt: skip

    # the tutorial's job.json as it is: 4 nodes, jobPreparation and stdOutErrPathPrefix named as warnings
    (tmp_path / "job.json").write_text(TUTORIAL_JOB.read_text())
    # held once it runs (paused before it is submitted: a slow machine could see it end before a later pause),
    # so every machine sees it running
    emulator.pause_jobs()
    submitted = bai("job", "create", "--cluster", CLUSTER, "--name", "cifar_distributed", *IN_EXP,
                    "--config-file", "job.json", "--storage-account-name", ACCOUNT, "-o", "json")  # fmt: skip
    assert "bai: warning: properties.jobPreparation" in submitted.stderr
    assert "bai: warning: properties.stdOutErrPathPrefix" in submitted.stderr
    assert json.loads(submitted.stdout)["nodeCount"] == 4
    again = bai("job", "create", "--cluster", CLUSTER, "--name", "cifar_distributed", *IN_EXP,
                "--config-file", "job.json", "--storage-account-name", ACCOUNT, check=False)  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr

    job = ("-n", "cifar_distributed", *IN_EXP)
    with subprocess.Popen(
        [*BAI, "job", "file", "stream", *IN_EXP, "-j", "cifar_distributed", "-f", "stdout.txt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**bai.env, "BAI_BACKEND": "azureml"},  # this one picks the backend from the environment
        cwd=tmp_path,
    ) as stream:
        state = wait_for(
            lambda: (s := bai.json("job", "show", *job, "--query", "executionState")) != "queued" and s
        )
        assert state == "running"
        counts = bai.json("cluster", "show", *IN_WS, "-n", CLUSTER, "--query", "nodeStateCounts")
        assert (counts["runningNodeCount"], counts["idleNodeCount"]) == (4, 0)
        emulator.resume_jobs()
        final = json.loads(bai("job", "wait", *job, "--interval", "0.2", timeout=60).stdout)
        assert final["executionState"] == "succeeded"
        streamed, stream_errors = stream.communicate(timeout=60)
    assert stream.returncode == 0, stream_errors
    bai.seen.append(stream_errors.decode())

    # every rank's log, each line as horovodrun writes it
    ranks = split_ranks(emulator.ml.log)
    for rank in range(4):
        prefix = f"[1,{rank}]<stdout>:".encode()
        lines = [line[len(prefix) :] for line in streamed.split(b"\n") if line.startswith(prefix)]
        assert b"\n".join(lines) + b"\n" == ranks[rank % 2], rank
    summary = subprocess.run(
        [*BAI, "logs", "summarize", "-", "-o", "json"],
        input=streamed,
        capture_output=True,
        env=bai.env,
        check=True,
    )
    assert json.loads(summary.stdout)

    files = bai.json("job", "file", "list", *IN_EXP, "-j", "cifar_distributed")
    names = [entry["name"] for entry in files]
    assert names[0] == "stdout.txt"
    assert {f"user_logs/std_log_process_{rank}.txt" for rank in range(4)} <= set(names)
    sizes = {entry["name"]: entry["size"] for entry in files}
    assert [sizes[f"user_logs/std_log_process_{rank}.txt"] for rank in range(4)] == [
        len(ranks[rank % 2]) for rank in range(4)
    ]
    one = subprocess.run(
        [*BAI, "job", "file", "stream", *IN_EXP, "-j", "cifar_distributed",
         "-f", "user_logs/std_log_process_1.txt", "--backend", "azureml"],
        capture_output=True, env=bai.env, cwd=tmp_path, check=True, timeout=60,
    )  # fmt: skip
    assert one.stdout == ranks[1]

    model = "cifar/saved_models/keras_cifar10_trained_model.h5"
    bai("storage", "file", "download", "--path", model, *STORAGE, "--dest", str(tmp_path))
    assert (tmp_path / "keras_cifar10_trained_model.h5").read_bytes() == MODEL_BYTES

    resized = bai.json("cluster", "resize", *IN_WS, "-n", CLUSTER, "--target", "0")
    assert resized["name"] == CLUSTER
    compute = emulator.call(lambda: emulator.ml.workspaces[(RG.lower(), WS.lower())].computes[CLUSTER])
    assert (compute.min_nodes, compute.max_nodes, compute.idle_time) == (0, 4, "PT2M")
    wait_for(lambda: bai.json("cluster", "show", *IN_WS, "-n", CLUSTER)["currentNodeCount"] == 0)

    secrets = secrets_of(emulator)
    bai("cluster", "delete", *IN_WS, "-n", CLUSTER, "--yes")
    assert bai.json("cluster", "list", *IN_WS) == []
    bai("workspace", "delete", "-g", RG, "-n", WS, "--yes")
    bai("group", "delete", "--name", RG, "--yes")
    assert bai.json("workspace", "list") == []
    assert_no_secret(bai.seen, secrets)


def test_cancel_from_the_command_line(emulator: AzureEmulator, tmp_path: Path) -> None:
    bai = MLBai(tmp_path, emulator)
    bai("group", "create", "--name", RG, "--location", "eastus")
    bai("storage", "account", "create", "-g", RG, "-n", ACCOUNT, "-l", "eastus")
    bai("storage", "share", "create", "--name", SHARE, "--account-name", ACCOUNT)
    # no --storage-account: AZURE_BATCHAI_STORAGE_ACCOUNT names it
    bai("workspace", "create", "-g", RG, "-n", WS, AZURE_BATCHAI_STORAGE_ACCOUNT=ACCOUNT)
    bai("cluster", "create", *IN_WS, "-n", CLUSTER, "-s", "Standard_NC4as_T4_v3", "-t", "1")
    (tmp_path / "job.json").write_text(TUTORIAL_JOB.read_text())  # 4 nodes on a 1-node cluster: it waits
    bai("job", "create", "-c", CLUSTER, "-n", "stuck", *IN_EXP, "-f", "job.json",
        "--storage-account-name", ACCOUNT)  # fmt: skip
    shown = bai.json("job", "show", "-n", "stuck", *IN_EXP)
    assert shown["executionState"] == "queued"
    assert any("needs 4 node(s)" in warning for warning in shown["warnings"])
    assert any("--target 4" in warning and "at most 1 node(s)" in warning for warning in shown["warnings"])
    terminated = bai.json("job", "terminate", "-n", "stuck", *IN_EXP)
    assert terminated["executionState"] in ("terminating", "canceled")
    waited = bai("job", "wait", "-n", "stuck", *IN_EXP, "--interval", "0.1", check=False)
    assert waited.returncode == 1 and "was canceled" in waited.stderr
    assert json.loads(waited.stdout)["executionState"] == "canceled"
    assert_no_secret(bai.seen, secrets_of(emulator))
