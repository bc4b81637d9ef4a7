"""Helpers the batchai tests share: the tutorial's job.json and a backend on an emulator."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tui.core.model import ClusterRef, ExperimentRef, JobRef

RG, WS, EXP, CLUSTER, ACCOUNT, SHARE = (
    "batchai.horovod",
    "batchaidev",
    "cifar",
    "nc6cluster",
    "mystorage",
    "myshare",
)
CLUSTER_REF = ClusterRef(RG, WS, CLUSTER)
# A cluster's admin key: the backend takes the one given (tui.core.operations.ssh_public_key chooses).
SSH_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bai-tests"
EXPERIMENT_REF = ExperimentRef(RG, WS, EXP)

JOB_JSON: dict[str, Any] = json.loads((Path(__file__).parents[1] / "data/jobs/tutorial-job.json").read_text())
JOB_JSON["properties"]["nodeCount"] = 2  # the tests' clusters have 2 nodes


def job_json(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(JOB_JSON)
    data["properties"].update(changes)
    return data


def job_spec(**changes: Any) -> Any:
    from tui.core.jobspec import parse_job_spec

    return parse_job_spec(job_json(**changes))


def job_ref(name: str = "cifar_distributed") -> JobRef:
    return JobRef(RG, WS, EXP, name)


async def tutorial_setup(backend: Any, tmp: Path, nodes: int = 2, script: bool = True) -> None:
    """Steps 1-7: group, workspace, experiment, cluster, storage account, share, folder, the script."""
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)  # a second create of the same is fine, as on ARM
    await backend.experiments.create(EXPERIMENT_REF)
    await backend.clusters.create(CLUSTER_REF, "Standard_NC6", nodes, ssh_public_key=SSH_KEY)
    await backend.storage.create_account(RG, ACCOUNT, "eastus")
    await backend.storage.create_share(ACCOUNT, SHARE)
    await backend.storage.create_directory(ACCOUNT, SHARE, "cifar")
    if script:
        source = tmp / "cifar_cnn_distributed.py"
        source.write_text("print('the trainer')\n")
        await backend.storage.upload_file(ACCOUNT, SHARE, "cifar", source)
