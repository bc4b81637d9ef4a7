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
from azure_emulator.ml import Outcome, split_ranks
from azure_emulator.testing import ACCOUNT, CLUSTER, EXP, RG, SHARE, WS

from tui.backends.azureml import open_azureml_backend
from tui.core.errors import BaiError, ConflictError, JobSpecError
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
            assert final.start_time is not None and final.end_time is not None and final.errors == []
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


def rank_text(merged: bytes, rank: int) -> bytes:
    prefix = f"[1,{rank}]<stdout>:".encode()
    lines = [line[len(prefix) :] for line in merged.split(b"\n") if line.startswith(prefix)]
    return b"\n".join(lines) + b"\n"


def test_expired_and_revoked_links_lose_or_repeat_no_byte(tmp_path: Path) -> None:
    timings = Timings(node_prepare=0.2, replay=4.0, replay_pieces=40, sas_lifetime=1.0)
    with AzureEmulator(timings) as emulator:
        emulator.ml.pad_rank_names = True  # std_log_process_00.txt, as Azure ML names them past 10 ranks

        async def main() -> None:
            env = backend_env(emulator, tmp_path, BAI_LINK_REFRESH_MARGIN="0")
            backend = open_azureml_backend(env)
            try:
                await setup(backend, tmp_path)
                ref = JobRef(RG, WS, EXP, "links")
                await backend.jobs.create(ref, CLUSTER, tutorial_spec())
                merged = b""
                revoked = False
                async for chunk in backend.jobs.stream_file(ref, "stdout.txt"):
                    merged += chunk
                    if not revoked and len(merged) > 200:
                        emulator.revoke_links()  # every link handed out so far is refused from now on
                        revoked = True
                names = [f.name for f in await backend.jobs.list_output_files(ref)]
                assert "user_logs/std_log_process_00.txt" in names
            finally:
                await backend.close()
            expected = split_ranks(emulator.ml.log)
            assert rank_text(merged, 0) == expected[0] and rank_text(merged, 1) == expected[1]

        asyncio.run(main())
        assert emulator.sas_refused >= 1
        assert emulator.count("GET", r"/runs/links/details$") >= 3


def test_a_job_that_fails_on_one_rank(emulator: AzureEmulator, tmp_path: Path) -> None:
    log = (Path(__file__).parent / "data" / "logs" / "np2-failing-rank.log").read_bytes()
    message = "process rank 1 exited with code 1: RuntimeError: simulated worker failure on rank 1"
    emulator.ml.outcomes["failing"] = Outcome(log=log, rank=1, message=message)

    async def main() -> None:
        backend = open_azureml_backend(backend_env(emulator, tmp_path))
        try:
            await setup(backend, tmp_path)
            ref = JobRef(RG, WS, EXP, "failing")
            await backend.jobs.create(ref, CLUSTER, tutorial_spec())
            merged = b"".join([chunk async for chunk in backend.jobs.stream_file(ref, "stdout.txt")])
            job = await backend.jobs.wait(ref, 0.05, 30)
            assert job.execution_state == ExecutionState.FAILED
            assert [error.message for error in job.errors] == [message]
            assert b"[1,1]<stdout>:RuntimeError: simulated worker failure on rank 1" in merged
            assert rank_text(merged, 1) == split_ranks(log)[1]
        finally:
            await backend.close()

    asyncio.run(main())


def test_cancel_ends_canceled_and_frees_the_nodes(emulator: AzureEmulator, tmp_path: Path) -> None:
    async def main() -> None:
        backend = open_azureml_backend(backend_env(emulator, tmp_path))
        try:
            await setup(backend, tmp_path)
            ref = JobRef(RG, WS, EXP, "stopped")
            emulator.pause_jobs()
            await backend.jobs.create(ref, CLUSTER, tutorial_spec())
            await until(lambda: _state_is(backend, ref, ExecutionState.RUNNING))
            job = await backend.jobs.terminate(ref)
            assert job.execution_state in (ExecutionState.TERMINATING, ExecutionState.CANCELED)
            job = await backend.jobs.wait(ref, 0.05, 30)
            assert job.execution_state == ExecutionState.CANCELED and job.execution_state.is_final
            cluster = await until(
                lambda: _cluster_if(backend, lambda c: c.node_state_counts.idle_node_count == 2)
            )
            assert cluster.node_state_counts.running_node_count == 0
            with pytest.raises(BaiError, match="cannot be canceled"):
                await backend.jobs.terminate(ref)
        finally:
            emulator.resume_jobs()
            await backend.close()

    asyncio.run(main())


async def _state_is(backend: Any, ref: JobRef, state: ExecutionState) -> bool:
    return (await backend.jobs.get(ref)).execution_state == state


async def _cluster_if(backend: Any, check: Any) -> Any:
    cluster = await backend.clusters.get(CLUSTER_REF)
    return cluster if check(cluster) else None


def test_a_queued_job_says_why_it_waits_and_quota_errors_say_what_to_do(
    emulator: AzureEmulator, tmp_path: Path
) -> None:
    quota = {
        "code": "ClusterCoreQuotaReached",
        "message": "Operation results in exceeding quota limits of Total Regional Cores. Maximum allowed: 0",
    }

    async def main() -> None:
        backend = open_azureml_backend(backend_env(emulator, tmp_path))
        try:
            await setup(backend, tmp_path, nodes=0)
            emulator.ml.quota_error = quota
            await backend.clusters.resize(CLUSTER_REF, 2)
            ref = JobRef(RG, WS, EXP, "waiting")
            await backend.jobs.create(ref, CLUSTER, tutorial_spec())
            job = await until(lambda: _waiting(backend, ref))
            assert job.execution_state == ExecutionState.QUEUED
            text = "\n".join(job.warnings)
            assert "needs 2 node(s), 0 idle" in text and "ClusterCoreQuotaReached" in text
            emulator.fail_next_operation("QuotaExceeded", "Not enough quota for Standard_NC24ads_A100_v4.")
            with pytest.raises(BaiError) as refused:
                await backend.clusters.create(ClusterRef(RG, WS, "big"), "Standard_NC24ads_A100_v4", 4)
            assert "creating cluster big failed: QuotaExceeded: Not enough quota" in str(refused.value)
            assert "what to do: " in str(refused.value) and "Quotas" in str(refused.value)
        finally:
            await backend.close()

    asyncio.run(main())


async def _waiting(backend: Any, ref: JobRef) -> Any:
    job = await backend.jobs.get(ref)
    return job if any("ClusterCoreQuotaReached" in w for w in job.warnings) else None


def test_lists_follow_next_link_and_names_are_unique(emulator: AzureEmulator, tmp_path: Path) -> None:
    async def main() -> None:
        backend = open_azureml_backend(backend_env(emulator, tmp_path))
        try:
            await setup(backend, tmp_path)
            emulator.page_size = 1
            emulator.pause_jobs()
            for name in ("one", "two", "three"):
                await backend.jobs.create(JobRef(RG, WS, EXP, name), CLUSTER, tutorial_spec())
            await backend.jobs.create(JobRef(RG, WS, "other", "four"), CLUSTER, tutorial_spec())
            names = sorted(job.name for job in await backend.jobs.list(RG, WS, EXP))
            assert names == ["one", "three", "two"]
            assert [e.name for e in await backend.experiments.list(RG, WS)] == [EXP, "other"]
            assert [job.name for job in await backend.jobs.list(RG, WS, "other")] == ["four"]
            with pytest.raises(BaiError, match="experiment 'nope' was not found"):
                await backend.jobs.list(RG, WS, "nope")
            with pytest.raises(ConflictError, match="unique per workspace"):
                await backend.jobs.create(JobRef(RG, WS, "other", "one"), CLUSTER, tutorial_spec())
            assert emulator.count("GET", r"/jobs$") >= 8  # four pages each time
        finally:
            emulator.resume_jobs()
            await backend.close()

    asyncio.run(main())


def test_bad_job_files_and_plain_http_elsewhere_are_refused(emulator: AzureEmulator, tmp_path: Path) -> None:
    async def main() -> None:
        backend = open_azureml_backend(backend_env(emulator, tmp_path))
        try:
            await setup(backend, tmp_path)
            spec = tutorial_spec(horovodSettings={"pythonScriptFilePath": "train.py", "processCount": 3})
            with pytest.raises(BaiError, match=r"processCount 3 does not divide by properties\.nodeCount 2"):
                await backend.jobs.create(JobRef(RG, WS, EXP, "odd"), CLUSTER, spec)
            with pytest.raises(JobSpecError, match="tensorFlowSettings"):
                data = {
                    "nodeCount": 1,
                    "tensorFlowSettings": {"pythonScriptFilePath": "t.py"},
                    "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
                }
                await backend.jobs.create(JobRef(RG, WS, EXP, "tf"), CLUSTER, parse_job_spec(data))
            workspace = await backend.rest.arm("GET", backend.rest.workspace_path(RG, WS), action="reading")
            workspace["properties"]["discoveryUrl"] = "http://10.1.2.3/discovery"
            emulator.add_fault(r"/workspaces/batchaidev$", method="GET", status=200, body=workspace, times=5)
            backend.rest._api_hosts.clear()
            with pytest.raises(BaiError, match=r"refusing plain http to 10\.1\.2\.3"):
                await backend.jobs.log_links(JobRef(RG, WS, EXP, "nothing"))
        finally:
            await backend.close()

    asyncio.run(main())


def test_the_storage_key_is_never_shown(emulator: AzureEmulator, tmp_path: Path) -> None:
    async def main() -> None:
        backend = open_azureml_backend(backend_env(emulator, tmp_path))
        try:
            await setup(backend, tmp_path)
            key = await backend.storage.account_key(ACCOUNT)
            echo = {"error": {"code": "ValidationError", "message": f"The key {key} was refused."}}
            emulator.add_fault(r"/datastores/", method="PUT", status=400, body=echo)
            with pytest.raises(BaiError) as refused:
                await backend.jobs.create(JobRef(RG, WS, EXP, "secret"), CLUSTER, tutorial_spec())
            assert "registering datastore mystorage_myshare failed: ValidationError" in str(refused.value)
            assert key not in str(refused.value) and emulator.token not in str(refused.value)
        finally:
            await backend.close()

    asyncio.run(main())


def test_a_workspace_without_an_account_gets_its_own_and_experiments_come_and_go(
    emulator: AzureEmulator, tmp_path: Path
) -> None:
    async def main() -> None:
        env = {**emulator.ml_env(), "BAI_HOME": str(tmp_path)}  # no AZURE_BATCHAI_STORAGE_ACCOUNT
        backend = open_azureml_backend(env)
        try:
            await backend.groups.create(RG, "westeurope")
            workspace = await backend.workspaces.create(RG, "My-Workspace_01")
            assert (workspace.name, workspace.location) == ("My-Workspace_01", "westeurope")
            accounts = await backend.storage.list_accounts(RG)
            assert [(a.name, a.location) for a in accounts] == [("myworkspace01", "westeurope")]
            stored = emulator.ml.workspaces[(RG.lower(), "my-workspace_01")]
            vault = emulator.ml.vaults[(RG.lower(), stored.key_vault.rsplit("/", 1)[-1].lower())]
            assert vault["properties"]["tenantId"] == "72f988bf-0000-4000-8000-00000000e1e1"
            again = await backend.workspaces.create(RG, "My-Workspace_01")  # as on ARM: fine, unchanged
            assert again.name == workspace.name and len(emulator.ml.vaults) == 1
            ref = ExperimentRef(RG, "My-Workspace_01", "exp1")
            await backend.experiments.create(ref)
            assert [e.name for e in await backend.experiments.list(RG, "My-Workspace_01")] == ["exp1"]
            assert (await backend.experiments.get(ref)).creation_time is not None
            await backend.experiments.delete(ref)
            with pytest.raises(BaiError, match="experiment 'exp1' was not found"):
                await backend.experiments.get(ref)
            await backend.workspaces.delete(RG, "My-Workspace_01")
            assert await backend.workspaces.list(RG) == []
        finally:
            await backend.close()

    asyncio.run(main())


class RecordingCredential:
    """A signed-in identity that hands out the emulator's token and notes every scope it is asked for (what
    DefaultAzureCredential is asked for when BAI_ACCESS_TOKEN is not set)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: set[str] = set()

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        import time

        from azure.core.credentials import AccessToken

        self.scopes.update(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    async def close(self) -> None:
        return None


def test_arm_and_run_history_are_asked_for_their_own_scopes(emulator: AzureEmulator, tmp_path: Path) -> None:
    from tui.backends.azureml.rest import MLRest
    from tui.backends.azureml.settings import AzureMLSettings

    async def main() -> None:
        backend = open_azureml_backend(backend_env(emulator, tmp_path))
        try:
            await setup(backend, tmp_path)
            ref = JobRef(RG, WS, EXP, "scoped")
            await backend.jobs.create(ref, CLUSTER, tutorial_spec())
        finally:
            await backend.close()
        env = {
            key: value for key, value in backend_env(emulator, tmp_path).items() if key != "BAI_ACCESS_TOKEN"
        }
        credential = RecordingCredential(emulator.token)
        rest = MLRest(AzureMLSettings.from_env(env), credential)
        try:
            await rest.arm("GET", rest.workspace_path(RG, WS), action="reading workspace")
            await rest.history(RG, WS, "/runs/scoped/details", action="reading run history")
        finally:
            await rest.close()
        assert credential.scopes == {"https://management.azure.com/.default", "https://ml.azure.com/.default"}
        backend = open_azureml_backend(env)
        backend.clients.credential = credential  # groups and storage sign in the same way
        credential.scopes.clear()
        try:
            await backend.storage.account_key(ACCOUNT)
            await backend.groups.get(RG)
        finally:
            await backend.close()
        assert credential.scopes == {"https://management.azure.com/.default"}

    asyncio.run(main())
