"""The azureml backend's pure translations: job.json -> command job (mount paths, outputs, datastore names,
processes per node, timeout), job status -> executionState, ISO 8601 durations, retired VM sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tui.backends.azureml.convert import cluster, execution_state
from tui.backends.azureml.durations import iso_duration, iso_seconds
from tui.backends.azureml.jobspec import datastore_name, mount_key, to_command_job
from tui.core.errors import BaiError
from tui.core.jobspec import parse_job_spec
from tui.core.model import ExecutionState


def spec(**properties: object) -> object:
    base: dict[str, object] = {
        "nodeCount": 2,
        "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/my-share/logs",
        "mountVolumes": {
            "azureFileShares": [
                {
                    "azureFileUrl": "https://acct1.file.core.windows.net/my-share",
                    "relativeMountPath": "my-share",
                },
                {"azureFileUrl": "https://acct1.file.core.windows.net/data", "relativeMountPath": "my"},
            ]
        },
    }
    base.update(properties)
    return parse_job_spec({"properties": base})


def test_mount_paths_become_outputs_and_datastores() -> None:
    job = to_command_job(
        spec(
            horovodSettings={
                "pythonScriptFilePath": "$AZ_BATCHAI_JOB_MOUNT_ROOT/my-share/train.py",
                "commandLineArgs": (
                    "--dir=${AZ_BATCHAI_JOB_MOUNT_ROOT}/my-share/out --data $AZ_BATCHAI_JOB_MOUNT_ROOT/my"
                ),
                "processCount": 4,
            },
            constraints={"maxWallClockTime": "7.00:00:00"},
        )
    )
    assert job.command == (
        "python ${{outputs.my_share}}/train.py --dir=${{outputs.my_share}}/out --data ${{outputs.my}}"
    )
    assert [(m.output, m.datastore) for m in job.mounts] == [
        ("my_share", "acct1_my_share"),
        ("my", "acct1_data"),
    ]
    assert job.process_count_per_instance == 2 and job.node_count == 2
    assert job.timeout == "P7D"
    assert any("stdOutErrPathPrefix" in warning for warning in job.warnings)


def test_custom_mpi_and_bad_process_counts() -> None:
    job = to_command_job(spec(customMpiSettings={"commandLine": "mpirun python a.py", "processCount": 2}))
    assert (job.command, job.process_count_per_instance) == ("mpirun python a.py", 1)
    with pytest.raises(BaiError, match=r"processCount 3 does not divide by properties\.nodeCount 2"):
        to_command_job(spec(customMpiSettings={"commandLine": "mpirun x", "processCount": 3}))


def test_names_and_durations() -> None:
    assert mount_key("a.b-c/d") == "a_b_c_d"
    assert datastore_name("MyAcct", "my-share.x") == "myacct_my_share_x"
    assert iso_duration(timedelta(days=7)) == "P7D"
    assert iso_duration(timedelta(hours=1, minutes=30)) == "PT1H30M"
    assert iso_duration(timedelta(days=1, seconds=5)) == "P1DT5S"
    assert iso_seconds("PT2M") == 120 and iso_seconds("PT5M30S") == 330 and iso_seconds("soon") is None


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("NotStarted", ExecutionState.QUEUED),
        ("Starting", ExecutionState.QUEUED),
        ("Provisioning", ExecutionState.QUEUED),
        ("Preparing", ExecutionState.QUEUED),
        ("Queued", ExecutionState.QUEUED),
        ("Running", ExecutionState.RUNNING),
        ("Finalizing", ExecutionState.RUNNING),
        ("CancelRequested", ExecutionState.TERMINATING),
        ("Completed", ExecutionState.SUCCEEDED),
        ("Failed", ExecutionState.FAILED),
        ("NotResponding", ExecutionState.FAILED),
        ("Canceled", ExecutionState.CANCELED),
    ],
)
def test_job_status_to_execution_state(status: str, state: ExecutionState) -> None:
    assert execution_state(status) is state


@pytest.mark.parametrize("status", ["Paused", "Unknown", "Hibernating"])
def test_other_statuses_are_shown_as_spelled_and_not_final(status: str) -> None:
    state = execution_state(status)
    assert str(state) == status and state.value == status and not state.is_final


def test_a_compute_document_from_the_spec_examples() -> None:
    body = {
        "id": "/subscriptions/s/resourceGroups/testrg123/providers/Microsoft.MachineLearningServices"
        "/workspaces/workspaces123/computes/compute123",
        "name": "compute123",
        "location": "eastus2",
        "properties": {
            "computeType": "AmlCompute",
            "provisioningState": "Succeeded",
            "createdOn": "2021-04-01T22:00:00.0000000+00:00",
            "properties": {
                "vmSize": "STANDARD_NC6",
                "vmPriority": "Dedicated",
                "scaleSettings": {
                    "maxNodeCount": 1, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT5M",
                },
                "allocationState": "Resizing",
                "errors": None,
                "currentNodeCount": 0,
                "targetNodeCount": 1,
                "nodeStateCounts": {
                    "preparingNodeCount": 0, "runningNodeCount": 0, "idleNodeCount": 0,
                    "unusableNodeCount": 0, "leavingNodeCount": 0, "preemptedNodeCount": 2,
                },
            },
        },
    }  # fmt: skip
    shown = cluster(body, workspace="workspaces123")
    assert (shown.resource_group, shown.vm_priority, shown.allocation_state.value) == (
        "testrg123",
        "dedicated",
        "resizing",
    )
    assert (shown.target_node_count, shown.max_node_count, shown.node_state_counts.preempted_node_count) == (
        1,
        1,
        2,
    )


def test_settings_never_show_the_token_or_key() -> None:
    from tui.backends.azureml.settings import AzureMLSettings

    token, key = "tok-" + "x" * 40, "a2V5" * 16
    settings = AzureMLSettings.from_env(
        {
            "AZURE_SUBSCRIPTION_ID": "sub",
            "BAI_ACCESS_TOKEN": token,
            "AZURE_BATCHAI_STORAGE_ACCOUNT": "acct",
            "AZURE_BATCHAI_STORAGE_KEY": key,
        }
    )
    shown = f"{settings!r} {settings.azure!r} {settings}"
    assert token not in shown and key not in shown
    assert settings.arm_scope == "https://management.azure.com/.default"
