"""The batchai backend through the real SDK pipeline against the local Azure emulator: the tutorial's
workflow on the service layer, and what goes wrong on a real cloud (expired links, dropped connections,
throttling, refused requests, wrong keys), each seen the way a user would see it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from azure_emulator import MODEL_BYTES, AzureEmulator, Timings
from azure_emulator.testing import (
    ACCOUNT,
    CLUSTER,
    CLUSTER_REF,
    EXPERIMENT_REF,
    RG,
    SHARE,
    SSH_KEY,
    WS,
    job_ref,
    job_spec,
    tutorial_setup,
)

from tui.backends.base import JobSubmitOptions
from tui.backends.batchai import open_batchai_backend
from tui.backends.refresh import refresh
from tui.core.errors import BaiError, ConflictError, NotFoundError
from tui.core.model import ClusterRef, ExecutionState, JobRef

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def timings() -> Timings:
    return Timings()


@pytest.fixture
async def backend(emulator: AzureEmulator) -> AsyncIterator:
    backend = open_batchai_backend(emulator.env())
    try:
        yield backend
    finally:
        await backend.close()


async def _collect(stream: AsyncIterator[bytes]) -> bytes:
    out = bytearray()
    async for chunk in stream:
        out += chunk
    return bytes(out)


async def _wait_cluster(backend, ref: ClusterRef, idle: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        cluster = await backend.clusters.get(ref)
        if cluster.allocation_state.value == "steady" and cluster.node_state_counts.idle_node_count == idle:
            return
        assert time.monotonic() < deadline, cluster
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("timings", [Timings(node_prepare=1.5)])
async def test_the_tutorial_through_the_service_layer(
    backend, emulator: AzureEmulator, tmp_path: Path
) -> None:
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    cluster = await backend.clusters.create(CLUSTER_REF, "Standard_NC6", 2, ssh_public_key=SSH_KEY)
    assert (cluster.vm_size, cluster.target_node_count) == ("Standard_NC6", 2)
    assert (
        cluster.allocation_state.value == "resizing" and cluster.node_state_counts.preparing_node_count == 2
    )
    await backend.clusters.delete(CLUSTER_REF)
    await tutorial_setup(backend, tmp_path, nodes=2)
    await _wait_cluster(backend, CLUSTER_REF, idle=2)
    assert [w.name for w in await backend.workspaces.list(RG)] == [WS]
    assert [c.name for c in await backend.clusters.list(RG, WS)] == [CLUSTER]
    listed = await backend.storage.list_files(ACCOUNT, SHARE, "cifar")
    assert [(f.name, f.size) for f in listed] == [("cifar_cnn_distributed.py", 21)]
    assert listed[0].last_modified is not None

    ref = job_ref()
    spec = job_spec()
    # held once it runs, however slow this machine is (paused before it is submitted: a slow machine could see
    # it end before a later pause)
    emulator.pause_jobs()
    job = await backend.jobs.create(ref, CLUSTER, spec, JobSubmitOptions(storage_account_name=ACCOUNT))
    assert job.execution_state in (ExecutionState.QUEUED, ExecutionState.RUNNING)
    assert (job.cluster, job.node_count, job.toolkit) == (CLUSTER, 2, "horovod")
    # The caller's spec is untouched: the key went only into the request.
    assert spec.mount_volumes.azure_file_shares[0].credentials is None

    deadline = time.monotonic() + 45
    while (await backend.jobs.get(ref)).execution_state != ExecutionState.RUNNING:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    counts = (await backend.clusters.get(CLUSTER_REF)).node_state_counts
    assert (counts.running_node_count, counts.idle_node_count) == (2, 0)
    emulator.resume_jobs()
    streamed = await _collect(backend.jobs.stream_file(ref, "stdout.txt"))
    counts = (await backend.clusters.get(CLUSTER_REF)).node_state_counts
    assert (counts.running_node_count, counts.idle_node_count) == (0, 2)
    assert bytes(streamed) == emulator.world.stdout  # every byte, once, unchanged
    final = await backend.jobs.get(ref)
    assert final.execution_state == ExecutionState.SUCCEEDED and final.exit_code == 0
    assert final.start_time is not None and final.end_time is not None
    assert [j.name for j in await backend.jobs.list(RG, WS, "cifar")] == ["cifar_distributed"]

    files = {f.name: f for f in await backend.jobs.list_output_files(ref)}
    assert {"stdout.txt", "stderr.txt"} <= set(files)
    assert files["stdout.txt"].size == len(emulator.world.stdout)
    assert sum(name.startswith("execution-tvm-") for name in files) == 2
    assert sum(name.startswith("stdout-job_prep-") for name in files) == 2

    model = await backend.storage.download_file(
        ACCOUNT, SHARE, "cifar/saved_models/keras_cifar10_trained_model.h5", tmp_path
    )
    assert model.read_bytes() == MODEL_BYTES
    on_share = await backend.storage.download_file(
        ACCOUNT,
        SHARE,
        f"cifar/{final.job_output_directory_path_segment}/stdouterr/stdout.txt",
        tmp_path / "stdout.txt",
    )
    assert on_share.read_bytes() == bytes(streamed)

    resized = await backend.clusters.resize(CLUSTER_REF, 0)
    assert resized.target_node_count == 0 and resized.allocation_state.value == "resizing"
    deadline = time.monotonic() + 10
    while (cluster := await backend.clusters.get(CLUSTER_REF)).current_node_count:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert cluster.allocation_state.value == "steady"

    await backend.groups.delete(RG)
    assert await backend.groups.list() == []
    assert await backend.storage.list_accounts() == []
    with pytest.raises(NotFoundError, match="ResourceGroupNotFound"):
        await backend.groups.get(RG)
    # The deletes were long-running operations, polled the ARM way.
    assert emulator.count("GET", r"/operationresults/") > 0
    assert emulator.count("GET", r"/asyncoperations/") > 0


async def test_upload_directory_and_file_round_trip(backend, tmp_path: Path) -> None:
    await backend.groups.create(RG, "eastus")
    await backend.storage.create_account(RG, ACCOUNT, "eastus")
    await backend.storage.create_share(ACCOUNT, SHARE)
    source = tmp_path / "data"
    (source / "batches").mkdir(parents=True)
    (source / "batches" / "data_batch_1").write_bytes(bytes(range(256)) * 40)
    (source / "readme.txt").write_text("cifar\n")
    seen: list[tuple[int, int | None]] = []
    uploaded = await backend.storage.upload_directory(
        ACCOUNT, SHARE, "cifar/data", source, progress=lambda done, total: seen.append((done, total))
    )
    assert sorted(entry.path for entry in uploaded) == [
        "cifar/data/batches/data_batch_1",
        "cifar/data/readme.txt",
    ]
    assert seen[-1] == (10246, 10246)
    names = [(e.name, e.is_directory) for e in await backend.storage.list_files(ACCOUNT, SHARE, "cifar/data")]
    assert names == [("batches", True), ("readme.txt", False)]
    back = await backend.storage.download_file(
        ACCOUNT, SHARE, "cifar/data/batches/data_batch_1", tmp_path / "b"
    )
    assert back.read_bytes() == bytes(range(256)) * 40
    await backend.storage.delete_file(ACCOUNT, SHARE, "cifar/data/readme.txt")
    with pytest.raises(NotFoundError, match="ResourceNotFound"):
        await backend.storage.download_file(ACCOUNT, SHARE, "cifar/data/readme.txt", tmp_path / "r")
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.part").exists()
    # Creating what exists is not an error (az said created=false); a folder over a file is.
    again = await backend.storage.create_share(ACCOUNT, SHARE)
    assert (again.name, again.quota_gb) == (SHARE, 5120)
    await backend.storage.create_directory(ACCOUNT, SHARE, "cifar/data")
    with pytest.raises(ConflictError, match="'cifar/data/batches/data_batch_1' is a file"):
        await backend.storage.create_directory(ACCOUNT, SHARE, "cifar/data/batches/data_batch_1")


@pytest.mark.parametrize("timings", [Timings(replay=3.0, sas_lifetime=2.0)])
async def test_stream_refreshes_links_before_they_expire(backend, emulator: AzureEmulator, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path)
    ref = job_ref()
    await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))
    streamed = await _collect(backend.jobs.stream_file(ref, "stdout.txt"))
    assert streamed == emulator.world.stdout
    # Links live 2-3 s and the stream ran ~3 s: it fetched fresh ones ahead of time, so none was refused.
    assert emulator.count("POST", r"/listOutputFiles$") >= 2
    assert emulator.sas_refused == 0


async def test_stream_recovers_from_a_revoked_link(backend, emulator: AzureEmulator, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path)
    ref = job_ref()
    await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))
    streamed = bytearray()
    revoked = False
    async for chunk in backend.jobs.stream_file(ref, "stdout.txt"):
        streamed += chunk
        if not revoked:  # the link dies while we read (clock skew, a key rotation): 403 on the next range
            emulator.revoke_links()
            revoked = True
    assert bytes(streamed) == emulator.world.stdout
    assert emulator.sas_refused >= 1
    assert emulator.count("GET", r"/stdout\.txt$", status=403) >= 1


async def test_stream_waits_for_a_queued_job_whose_output_folder_is_not_there_yet(
    backend, emulator: AzureEmulator, tmp_path
) -> None:
    await tutorial_setup(backend, tmp_path)
    ref = job_ref()
    await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))
    emulator.add_fault(
        r"/listOutputFiles$", status=404, code="ResourceNotFound", message="No output yet.", times=2
    )
    assert await _collect(backend.jobs.stream_file(ref, "stdout.txt")) == emulator.world.stdout


async def test_stream_resumes_after_dropped_connections(backend, emulator: AzureEmulator, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path)
    ref = job_ref()
    await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))
    await backend.jobs.wait(ref, poll_interval=0.05, timeout=20)
    # Each of the next three reads sends 5000 bytes of the body, then the connection dies.
    fault = emulator.add_fault(r"/stdout\.txt$", method="GET", drop_after=5000, times=3)
    streamed = await _collect(backend.jobs.stream_file(ref, "stdout.txt", follow=False))
    assert fault.hits == 3
    assert streamed == emulator.world.stdout  # nothing lost, nothing repeated


async def test_stream_from_an_offset_without_follow(backend, emulator: AzureEmulator, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path)
    ref = job_ref()
    with pytest.raises(NotFoundError, match="The job 'nope' was not found"):
        await _collect(backend.jobs.stream_file(job_ref("nope"), "stdout.txt", follow=False))
    await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))
    await backend.jobs.wait(ref, poll_interval=0.05, timeout=20)
    tail = await _collect(backend.jobs.stream_file(ref, "stdout.txt", offset=1000, follow=False))
    assert tail == emulator.world.stdout[1000:]
    past_end = await _collect(backend.jobs.stream_file(ref, "stdout.txt", offset=10**6, follow=False))
    assert past_end == b""  # 416: no bytes there


async def test_throttling_server_errors_and_dropped_connections_are_retried(
    backend, emulator: AzureEmulator, tmp_path
) -> None:
    await tutorial_setup(backend, tmp_path)
    emulator.add_fault(
        r"/clusters/nc6cluster$",
        method="GET",
        status=429,
        code="TooManyRequests",
        message="Too many requests.",
        headers={"Retry-After": "1"},
        times=1,
    )
    emulator.add_fault(r"/clusters/nc6cluster$", method="GET", status=503, times=1)
    emulator.add_fault(r"/myshare$", method="GET", status=500, code="InternalError", times=2)
    emulator.add_fault(r"/workspaces/batchaidev$", method="GET", disconnect=True, times=2)
    started = time.monotonic()
    cluster = await backend.clusters.get(CLUSTER_REF)
    assert cluster.name == CLUSTER
    assert time.monotonic() - started >= 0.9  # Retry-After was honoured
    assert emulator.count("GET", r"/clusters/nc6cluster$", status=429) == 1
    assert emulator.count("GET", r"/clusters/nc6cluster$", status=503) == 1
    assert (await backend.workspaces.get(RG, WS)).name == WS  # after two dropped connections
    assert emulator.count("GET", r"/workspaces/batchaidev$", status=0) == 2
    assert [s.name for s in await backend.storage.list_shares(ACCOUNT)] == [SHARE]
    assert [f.name for f in await backend.storage.list_files(ACCOUNT, SHARE)] == ["cifar"]


async def test_throttling_that_never_ends_is_reported(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(
        r"/resourcegroups$", status=429, code="TooManyRequests", message="Slow down.", times=99
    )
    with pytest.raises(BaiError) as caught:
        await backend.groups.list()
    message = str(caught.value)
    assert "listing resource groups failed: TooManyRequests: Slow down." in message
    assert "throttling" in message
    assert emulator.count("GET", r"/resourcegroups$", status=429) == 5  # the first try and 4 retries


async def test_service_errors_show_code_message_and_details(backend, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path, nodes=2)
    with pytest.raises(BaiError) as caught:
        await backend.jobs.create(
            job_ref(), CLUSTER, job_spec(nodeCount=8), JobSubmitOptions(storage_account_name=ACCOUNT)
        )
    message = str(caught.value)
    assert message.startswith(
        "creating job cifar_distributed failed: BadRequest: The job definition is invalid."
    )
    assert "properties.nodeCount: the job asks for 8 nodes; cluster 'nc6cluster' has 2" in message
    assert "(NodeCountExceedsClusterSize)" in message
    with pytest.raises(BaiError) as caught:
        await backend.clusters.create(ClusterRef(RG, WS, "big"), "Standard_NC6", 60, ssh_public_key=SSH_KEY)
    assert "QuotaExceeded" in str(caught.value) and "InsufficientCoreQuota" in str(caught.value)
    with pytest.raises(NotFoundError, match="ResourceNotFound: The cluster 'nope' was not found"):
        await backend.clusters.get(ClusterRef(RG, WS, "nope"))


async def test_job_that_cannot_mount_or_find_its_script_fails_visibly(backend, emulator, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path, script=False)
    options = JobSubmitOptions(storage_account_name=ACCOUNT)
    missing = job_ref("no_script")
    await backend.jobs.create(missing, CLUSTER, job_spec(), options)
    job = await backend.jobs.wait(missing, poll_interval=0.05, timeout=20)
    assert (job.execution_state, job.exit_code) == (ExecutionState.FAILED, 2)
    stderr = await _collect(backend.jobs.stream_file(missing, "stderr.txt", follow=False))
    assert (
        b"can't open file '/mnt/batch/tasks/shared/LS_root/mounts/myshare/cifar/cifar_cnn_distributed.py'"
        in stderr
    )

    bad_key = job_spec()
    from azure.mgmt.batchai.models import AzureStorageCredentialsInfo

    bad_key.mount_volumes.azure_file_shares[0].credentials = AzureStorageCredentialsInfo(
        account_key="d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    )
    unmounted = job_ref("bad_key")
    await backend.jobs.create(unmounted, CLUSTER, bad_key, options)
    job = await backend.jobs.wait(unmounted, poll_interval=0.05, timeout=20)
    assert job.execution_state == ExecutionState.FAILED
    assert job.errors[0].code == "AzureFileShareMountFailed"
    assert job.errors[0].details == {"AzureFileUrl": f"https://{ACCOUNT}.file.core.windows.net/myshare"}


@pytest.mark.parametrize("timings", [Timings(replay=30.0)])
async def test_terminate_ends_the_job_and_the_stream(backend, emulator: AzureEmulator, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path)
    ref = job_ref()
    await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))

    async def first_bytes_then_terminate() -> bytes:
        out = bytearray()
        async for chunk in backend.jobs.stream_file(ref, "stdout.txt"):
            if not out:
                job = await backend.jobs.terminate(ref)
                assert job.execution_state in (ExecutionState.TERMINATING, ExecutionState.FAILED)
            out += chunk
        return bytes(out)

    streamed = await asyncio.wait_for(first_bytes_then_terminate(), 20)
    assert 0 < len(streamed) < len(emulator.world.stdout)
    job = await backend.jobs.get(ref)
    assert job.execution_state == ExecutionState.FAILED
    assert job.errors[0].code == "JobTerminated"
    counts = (await backend.clusters.get(CLUSTER_REF)).node_state_counts
    assert counts.running_node_count == 0
    await backend.jobs.delete(ref)
    assert await backend.jobs.list(RG, WS, "cifar") == []


async def test_refresh_is_concurrent_and_one_slow_call_holds_nothing(backend, emulator, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path)
    other = ClusterRef(RG, WS, "other")
    await backend.clusters.create(other, "Standard_NC6", 1, ssh_public_key=SSH_KEY)
    ref = job_ref()
    await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))
    emulator.add_fault(r"/clusters/nc6cluster$", method="GET", delay=3.0)
    started = time.monotonic()
    snapshot = await refresh(backend, clusters=[CLUSTER_REF, other], jobs=[ref], timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert set(snapshot.clusters) == {other} and set(snapshot.jobs) == {ref}
    assert "no answer within 1 s" in snapshot.errors[CLUSTER_REF]
    snapshot = await refresh(backend, clusters=[CLUSTER_REF, other], jobs=[ref, JobRef(RG, WS, "cifar", "x")])
    assert set(snapshot.clusters) == {CLUSTER_REF, other}
    assert "ResourceNotFound" in snapshot.errors[JobRef(RG, WS, "cifar", "x")]


async def test_wrong_storage_key_is_refused_like_azure(emulator: AzureEmulator, tmp_path: Path) -> None:
    right = open_batchai_backend(emulator.env())
    try:
        await tutorial_setup(right, tmp_path, script=False)
    finally:
        await right.close()
    wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    env = {**emulator.env(), "AZURE_BATCHAI_STORAGE_ACCOUNT": ACCOUNT, "AZURE_BATCHAI_STORAGE_KEY": wrong_key}
    backend = open_batchai_backend(env)
    try:
        with pytest.raises(BaiError) as caught:
            await backend.storage.list_shares(ACCOUNT)
    finally:
        await backend.close()
    message = str(caught.value)
    assert "AuthenticationFailed" in message and "AZURE_BATCHAI_STORAGE_KEY" in message
    assert wrong_key not in message and "string to sign" not in message.lower()


async def test_a_bad_token_is_refused_with_what_to_do(emulator: AzureEmulator) -> None:
    token = "not-the-token-0123456789abcdef"
    backend = open_batchai_backend({**emulator.env(), "BAI_ACCESS_TOKEN": token})
    try:
        with pytest.raises(BaiError) as caught:
            await backend.groups.list()
    finally:
        await backend.close()
    message = str(caught.value)
    assert "InvalidAuthenticationToken" in message and "BAI_ACCESS_TOKEN" in message and "az login" in message
    assert token not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BAI_ARM_ENDPOINT", "http://management.example.com"),
        ("BAI_FILE_ENDPOINT", "http://10.1.2.3:10000/{account}"),
        ("BAI_FILE_ENDPOINT", "http://{account}.file.example.net"),
    ],
)
def test_plain_http_off_loopback_is_refused_before_any_request(name: str, value: str) -> None:
    env = {"AZURE_SUBSCRIPTION_ID": "sub", "BAI_ACCESS_TOKEN": "t" * 20, name: value}
    with pytest.raises(BaiError, match=f"{name}: refusing plain http to .*use https"):
        open_batchai_backend(env)


def test_settings_errors_name_the_variable() -> None:
    with pytest.raises(BaiError, match="AZURE_SUBSCRIPTION_ID is not set"):
        open_batchai_backend({})
    with pytest.raises(BaiError, match=r"BAI_FILE_ENDPOINT=.*no \{account\} placeholder"):
        open_batchai_backend({"AZURE_SUBSCRIPTION_ID": "s", "BAI_FILE_ENDPOINT": "https://files.example.net"})
    with pytest.raises(BaiError, match="BAI_POLL_INTERVAL='soon' is not a number"):
        open_batchai_backend({"AZURE_SUBSCRIPTION_ID": "s", "BAI_POLL_INTERVAL": "soon"})
    for ok in (
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:7",
        "https://management.azure.com",
    ):
        open_batchai_backend({"AZURE_SUBSCRIPTION_ID": "s", "BAI_ARM_ENDPOINT": ok})


def test_a_download_link_off_loopback_http_is_refused() -> None:
    from tui.backends.batchai.settings import check_endpoint

    with pytest.raises(BaiError, match=r"refusing plain http to files\.example\.net") as caught:
        check_endpoint("http://files.example.net/a/b/stdout.txt?sv=1&sig=SECRETSIG", "the download URL")
    assert "SECRETSIG" not in str(caught.value)


async def test_show_list_and_delete_each_kind_of_resource(backend, emulator, tmp_path) -> None:
    await tutorial_setup(backend, tmp_path, nodes=1)
    await backend.groups.create("other.group", "westeurope")
    assert {g.name for g in await backend.groups.list()} == {RG, "other.group"}
    assert (await backend.groups.get("other.group")).location == "westeurope"
    await backend.workspaces.create("other.group", "ws2")
    assert (await backend.workspaces.get("other.group", "ws2")).location == "westeurope"  # the group's
    assert {w.name for w in await backend.workspaces.list()} == {WS, "ws2"}
    assert [e.name for e in await backend.experiments.list(RG, WS)] == ["cifar"]
    account = await backend.storage.get_account(ACCOUNT)
    assert (account.resource_group, account.sku) == (RG, "Standard_LRS")
    assert [a.name for a in await backend.storage.list_accounts(RG)] == [ACCOUNT]
    ref = job_ref()
    await backend.jobs.create(
        ref, CLUSTER, job_spec(nodeCount=1), JobSubmitOptions(storage_account_name=ACCOUNT)
    )
    await backend.jobs.wait(ref, poll_interval=0.05, timeout=20)
    await backend.jobs.delete(ref)
    with pytest.raises(NotFoundError):
        await backend.jobs.get(ref)
    await backend.experiments.delete(EXPERIMENT_REF)
    assert await backend.experiments.list(RG, WS) == []
    await backend.clusters.delete(CLUSTER_REF)
    assert await backend.clusters.list(RG, WS) == []
    await backend.workspaces.delete("other.group", "ws2")
    assert [w.name for w in await backend.workspaces.list()] == [WS]
    await backend.storage.delete_share(ACCOUNT, SHARE)
    assert await backend.storage.list_shares(ACCOUNT) == []
    await backend.storage.delete_account(ACCOUNT)
    with pytest.raises(NotFoundError, match="storage account 'mystorage' was not found"):
        await backend.storage.get_account(ACCOUNT)


async def test_a_group_that_exists_elsewhere_says_where(backend) -> None:
    # ARM refuses to "create" an existing group in another location (409 InvalidResourceGroupLocation).
    await backend.groups.create("where.group", "East US")
    assert (await backend.groups.create("where.group", "eastus")).location == "East US"  # the same region
    with pytest.raises(BaiError) as caught:
        await backend.groups.create("where.group", "westeurope")
    lines = str(caught.value).splitlines()
    assert lines[0] == (
        "creating resource group where.group failed: InvalidResourceGroupLocation: Invalid resource group "
        "location 'westeurope'. The Resource group already exists in location 'East US'."
    )
    assert lines[1] == "  what to do: give the location 'East US' (where it is), or another group name", lines
