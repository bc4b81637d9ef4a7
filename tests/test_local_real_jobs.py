"""Real Batch AI job files (tests/data/jobs) on the local backend: the launch plan expands paths and
`$AZ_BATCHAI_*` variables as the service did, a real custom-toolkit file runs end to end, and the toolkits
this machine cannot run are refused at submission with nothing created."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.backends.base import JobSubmitOptions
from tui.backends.local import open_local_backend
from tui.backends.local.home import Layout
from tui.backends.local.plan import LaunchPlan, PlanInput, build_plan
from tui.core.errors import UnsupportedError
from tui.core.jobspec import apply_storage_account, load_job_spec, parse_job_spec
from tui.core.model import ClusterRef, ExecutionState, ExperimentRef, JobRef

JOBS = Path(__file__).parent / "data" / "jobs"
SEGMENT = "sub/rg/workspaces/ws/experiments/exp/jobs/job/uuid"
RG, WS, EXP, CLUSTER = "recipes", "ws", "exp", "nc6"


def plan_of(home: Path, name: str, account: str = "recipestore", **properties: object) -> LaunchPlan:
    data = json.loads((JOBS / name).read_text())
    data["properties"].update(properties)
    spec = parse_job_spec(data)
    apply_storage_account(spec, account)
    shares = {account: {"logs", "scripts"}}
    return build_plan(Layout(home), PlanInput("uuid", SEGMENT, spec, False), shares)


def test_the_horovod_recipe_runs_its_script_from_the_job_mount_root(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, "recipe-horovod-tensorflow.json")
    mounts = tmp_path / "jobs" / "uuid" / "mounts"
    assert plan.toolkit == "horovod" and plan.node_count == 2 and plan.process_count == 2
    assert plan.script == f"{mounts}/scripts/horovod/tensorflow_mnist.py"
    assert [(m.relative_mount_path, m.target) for m in plan.mounts] == [
        ("logs", str(tmp_path / "storage" / "recipestore" / "logs")),
        ("scripts", str(tmp_path / "storage" / "recipestore" / "scripts")),
    ]
    assert plan.stdouterr_dir == f"{mounts}/logs/{SEGMENT}/stdouterr"
    assert plan.stdouterr_real == str(tmp_path / "storage" / "recipestore" / "logs" / SEGMENT / "stdouterr")
    assert plan.environment["AZ_BATCHAI_STDOUTERR_DIR"] == plan.stdouterr_dir
    assert any("containerSettings ignored" in warning for warning in plan.warnings)


def test_custom_toolkit_recipes_expand_the_services_variables(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "uuid"
    cluster_mounts = tmp_path / "mounts"
    plan = plan_of(tmp_path, "recipe-horovod-custom-toolkit.json")
    assert plan.toolkit == "custom"
    assert plan.command_line == (
        "mpirun -mca btl_tcp_if_exclude docker0,lo --allow-run-as-root "
        f"--hostfile {job}/hostfile python {cluster_mounts}/external/horovod_samples/tensorflow_mnist.py"
    )
    assert plan.output_dirs == {"MODEL": f"{cluster_mounts}/external/{SEGMENT}/outputs/Models"}
    assert plan.environment["AZ_BATCHAI_OUTPUT_MODEL"] == plan.output_dirs["MODEL"]
    assert plan.environment["AZ_BATCHAI_INPUT_SCRIPTS"] == f"{cluster_mounts}/external/horovod_samples"

    plan = plan_of(tmp_path, "recipe-horovod-infiniband-benchmark.json")
    assert f"cd {job}/temp/benchmarks/; mpirun -n 8" in plan.command_line
    # jobPreparation runs under bash with the variables in its environment, as on a node.
    assert plan.job_preparation == "bash $AZ_BATCHAI_INPUT_SCRIPTS/jobprep_benchmark.sh"

    plan = plan_of(tmp_path, "rest-api-putjob-example.json")
    outputs = f"{cluster_mounts}/azfiles/{SEGMENT}/outputs/files"
    assert plan.command_line == f"echo hi | tee {outputs}/hi.txt"
    assert plan.output_dirs == {"OUTPUTS": outputs}


def test_environment_values_and_the_interpreter_path_are_expanded_too(tmp_path: Path) -> None:
    """Batch AI's guide: its variables may be used in command lines, directories and user environment
    variables."""
    plan = plan_of(
        tmp_path,
        "recipe-horovod-tensorflow.json",
        environmentVariables=[
            {"name": "DATA_DIR", "value": "$AZ_BATCHAI_JOB_MOUNT_ROOT/scripts/data"},
            {"name": "LOGS", "value": "${AZ_BATCHAI_STDOUTERR_DIR}/extra"},
            {"name": "LITERAL", "value": "$HOME and $1"},
        ],
        horovodSettings={
            "pythonScriptFilePath": "$AZ_BATCHAI_JOB_MOUNT_ROOT/scripts/horovod/tensorflow_mnist.py",
            "pythonInterpreterPath": "$AZ_BATCHAI_JOB_MOUNT_ROOT/scripts/venv/bin/python",
            "commandLineArgs": "--data $AZ_BATCHAI_JOB_MOUNT_ROOT/scripts/data --seed $SEED",
        },
    )
    mounts = tmp_path / "jobs" / "uuid" / "mounts"
    assert plan.environment["DATA_DIR"] == f"{mounts}/scripts/data"
    assert plan.environment["LOGS"] == f"{plan.stdouterr_dir}/extra"
    assert plan.environment["LITERAL"] == "$HOME and $1"
    assert plan.python == f"{mounts}/scripts/venv/bin/python"
    assert plan.script_args == f"--data {mounts}/scripts/data --seed $SEED"


def test_an_unknown_service_variable_in_an_environment_value_names_its_field(tmp_path: Path) -> None:
    from tui.core.errors import JobSpecError

    with pytest.raises(JobSpecError) as caught:
        plan_of(
            tmp_path,
            "recipe-horovod-tensorflow.json",
            environmentVariables=[{"name": "X", "value": "$AZ_BATCHAI_NOPE/x"}],
        )
    [error] = caught.value.errors
    assert error.path == "properties.environmentVariables[0].value"
    assert "$AZ_BATCHAI_NOPE is not a variable the service defines" in error.message


# ----------------------------------------------------------------------------------- on a real backend


@pytest.fixture
async def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BAI_TERMINATE_GRACE_SECONDS", "2")
    backend = open_local_backend(tmp_path / "bai-home")
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    await backend.experiments.create(ExperimentRef(RG, WS, EXP))
    await backend.storage.create_account(RG, "recipestore", "eastus")
    for share in ("logs", "scripts"):
        await backend.storage.create_share("recipestore", share)
    await backend.clusters.create(ClusterRef(RG, WS, CLUSTER), "Standard_NC6", 2)
    yield backend
    await backend.groups.delete(RG)


UNSUPPORTED = {
    "recipe-tensorflow-distributed.json": "tensorFlowSettings: the tensorFlow toolkit",
    "recipe-pytorch-distributed-gloo.json": "pyTorchSettings: the pyTorch toolkit",
    "recipe-cntk-brainscript.json": "cntkSettings: the cntk toolkit",
    "docs-cli-cntk-reference.json": "cntkSettings: the cntk toolkit",
    "recipe-caffe2-distributed.json": "caffe2Settings: the caffe2 toolkit",
}


async def test_toolkits_this_machine_cannot_run_are_refused_with_nothing_created(
    backend, tmp_path: Path
) -> None:
    options = JobSubmitOptions(storage_account_name="recipestore")
    for index, (name, field) in enumerate(sorted(UNSUPPORTED.items())):
        spec = load_job_spec(JOBS / name)
        with pytest.raises(UnsupportedError) as caught:
            await backend.jobs.create(JobRef(RG, WS, EXP, f"job{index}"), CLUSTER, spec, options)
        message = str(caught.value)
        assert message.startswith(f"properties.{field} is not supported by the local backend"), message
        assert "horovodSettings, customMpiSettings or customToolkitSettings" in message
    assert await backend.jobs.list(RG, WS, EXP) == []
    assert list((tmp_path / "bai-home" / "jobs").iterdir()) == []


async def test_the_rest_api_example_runs_and_its_output_directory_lists(backend, tmp_path: Path) -> None:
    ref = JobRef(RG, WS, EXP, "demo_job")
    job = await backend.jobs.create(ref, CLUSTER, load_job_spec(JOBS / "rest-api-putjob-example.json"))
    job = await backend.jobs.wait(ref, 0.2, 60)
    assert job.execution_state == ExecutionState.SUCCEEDED, job.errors
    stdout = b"".join([chunk async for chunk in backend.jobs.stream_file(ref, "stdout.txt")])
    assert stdout == b"hi\n"
    [entry] = await backend.jobs.list_output_files(ref, "OUTPUTS")
    assert entry.name == "hi.txt" and entry.size == 3
    assert any("containerSettings ignored" in warning for warning in job.warnings)


async def test_the_mpi_host_file_lists_a_slot_per_node(backend, tmp_path: Path) -> None:
    """`mpirun --hostfile $AZ_BATCHAI_MPI_HOST_FILE` (the Horovod recipe) starts one process per node."""
    ref = JobRef(RG, WS, EXP, "hostfile")
    spec = parse_job_spec(
        {
            "properties": {
                "nodeCount": 2,
                "customToolkitSettings": {"commandLine": "cat $AZ_BATCHAI_MPI_HOST_FILE"},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_TEMP",
            }
        }
    )
    await backend.jobs.create(ref, CLUSTER, spec)
    job = await backend.jobs.wait(ref, 0.2, 60)
    assert job.execution_state == ExecutionState.SUCCEEDED, job.errors
    stdout = b"".join([chunk async for chunk in backend.jobs.stream_file(ref, "stdout.txt")])
    assert stdout == b"localhost slots=2\n"


def test_a_relative_output_path_prefix_is_refused_naming_its_field(tmp_path: Path) -> None:
    """The schema: "this is an absolute path to prefix"; a relative one lands wherever the job started."""
    from tui.core.errors import JobSpecError

    with pytest.raises(JobSpecError) as caught:
        plan_of(
            tmp_path,
            "recipe-horovod-pytorch.json",
            outputDirectories=[{"id": "MODEL", "pathPrefix": "external", "pathSuffix": "Models"}],
        )
    assert [str(error) for error in caught.value.errors] == [
        "properties.outputDirectories[0].pathPrefix: must be an absolute path (e.g. "
        "$AZ_BATCHAI_JOB_MOUNT_ROOT/<share>/outputs), got 'external'"
    ]


async def test_outputs_kept_on_the_nodes_temp_folder_go_with_the_job(backend, tmp_path: Path) -> None:
    """Batch AI's guide suggests stdOutErrPathPrefix=$AZ_BATCHAI_JOB_TEMP_DIR (the node's disk): those files
    live in $BAI_HOME here and must not outlive the job; outputs on shares do (as on the service)."""
    home = tmp_path / "bai-home"
    spec = parse_job_spec(
        {
            "properties": {
                "nodeCount": 1,
                "customToolkitSettings": {"commandLine": "echo out | tee $AZ_BATCHAI_OUTPUT_MODEL/m.txt"},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_TEMP_DIR",
                "outputDirectories": [{"id": "MODEL", "pathPrefix": "$AZ_BATCHAI_JOB_TEMP_DIR"}],
            }
        }
    )
    for name in ("first", "second"):
        await backend.jobs.create(JobRef(RG, WS, EXP, name), CLUSTER, spec)
        job = await backend.jobs.wait(JobRef(RG, WS, EXP, name), 0.2, 60)
        assert job.execution_state == ExecutionState.SUCCEEDED, job.errors
    [entry] = await backend.jobs.list_output_files(JobRef(RG, WS, EXP, "first"), "MODEL")
    assert entry.name == "m.txt"
    await backend.jobs.delete(JobRef(RG, WS, EXP, "first"))
    left = [str(path) for path in (home / "jobs").rglob("*")]
    assert not [path for path in left if "/jobs/first" in path], left
    assert any(path.endswith("/jobs/second") for path in left)
    await backend.groups.delete(RG)
    assert list((home / "jobs").iterdir()) == []
    await backend.groups.create(RG, "eastus")  # for the fixture's own clean-up


async def test_registry_passwords_and_storage_keys_in_the_file_never_reach_disk_or_output(
    backend, tmp_path: Path
) -> None:
    """The CLI guide's private-registry example carries a password; shares may carry their key."""
    password, key = "demoPassword-7f3a", "c2VjcmV0LXN0b3JhZ2Uta2V5LTQ5MjE="
    data = json.loads((JOBS / "rest-api-putjob-example.json").read_text())
    data["properties"]["containerSettings"]["imageSourceRegistry"] = {
        "serverUrl": "demo.azurecr.io",
        "image": "demo.azurecr.io/myimage",
        "credentials": {"username": "demo", "password": password},
    }
    data["properties"]["mountVolumes"] = {
        "azureFileShares": [
            {
                "azureFileUrl": "https://recipestore.file.core.windows.net/logs",
                "relativeMountPath": "logs",
                "credentials": {"accountKey": key},
            }
        ]
    }
    ref = JobRef(RG, WS, EXP, "private")
    job = await backend.jobs.create(ref, CLUSTER, parse_job_spec(data))
    job = await backend.jobs.wait(ref, 0.2, 60)
    assert job.execution_state == ExecutionState.SUCCEEDED, job.errors
    shown = json.dumps([job.warnings, [str(error) for error in job.errors]])
    assert password not in shown and key not in shown
    for path in (tmp_path / "bai-home").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert password.encode() not in content and key.encode() not in content, path
