"""The batchai backend against the shapes the real services answered with (tests/azure_emulator/data/real,
see its README for where each body came from): fields missing or null, unknown extra fields, states in
another case, ids that do not follow the usual pattern, paged lists, and error bodies in all their forms.

The emulator serves each real body through the real SDK pipeline (a canned answer for one request), so what
is tested is what a user of `bai` would see if the service answered that way.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from azure_emulator import AzureEmulator, Timings
from azure_emulator.testing import CLUSTER_REF, EXPERIMENT_REF, RG, SSH_KEY, WS

from tui.backends.batchai import open_batchai_backend
from tui.backends.batchai.errors import service_error_parts
from tui.cli.wording import error_text
from tui.core.errors import BaiError, NotFoundError
from tui.core.model import AllocationState, ClusterRef, ExecutionState, ExperimentRef, JobRef, as_az_dict

pytestmark = pytest.mark.timeout(60)

REAL = Path(__file__).parent / "azure_emulator" / "data" / "real"
DEMO_CLUSTER = ClusterRef("demo_resource_group", "demo_workspace", "demo_cluster")
DEMO_JOB = JobRef("demo_resource_group", "demo_workspace", "demo_experiment", "demo_job")


def real(name: str) -> Any:
    return json.loads((REAL / name).read_text())


@pytest.fixture
def timings() -> Timings:
    return Timings()  # the emulator (conftest.py) at its own pace


@pytest.fixture
async def backend(emulator: AzureEmulator) -> AsyncIterator:
    backend = open_batchai_backend(emulator.env())
    try:
        yield backend
    finally:
        await backend.close()


# ---------------------------------------------------------------- resources as the service showed them


async def test_a_real_resizing_cluster(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(r"/clusters/demo_cluster$", method="GET", status=200, body=real("cluster_get.json"))
    cluster = await backend.clusters.get(DEMO_CLUSTER)
    assert (cluster.name, cluster.resource_group, cluster.workspace) == (
        "demo_cluster",
        "demo_resource_group",
        "demo_workspace",
    )
    assert (cluster.vm_size, cluster.allocation_state, cluster.target_node_count) == (
        "STANDARD_NC6",
        AllocationState.RESIZING,
        1,
    )
    assert cluster.node_state_counts.total == 0 and cluster.errors == []


async def test_a_cluster_in_the_preview_api_case_and_without_leaving_count(
    backend, emulator: AzureEmulator
) -> None:
    # 2017-09-01-preview answered "Resizing" / "Dedicated" and had no leavingNodeCount.
    emulator.add_fault(
        r"/clusters/demo_cluster$",
        method="GET",
        status=200,
        body=real("cluster_get_preview_capitalised.json"),
    )
    cluster = await backend.clusters.get(DEMO_CLUSTER)
    assert cluster.allocation_state == AllocationState.RESIZING
    assert cluster.vm_priority == "dedicated"
    assert cluster.node_state_counts.leaving_node_count == 0


async def test_a_cluster_with_no_counts_and_nulls_while_allocating(backend, emulator: AzureEmulator) -> None:
    body = real("cluster_get_after_create.json")
    properties = body["properties"]
    for name in ("nodeStateCounts", "currentNodeCount", "scaleSettings"):
        properties.pop(name)
    properties["errors"] = None
    properties["allocationStateTransitionTime"] = None
    emulator.add_fault(r"/clusters/demo_cluster$", method="GET", status=200, body=body)
    cluster = await backend.clusters.get(DEMO_CLUSTER)
    assert (cluster.current_node_count, cluster.target_node_count, cluster.node_state_counts.total) == (
        0,
        0,
        0,
    )
    assert cluster.errors == [] and cluster.allocation_state_transition_time is None


async def test_a_cluster_error_with_name_value_details(backend, emulator: AzureEmulator) -> None:
    body = real("cluster_get_after_create.json")
    body["properties"]["errors"] = [
        {
            "code": "AzureFileShareMountFailed",
            "message": "Failed to mount Azure File share",
            "details": [{"name": "AzureFileUrl", "value": "https://a.file.core.windows.net/s"}],
        }
    ]
    emulator.add_fault(r"/clusters/demo_cluster$", method="GET", status=200, body=body)
    cluster = await backend.clusters.get(DEMO_CLUSTER)
    assert [(e.code, e.details) for e in cluster.errors] == [
        ("AzureFileShareMountFailed", {"AzureFileUrl": "https://a.file.core.windows.net/s"})
    ]


async def test_a_listed_cluster_whose_id_says_workspace_singular(backend, emulator: AzureEmulator) -> None:
    body = {"value": [copy.deepcopy(real("cluster_get.json"))]}
    body["value"][0]["id"] = body["value"][0]["id"].replace("/workspaces/", "/workspace/")
    emulator.add_fault(r"/workspaces/demo_workspace/clusters$", method="GET", status=200, body=body)
    [cluster] = await backend.clusters.list("demo_resource_group", "demo_workspace")
    assert (cluster.name, cluster.workspace) == ("demo_cluster", "demo_workspace")


async def test_a_real_running_job_with_only_a_start_time(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(r"/jobs/demo_job$", method="GET", status=200, body=real("job_get_running.json"))
    job = await backend.jobs.get(DEMO_JOB)
    assert job.execution_state == ExecutionState.RUNNING
    assert (job.experiment, job.cluster, job.toolkit, job.node_count) == (
        "demo_experiment",
        "demo_cluster",
        "custom",
        1,
    )
    assert job.start_time is not None and job.end_time is None and job.exit_code is None


async def test_a_real_queued_job_has_no_execution_info(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(r"/jobs/job$", method="GET", status=200, body=real("job_get_queued.json"))
    job = await backend.jobs.get(JobRef("clitest.rg000001", "workspace", "experiment", "job"))
    assert job.execution_state == ExecutionState.QUEUED
    assert (job.start_time, job.end_time, job.exit_code, job.errors) == (None, None, None, [])


async def test_a_real_failed_job_reports_its_error(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(r"/jobs/job$", method="GET", status=200, body=real("job_get_failed.json"))
    ref = JobRef("test_mgmt_batchai_jobs_test_failed_job_reportingdee81392", "workspace", "experiment", "job")
    job = await backend.jobs.get(ref)
    assert (job.execution_state, job.exit_code) == (ExecutionState.FAILED, 1)
    assert [(e.code, e.message) for e in job.errors] == [("JobFailed", "Job failed with non-zero exit code")]


async def test_a_job_in_the_preview_api_case(backend, emulator: AzureEmulator) -> None:
    body = real("job_get_failed.json")
    body["properties"]["executionState"] = "Failed"
    emulator.add_fault(r"/jobs/job$", method="GET", status=200, body=body)
    job = await backend.jobs.get(JobRef("g", "workspace", "experiment", "job"))
    assert job.execution_state == ExecutionState.FAILED


def _with_state(name: str, field: str, value: str) -> Any:
    """A real body (or each item of a real list) with `field` set to a value the 2018-05-01 enums lack."""
    body = real(name)
    for item in body.get("value", [body]):
        item["properties"][field] = value
    return body


async def test_a_job_state_this_version_does_not_know_is_listed_as_the_service_spelled_it(
    backend, emulator: AzureEmulator
) -> None:
    # az printed whatever the service said; one job in a state newer than bai must not hide the others.
    body = _with_state("job_list_by_experiment.json", "executionState", "Preempted")
    emulator.add_fault(r"/experiments/demo_experiment/jobs$", method="GET", status=200, body=body)
    [job] = await backend.jobs.list("demo_resource_group", "demo_workspace", "demo_experiment")
    assert (job.name, job.execution_state, job.execution_state.value) == (
        "demo_job",
        "preempted",
        "preempted",
    )
    assert not job.execution_state.is_final  # `job wait` keeps waiting on it
    assert as_az_dict(job)["executionState"] == "preempted"
    assert json.loads(json.dumps(as_az_dict(job)))["executionState"] == "preempted"

    emulator.add_fault(
        r"/jobs/demo_job$",
        method="GET",
        status=200,
        body=_with_state("job_get_running.json", "executionState", "Preempted"),
    )
    shown = await backend.jobs.get(DEMO_JOB)
    assert shown.execution_state == job.execution_state and shown.execution_state != ExecutionState.RUNNING


async def test_a_cluster_allocation_state_this_version_does_not_know_is_listed(
    backend, emulator: AzureEmulator
) -> None:
    body = {"value": [_with_state("cluster_get.json", "allocationState", "Stopping")]}
    emulator.add_fault(r"/workspaces/demo_workspace/clusters$", method="GET", status=200, body=body)
    [cluster] = await backend.clusters.list("demo_resource_group", "demo_workspace")
    assert (cluster.name, cluster.allocation_state.value) == ("demo_cluster", "stopping")
    assert as_az_dict(cluster)["allocationState"] == "stopping"


async def test_job_wait_keeps_waiting_through_an_unknown_state(backend, emulator: AzureEmulator) -> None:
    unknown = _with_state("job_get_failed.json", "executionState", "Preempted")
    ref = JobRef("g", "workspace", "experiment", "job")
    emulator.add_fault(r"/jobs/job$", method="GET", status=200, body=unknown, times=2)
    emulator.add_fault(r"/jobs/job$", method="GET", status=200, body=real("job_get_failed.json"))
    job = await backend.jobs.wait(ref, poll_interval=0.01)
    assert job.execution_state == ExecutionState.FAILED
    assert emulator.count("GET", r"/jobs/job$") == 3

    emulator.add_fault(r"/jobs/job$", method="GET", status=200, body=unknown, times=10_000)
    with pytest.raises(BaiError, match=r"job job is still preempted after 0\.2 s"):
        await backend.jobs.wait(ref, poll_interval=0.01, timeout=0.2)


def test_the_tree_draws_a_job_state_this_version_does_not_know() -> None:
    from azure.mgmt.batchai.models import Job as SdkJob

    from tui.backends.batchai.convert import job as convert_job
    from tui.console.widgets.tree_items import Item, label_of, state_looks

    body = _with_state("job_get_running.json", "executionState", "Preempted")
    job = convert_job(SdkJob.deserialize(body))  # the SDK's own reading of the body
    item = Item.of_job(DEMO_JOB, job)
    assert str(label_of(item)).endswith("demo_job preempted")
    assert str(label_of(item, state_looks({"warning": "#ffa62b", "error": "#ba3c5b"}))).endswith(
        "demo_job preempted"
    )


async def test_a_real_job_list_whose_ids_lack_the_experiment(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(
        r"/experiments/demo_experiment/jobs$",
        method="GET",
        status=200,
        body=real("job_list_by_experiment.json"),
    )
    [job] = await backend.jobs.list("demo_resource_group", "demo_workspace", "demo_experiment")
    assert (job.name, job.workspace, job.experiment, job.cluster) == (
        "demo_job",
        "demo_workspace",
        "demo_experiment",
        "demo_cluster",
    )


async def test_a_real_workspace_list(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(
        r"/providers/microsoft\.batchai/workspaces$",
        method="GET",
        status=200,
        body=real("workspace_list.json"),
    )
    [workspace] = await backend.workspaces.list()
    assert (workspace.name, workspace.resource_group, workspace.location) == (
        "demo_workspace",
        "demo_resource_group",
        "eastus",
    )


async def test_real_output_files_with_a_bare_directory_entry(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(
        r"/listoutputfiles$", method="POST", status=200, body=real("job_list_output_files.json")
    )
    files = {f.name: f for f in await backend.jobs.list_output_files(DEMO_JOB)}
    assert (files["stdout.txt"].size, files["stdout.txt"].is_directory) == (32, False)
    assert files["stdout.txt"].download_url.startswith("https://storage_account_name.file.core.windows.net/")
    counters = files["counters"]
    assert (counters.is_directory, counters.size, counters.last_modified) == (True, None, None)


# ---------------------------------------------------------------- paged lists (nextLink)


async def test_lists_follow_next_link(backend, emulator: AzureEmulator) -> None:
    emulator.page_size = 2
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    for name in ("a", "b", "c", "d", "e"):
        await backend.experiments.create(ExperimentRef(RG, WS, name))
    names = [e.name for e in await backend.experiments.list(RG, WS)]
    assert sorted(names) == ["a", "b", "c", "d", "e"]
    assert emulator.count("GET", r"/experiments$") >= 3  # three pages
    await backend.clusters.create(CLUSTER_REF, "Standard_NC6", 0, ssh_public_key=SSH_KEY)
    assert [c.name for c in await backend.clusters.list(RG, WS)] == [CLUSTER_REF.name]
    assert EXPERIMENT_REF.name not in names


# ---------------------------------------------------------------- errors in all their forms


async def test_a_real_not_found_body(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(r"/jobs/job$", method="GET", status=404, body=real("error_job_not_found.json"))
    with pytest.raises(
        NotFoundError, match="reading job job failed: JobNotFound: The specified job job is not found"
    ):
        await backend.jobs.get(JobRef("g", "workspace", "experiment", "job"))


async def test_a_nested_arm_error_shows_every_level(backend, emulator: AzureEmulator) -> None:
    emulator.add_fault(
        r"/clusters/demo_cluster$", method="GET", status=400, body=real("error_nested_arm.json")
    )
    with pytest.raises(BaiError) as caught:
        await backend.clusters.get(DEMO_CLUSTER)
    text = str(caught.value)
    assert "InvalidTemplateDeployment" in text
    assert "QuotaExceeded" in text and "Operation could not be completed as it results in exceeding" in text
    assert "InsufficientCoreQuota" in text  # the detail's own detail
    assert "properties.scaleSettings" in text  # a target


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": "ClusterNotFound", "message": "no cluster"}, ("ClusterNotFound", "no cluster", [])),
        ({"error": {"code": "X", "message": "m", "details": None}}, ("X", "m", [])),
        (
            {"Message": "The requested resource does not support http method 'PATCH'."},
            (None, "The requested resource does not support http method 'PATCH'.", []),
        ),
        (
            {"error": {"code": "X", "message": "m", "details": [{"name": "Reason", "value": None}]}},
            ("X", "m", ["Reason: "]),
        ),
        (
            {"error": {"code": "X", "message": "m", "details": ["plain text detail"]}},
            ("X", "m", ["plain text detail"]),
        ),
        (
            {
                "error": {
                    "code": "X",
                    "message": "m",
                    "details": [
                        {
                            "code": "Y",
                            "message": "n",
                            "details": [{"code": "Z", "message": "o", "target": "t"}],
                        }
                    ],
                }
            },
            ("X", "m", ["n (Y)", "  t: o (Z)"]),
        ),
        (
            {"error": "invalid_request", "error_description": "The token is expired."},
            ("invalid_request", "The token is expired.", []),
        ),
        ([{"unexpected": "list"}], (None, None, [])),
    ],
)
def test_service_error_parts_reads_every_form(body: Any, expected: tuple) -> None:
    assert service_error_parts(json.dumps(body)) == expected


async def test_a_failed_long_running_operation_shows_the_service_error(
    backend, emulator: AzureEmulator
) -> None:
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    emulator.fail_next_operation(
        "InsufficientCoreQuota",
        "The cluster cannot be allocated: not enough cores in the region.",
        [{"code": "QuotaExceeded", "target": "vmSize", "message": "Standard_NC6 needs 6 cores"}],
    )
    with pytest.raises(BaiError) as caught:
        await backend.clusters.create(CLUSTER_REF, "Standard_NC6", 4, ssh_public_key=SSH_KEY)
    text = str(caught.value)
    assert (
        "creating cluster nc6cluster failed: InsufficientCoreQuota: The cluster cannot be allocated" in text
    )
    assert "vmSize: Standard_NC6 needs 6 cores (QuotaExceeded)" in text


async def test_share_listings_follow_next_marker(backend, emulator: AzureEmulator, tmp_path: Path) -> None:
    await backend.groups.create(RG, "eastus")
    await backend.storage.create_account(RG, "mystorage", "eastus")
    await backend.storage.create_share("mystorage", "myshare")
    source = tmp_path / "data"
    (source / "sub").mkdir(parents=True)
    for name in ("a.txt", "c.txt", "e.txt"):
        (source / name).write_text(name)
    (source / "sub" / "b.txt").write_text("b")
    await backend.storage.upload_directory("mystorage", "myshare", "cifar", source)
    emulator.page_size = 2
    listed = await backend.storage.list_files("mystorage", "myshare", "cifar")
    assert [(f.name, f.is_directory) for f in listed] == [
        ("sub", True),
        ("a.txt", False),
        ("c.txt", False),
        ("e.txt", False),
    ]
    assert emulator.count("GET", r"/myshare/cifar$") >= 2  # two pages
    # A folder over a file on a later page is still seen as a file.
    with pytest.raises(BaiError, match=r"'cifar/e\.txt' is a file"):
        await backend.storage.create_directory("mystorage", "myshare", "cifar/e.txt")


@pytest.mark.parametrize("retry_after", [1])
async def test_long_running_operations_honour_retry_after(retry_after: int) -> None:
    # The service's examples answer 202 with `Retry-After: 15`: the poller waits that, not its interval.
    with AzureEmulator(Timings(operation=0.3, retry_after=retry_after)) as emulator:
        backend = open_batchai_backend(emulator.env())
        try:
            await backend.groups.create(RG, "eastus")
            await backend.workspaces.create(RG, WS)
            asked_before = emulator.count("GET", r"/asyncoperations/")
            started = time.monotonic()
            cluster = await backend.clusters.create(CLUSTER_REF, "Standard_NC6", 0, ssh_public_key=SSH_KEY)
            waited = time.monotonic() - started
            asked = emulator.count("GET", r"/asyncoperations/") - asked_before
        finally:
            await backend.close()
    assert cluster.name == CLUSTER_REF.name
    assert waited >= retry_after
    # At BAI_POLL_INTERVAL (0.05 s) it would have asked about six times in 0.3 s; it asked at once, then
    # once more after the Retry-After.
    assert asked <= 2


async def test_output_files_and_the_stream_follow_next_link(
    backend, emulator: AzureEmulator, tmp_path: Path
) -> None:
    from azure_emulator.testing import ACCOUNT, CLUSTER, job_ref, job_spec, tutorial_setup

    from tui.backends.base import JobSubmitOptions

    await tutorial_setup(backend, tmp_path)
    ref = job_ref()
    await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))
    emulator.page_size = 2  # stdout.txt sorts after stderr.txt, execution-*.log and stdout-job_prep-*
    streamed = bytearray()
    async for chunk in backend.jobs.stream_file(ref, "stdout.txt"):
        streamed += chunk
    assert bytes(streamed) == emulator.world.stdout
    names = [f.name for f in await backend.jobs.list_output_files(ref)]
    assert "stdout.txt" in names and len(names) > 2
    assert emulator.count("GET", r"/listOutputFiles$") >= 1  # a nextLink is a GET


def test_link_expiry_of_a_real_download_url() -> None:
    from datetime import UTC, datetime

    from tui.backends.batchai.stream import link_expiry

    url = real("job_list_output_files.json")["value"][3]["downloadUrl"]  # se=2017-09-28T01%3A22%3A35Z
    assert link_expiry(url) == datetime(2017, 9, 28, 1, 22, 35, tzinfo=UTC).timestamp()


# ---------------------------------------------------------------- answers that are not the service's

PROXY_PAGE = "<html><head><title>Sign in to the proxy</title></head><body>Sign in</body></html>"


@pytest.mark.parametrize(
    ("what", "path", "text", "content_type"),
    [
        ("a web page for a cluster", r"/clusters/demo_cluster$", PROXY_PAGE, "text/html"),
        ("an empty list", r"/workspaces/demo_workspace/clusters$", "", "application/json"),
        (
            "a cut-off cluster",
            r"/clusters/demo_cluster$",
            '{"name": "demo_cluster", "prop',
            "application/json",
        ),
        (
            "a count that is not a number",
            r"/clusters/demo_cluster$",
            '{"name": "demo_cluster", "properties": {"currentNodeCount": "many"}}',
            "application/json",
        ),
    ],
    ids=["web page", "empty list", "cut off", "not a number"],
)
async def test_an_answer_that_is_not_the_service_s_is_a_clear_error(
    backend, emulator: AzureEmulator, what: str, path: str, text: str, content_type: str
) -> None:
    # A proxy's sign-in page, a cut connection or a wrong BAI_ARM_ENDPOINT answer 200 with something that is
    # not a Batch AI resource: say so, not a Python error (or "failed (HTTP 200): OK").
    emulator.add_fault(path, method="GET", status=200, text=text, content_type=content_type, times=10)
    with pytest.raises(BaiError) as caught:
        if "list" in what:
            await backend.clusters.list("demo_resource_group", "demo_workspace")
        else:
            await backend.clusters.get(DEMO_CLUSTER)
    message = str(caught.value)
    assert "could not be read" in message and "BAI_ARM_ENDPOINT" in message, message
    assert "HTTP 200): OK" not in message


async def test_a_share_listing_that_is_a_web_page_is_a_clear_error(backend, emulator: AzureEmulator) -> None:
    await backend.groups.create(RG, "eastus")
    await backend.storage.create_account(RG, "mystorage", "eastus")
    await backend.storage.create_share("mystorage", "myshare")
    emulator.add_fault(
        r"/myshare$", method="GET", status=200, text=PROXY_PAGE, content_type="text/html", times=10
    )
    with pytest.raises(BaiError) as caught:
        await backend.storage.list_files("mystorage", "myshare", "")
    message = str(caught.value)
    assert message.startswith("listing myshare/ failed") and "could not be read" in message, message
    assert "BAI_FILE_ENDPOINT" in message


@pytest.mark.parametrize("status", ["Canceled", "Failed"])
async def test_an_operation_that_ends_without_an_error_says_how_it_ended(
    backend, emulator: AzureEmulator, status: str
) -> None:
    # ARM's operation status ends Succeeded, Failed or Canceled; a Canceled one (the resource was deleted
    # or changed meanwhile), or a Failed one without `error`, carries no code to show.
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    ended = real("operation_succeeded.json")
    del ended["properties"]
    ended["status"] = status
    emulator.add_fault(r"/asyncoperations/", method="GET", status=200, body=ended, times=5)
    with pytest.raises(BaiError) as caught:
        await backend.clusters.create(CLUSTER_REF, "Standard_NC6", 0, ssh_public_key=SSH_KEY)
    lines = error_text(caught.value).splitlines()  # as the CLI words it (the hint: `bai cluster show`)
    assert lines[0] == f"creating cluster nc6cluster failed: the service ended the operation {status}", lines
    assert lines[1].startswith("  what to do: ") and "bai cluster show" in lines[1], lines


async def test_an_account_that_refuses_key_access_says_to_allow_it(backend, emulator: AzureEmulator) -> None:
    # Accounts made today often have "Allow storage account key access" off; Batch AI mounts the share
    # with the key, so that is what must change (not the role, as for an AuthorizationPermissionMismatch).
    await backend.groups.create(RG, "eastus")
    await backend.storage.create_account(RG, "mystorage", "eastus")
    await backend.storage.create_share("mystorage", "myshare")
    body = (REAL / "files_key_auth_not_permitted.xml").read_text()
    emulator.add_fault(r"/myshare$", method="GET", status=403, text=body, times=9,
                       headers={"x-ms-error-code": "KeyBasedAuthenticationNotPermitted"})  # fmt: skip
    with pytest.raises(BaiError) as caught:
        await backend.storage.list_files("mystorage", "myshare", "")
    lines = str(caught.value).splitlines()
    assert lines[0] == (
        "listing myshare/ failed: KeyBasedAuthenticationNotPermitted: "
        "Key based authentication is not permitted on thhis storage account."
    )
    assert lines[1].startswith("  what to do: ") and "key access" in lines[1], lines


async def test_an_unregistered_provider_says_how_to_register_it(backend, emulator: AzureEmulator) -> None:
    # A subscription that never used Batch AI answers 409 MissingSubscriptionRegistration (the SDK first
    # tries to register the namespace itself; without the right to, the 409 stays).
    emulator.add_fault(
        r"/clusters/demo_cluster$",
        method="GET",
        status=409,
        body=real("error_missing_subscription_registration.json"),
        times=9,
    )
    with pytest.raises(BaiError) as caught:
        await backend.clusters.get(DEMO_CLUSTER)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("reading cluster demo_cluster failed: MissingSubscriptionRegistration: "), (
        lines
    )
    assert lines[-1] == (
        "  what to do: register the resource provider: az provider register --namespace Microsoft.KeyVault"
    ), lines


async def test_a_create_polled_on_the_resource_that_ends_failed_shows_its_errors(
    backend, emulator: AzureEmulator
) -> None:
    # ARM lets a PUT answer 200 with the resource (provisioningState "creating") and no operation URL (the
    # 2018-05-01 spec allows 200 or 202 here): the SDK then polls the resource itself until its
    # provisioningState ends; a failed one carries the reason in the resource's `errors`, not in an `error`.
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    creating = real("cluster_get_after_create.json")
    creating["properties"]["provisioningState"] = "creating"
    failed = copy.deepcopy(creating)
    failed["properties"]["provisioningState"] = "failed"
    failed["properties"]["errors"] = [
        {
            "code": "AzureFileShareMountFailed",
            "message": "Failed to mount Azure File share",
            "details": [
                {"name": "AzureFileUrl", "value": "https://clitest000002.file.core.windows.net/share"}
            ],
        }
    ]
    emulator.add_fault(r"/clusters/nc6cluster$", method="PUT", status=200, body=creating)
    emulator.add_fault(r"/clusters/nc6cluster$", method="GET", status=200, body=failed, times=9)
    with pytest.raises(BaiError) as caught:
        await backend.clusters.create(CLUSTER_REF, "Standard_NC6", 1, ssh_public_key=SSH_KEY)
    lines = error_text(caught.value).splitlines()
    assert lines[0] == "creating cluster nc6cluster failed: the service ended the operation Failed", lines
    assert "  - AzureFileShareMountFailed: Failed to mount Azure File share" in lines, lines
    assert "bai cluster show" in lines[-1], lines
