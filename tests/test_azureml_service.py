"""The azureml backend's services through its real REST pipelines against the emulator's Azure ML API:
workspace (storage account, key vault, discovery), clusters that scale, command jobs from the tutorial's
job.json, per-rank logs from run history, expiring links, a failing rank, cancel, quota, paging."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure_emulator import AzureEmulator, Timings
from azure_emulator.ml import split_ranks
from azure_emulator.testing import ACCOUNT, CLUSTER, EXP, RG, SHARE, WS

from tui.backends.azureml import open_azureml_backend
from tui.core.jobspec import parse_job_spec
from tui.core.model import ClusterRef, ExecutionState, ExperimentRef, JobRef

pytestmark = pytest.mark.timeout(120)

TUTORIAL = Path(__file__).parent / "data" / "jobs" / "tutorial-job.json"
CLUSTER_REF = ClusterRef(RG, WS, CLUSTER)


def tutorial_spec(**changes: Any) -> Any:
    data = json.loads(TUTORIAL.read_text())
    data["properties"]["nodeCount"] = 2
    data["properties"].update(changes)
    return parse_job_spec(data)


@pytest.fixture
def emulator() -> Iterator[AzureEmulator]:
    with AzureEmulator(Timings(node_prepare=0.3, replay=1.5, node_leave=0.1)) as emu:
        yield emu


def backend_env(emulator: AzureEmulator, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**emulator.ml_env(), "BAI_HOME": str(tmp_path), "AZURE_BATCHAI_STORAGE_ACCOUNT": ACCOUNT, **extra}


async def setup(backend: Any, tmp_path: Path, nodes: int = 2) -> None:
    await backend.groups.create(RG, "eastus")
    await backend.storage.create_account(RG, ACCOUNT, "eastus")
    await backend.storage.create_share(ACCOUNT, SHARE)
    await backend.storage.create_directory(ACCOUNT, SHARE, "cifar")
    script = tmp_path / "cifar_cnn_distributed.py"
    script.write_text("print('the trainer')\n")
    await backend.storage.upload_file(ACCOUNT, SHARE, "cifar", script)
    await backend.workspaces.create(RG, WS, storage_account=ACCOUNT)
    await backend.experiments.create(ExperimentRef(RG, WS, EXP))
    await backend.clusters.create(CLUSTER_REF, "Standard_NC4as_T4_v3", nodes)


async def until(check: Any, timeout: float = 45.0, pause: float = 0.05) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(pause)


def test_tutorial_job_streams_every_rank(emulator: AzureEmulator, tmp_path: Path) -> None:
    async def main() -> None:
        backend = open_azureml_backend(backend_env(emulator, tmp_path))
        try:
            await setup(backend, tmp_path)
            ws = await backend.workspaces.get(RG, WS)
            assert ws.provisioning_state == "succeeded"
            ref = JobRef(RG, WS, EXP, "cifar_distributed")
            job = await backend.jobs.create(ref, CLUSTER, tutorial_spec())
            assert any("jobPreparation" in w for w in job.warnings)
            assert any("stdOutErrPathPrefix" in w for w in job.warnings)
            body = emulator.call(
                lambda: emulator.ml.workspaces[(RG.lower(), WS.lower())].jobs[ref.name].properties
            )
            assert body["command"] == (
                "python ${{outputs.myshare}}/cifar/cifar_cnn_distributed.py --dir=${{outputs.myshare}}/cifar"
            )
            assert body["outputs"]["myshare"]["uri"] == f"azureml://datastores/{ACCOUNT}_{SHARE}/paths/"
            assert body["distribution"] == {"distributionType": "Mpi", "processCountPerInstance": 1}
            assert body["resources"] == {"instanceCount": 2}
            merged = b""
            async for chunk in backend.jobs.stream_file(ref, "stdout.txt"):
                merged += chunk
            final = await backend.jobs.get(ref)
            assert final.execution_state == ExecutionState.SUCCEEDED
            expected = split_ranks(emulator.ml.log)
            for rank in (0, 1):
                lines = [
                    line for line in merged.split(b"\n") if line.startswith(f"[1,{rank}]<stdout>:".encode())
                ]
                text = b"\n".join(line.split(b":", 1)[1] for line in lines) + b"\n"
                assert text == expected[rank]
            files = [f.name for f in await backend.jobs.list_output_files(ref)]
            assert "stdout.txt" in files and "user_logs/std_log_process_1.txt" in files
            model = tmp_path / "model.h5"
            await backend.storage.download_file(
                ACCOUNT, SHARE, "cifar/saved_models/keras_cifar10_trained_model.h5", model
            )
            assert model.read_bytes().startswith(b"\x89HDF")
        finally:
            await backend.close()

    asyncio.run(main())
