"""`bai job create` with real Batch AI job files (tests/data/jobs) on the local backend, as a user runs it:
placeholders filled from --storage-account-name or AZURE_BATCHAI_STORAGE_ACCOUNT as az did, and a toolkit this
machine cannot run refused in one line naming the file, with nothing created."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import Bai

JOBS = Path(__file__).parent / "data" / "jobs"
REF = ("-g", "rg", "-w", "ws", "-e", "exp")


@pytest.fixture
def bai(tmp_path: Path) -> Bai:
    bai = Bai(tmp_path)
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("workspace", "create", "-g", "rg", "-n", "ws")
    bai("experiment", "create", *REF[:4], "-n", "exp")
    bai("cluster", "create", *REF[:4], "-n", "c", "--vm-size", "Standard_NC6", "--target", "2")
    return bai


def test_a_toolkit_the_local_backend_cannot_run_is_one_line_naming_the_file(bai: Bai) -> None:
    path = JOBS / "recipe-tensorflow-distributed.json"
    result = bai("job", "create", *REF, "-n", "tf", "-c", "c", "-f", str(path), check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"bai: error: {path.name}: properties.tensorFlowSettings: the tensorFlow toolkit is not supported by "
        "the local backend; use horovodSettings, customMpiSettings or customToolkitSettings (or the batchai "
        "backend)"
    ]
    assert bai("job", "list", *REF, "-o", "tsv").stdout == ""


def test_the_storage_placeholder_is_filled_from_the_environment_as_az_did(bai: Bai) -> None:
    bai(
        "storage",
        "account",
        "create",
        "-g",
        "rg",
        "-n",
        "recipestore",
        "-l",
        "eastus",
        "--sku",
        "Standard_LRS",
    )
    for share in ("logs", "scripts"):
        bai("storage", "share", "create", "-n", share, "--account-name", "recipestore")
    path = JOBS / "recipe-horovod-tensorflow.json"
    missing = bai("job", "create", *REF, "-n", "hvd", "-c", "c", "-f", str(path), check=False)
    assert missing.returncode == 1
    assert all("--storage-account-name" in line for line in missing.stderr.splitlines())
    job = bai.json(
        "job",
        "create",
        *REF,
        "-n",
        "hvd",
        "-c",
        "c",
        "-f",
        str(path),
        AZURE_BATCHAI_STORAGE_ACCOUNT="recipestore",
    )
    assert job["name"] == "hvd" and job["toolType"] == "horovod"
    bai("job", "terminate", *REF, "-n", "hvd")
