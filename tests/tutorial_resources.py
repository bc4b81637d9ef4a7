"""The tutorial's resources (steps 1-7) made through a backend, for the console's end-to-end test and the
screenshot script: both need the same group, cluster, share, uploaded trainer and test-made CIFAR data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cifar_data import write_cifar_dataset
from tui.core.model import ClusterRef, ExperimentRef

TRAINER = Path(__file__).resolve().parent.parent / "trainer" / "cifar_cnn_distributed.py"
TUTORIAL_JOB_FILE = Path(__file__).resolve().parent / "data" / "jobs" / "tutorial-job.json"
GROUP, WORKSPACE, EXPERIMENT, CLUSTER, ACCOUNT, SHARE = (
    "batchai.horovod",
    "batchaidev",
    "cifar",
    "nc6cluster",
    "baistore",
    "myshare",
)


async def create_tutorial_resources(backend: Any, work: Path, train_per_batch: int, test_images: int) -> None:
    """Group, workspace, experiment, a 2-node cluster, storage account, share, `cifar/` with the trainer and
    `cifar/data/` with a CIFAR-10 python-format data set written under `work`."""
    await backend.groups.create(GROUP, "eastus")
    await backend.workspaces.create(GROUP, WORKSPACE)
    await backend.experiments.create(ExperimentRef(GROUP, WORKSPACE, EXPERIMENT))
    # The admin key a remote backend needs (the local one ignores it); front ends choose it by az's policy.
    await backend.clusters.create(
        ClusterRef(GROUP, WORKSPACE, CLUSTER), "Standard_NC6", 2, ssh_public_key="ssh-rsa AAAAB3Nza bai-tests"
    )
    await backend.storage.create_account(GROUP, ACCOUNT, "eastus")
    await backend.storage.create_share(ACCOUNT, SHARE)
    await backend.storage.create_directory(ACCOUNT, SHARE, "cifar")
    await backend.storage.upload_file(ACCOUNT, SHARE, "cifar", TRAINER)
    data = write_cifar_dataset(
        work / "data", train_per_batch=train_per_batch, test_images=test_images, batches=5
    )
    await backend.storage.upload_directory(ACCOUNT, SHARE, "cifar/data", data)


def write_tutorial_job(
    path: Path, epochs: int, train_images: int, test_images: int, keep_setup: bool = False
) -> Path:
    """The tutorial's own job.json cut to this machine: 2 nodes, the trainer reading the share's test-made
    data for `epochs` epochs. `keep_setup` keeps its jobPreparation and containerSettings, which the local
    backend skips and ignores with a warning each (the screenshots show those)."""
    document = json.loads(TUTORIAL_JOB_FILE.read_text())
    properties = document["properties"]
    properties["nodeCount"] = 2
    root = properties["stdOutErrPathPrefix"]
    properties["horovodSettings"]["commandLineArgs"] = (
        f"--dir={root} --data-dir={root}/data --epochs {epochs}"
        f" --max-train-images {train_images} --max-test-images {test_images}"
    )
    if not keep_setup:
        del properties["jobPreparation"], properties["containerSettings"]
    path.write_text(json.dumps(document, indent=4))
    return path
