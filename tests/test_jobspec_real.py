"""Real Batch AI job files (tests/data/jobs, sources in its README) read as the service and `az` read them.

Every file the service accepted passes `bai job validate`; each broken one gives one message naming its field.
Alternative shapes the 2018-05-01 schema allows (defaults written out, Key Vault references, registry
credentials, fields of earlier API versions that the service ignored) are accepted too.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tui.cli.main import main
from tui.core.errors import JobSpecError
from tui.core.jobspec import (
    apply_storage_account,
    load_job_spec,
    parse_job_spec,
    toolkit_of,
    validate_job_spec,
)

JOBS = Path(__file__).parent / "data" / "jobs"
VALID = sorted(JOBS.glob("*.json"))
TOOLKITS = {
    "recipe-horovod-tensorflow.json": "horovod",
    "recipe-horovod-pytorch.json": "horovod",
    "recipe-horovod-custom-toolkit.json": "customToolkit",
    "recipe-horovod-infiniband-benchmark.json": "customToolkit",
    "recipe-keras-dsvm-custom-toolkit.json": "customToolkit",
    "recipe-tensorflow-distributed.json": "tensorFlow",
    "recipe-pytorch-distributed-gloo.json": "pyTorch",
    "recipe-cntk-python-distributed-ib.json": "cntk",
    "recipe-cntk-brainscript.json": "cntk",
    "docs-cli-cntk-reference.json": "cntk",
    "recipe-caffe2-distributed.json": "caffe2",
    "rest-api-putjob-example.json": "customToolkit",
    "rest-api-2018-03-01-putjob-example.json": "customToolkit",
    "retinanet-horovod-coco-custom-toolkit.json": "customToolkit",
    "neusomatic-pytorch-blob-placeholders.json": "pyTorch",
    "mnist-tensorflow-experiment-name.json": "tensorFlow",
    "horovod-benchmark-printenv.json": "customToolkit",
    "tutorial-job.json": "horovod",
}


def validate(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["job", "validate", "-f", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_data_folder_holds_what_its_readme_lists() -> None:
    readme = (JOBS / "README.md").read_text()
    assert {path.name for path in VALID} == set(TOOLKITS)
    for path in [*VALID, *(JOBS / "invalid").glob("*.json")]:
        assert path.relative_to(JOBS).as_posix() in readme, path


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.name)
def test_every_real_file_the_service_accepted_validates(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = validate(path, capsys)
    assert (code, out) == (0, "OK\n"), err
    assert "error" not in err
    spec = load_job_spec(path)
    assert toolkit_of(spec) == TOOLKITS[path.name]
    assert validate_job_spec(spec) == []


def test_cntk_brainscript_without_language_type_is_brainscript() -> None:
    """BrainScript recipes give configFilePath and no languageType: the service ran them as BrainScript."""
    spec = load_job_spec(JOBS / "recipe-cntk-brainscript.json")
    assert spec.cntk_settings.config_file_path == "$AZ_BATCHAI_INPUT_CONFIG/ConvNet_MNIST.cntk"
    bare = {"properties": {"nodeCount": 1, "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_TEMP"}}
    neither = copy.deepcopy(bare)
    neither["properties"]["cntkSettings"] = {"commandLineArgs": "x"}
    with pytest.raises(JobSpecError) as caught:
        parse_job_spec(neither)
    assert [str(error) for error in caught.value.errors] == [
        "properties.cntkSettings: give pythonScriptFilePath (Python) or configFilePath (BrainScript)"
    ]
    python_with_config = copy.deepcopy(bare)
    python_with_config["properties"]["cntkSettings"] = {"languageType": "Python", "configFilePath": "c.cntk"}
    with pytest.raises(JobSpecError, match=r"cntkSettings\.pythonScriptFilePath: required when languageType"):
        parse_job_spec(python_with_config)


def test_fields_of_earlier_api_versions_are_ignored_with_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The REST API's own PutJob example sends `priority` (2018-03-01); 2018-05-01 ignored it."""
    path = JOBS / "rest-api-putjob-example.json"
    notes: list[str] = []
    spec = load_job_spec(path, notes=notes)
    assert spec.scheduling_priority is None
    assert notes == [
        "properties.priority: ignored: Batch AI 2018-05-01 has no 'priority' "
        "(use schedulingPriority: low, normal or high)"
    ]
    code, out, err = validate(path, capsys)
    assert (code, out) == (0, "OK\n")
    assert err == f"bai: warning: rest-api-putjob-example.json: {notes[0]}\n"
    data = json.loads(path.read_text())
    data["properties"].update(experimentName="cifar", location="eastus")
    notes = []
    parse_job_spec(data, notes=notes)
    assert [note.split(":")[0] for note in notes] == [
        "properties.priority",
        "properties.experimentName",
        "properties.location",
    ]
    assert "the one the job is submitted to" in notes[1] and "workspace" in notes[2]


def test_the_previous_api_versions_example_reads_with_a_note_per_dropped_field() -> None:
    notes: list[str] = []
    spec = load_job_spec(JOBS / "rest-api-2018-03-01-putjob-example.json", notes=notes)
    assert [note.split(": ignored: ")[0] for note in notes] == [
        "location",
        "properties.priority",
        "properties.outputDirectories[0].type",
        "properties.outputDirectories[0].createNew",
    ]
    [output] = spec.output_directories
    assert (output.id, output.path_prefix, output.path_suffix) == (
        "OUTPUTS",
        "$AZ_BATCHAI_MOUNT_ROOT/azfiles/",
        "files",
    )


def test_a_process_count_on_a_custom_toolkit_is_ignored_with_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Azure's RetinaNet sample sets customToolkitSettings.processCount, a field that never existed there."""
    path = JOBS / "retinanet-horovod-coco-custom-toolkit.json"
    code, out, err = validate(path, capsys)
    assert (code, out) == (0, "OK\n")
    assert err == (
        f"bai: warning: {path.name}: properties.customToolkitSettings.processCount: ignored: a custom "
        "toolkit runs its commandLine once; start the processes in it "
        "(e.g. mpirun --hostfile $AZ_BATCHAI_MPI_HOST_FILE)\n"
    )
    assert load_job_spec(path).custom_toolkit_settings.command_line.startswith("mpirun -mca")
    data = json.loads(path.read_text())
    data["properties"]["horovodSettings"] = {"pythonScriptFilePath": "x.py", "processCount": "eight"}
    del data["properties"]["customToolkitSettings"]
    with pytest.raises(JobSpecError, match=r"horovodSettings\.processCount: must be a whole number"):
        parse_job_spec(data)  # where processCount exists it is checked as ever


INVALID = {
    "recipe-tensorflow-gpu-trailing-comma.json": [
        "recipe-tensorflow-gpu-trailing-comma.json:7:9: invalid JSON: Expecting property name enclosed in "
        "double quotes"
    ],
    "recipe-chainer-distributed.json": [
        "properties.chainerSettings.masterCommandLineArgs: unknown field (did you mean 'commandLineArgs'?)"
    ],
    "recipe-cntk-python-distributed-process_count.json": [
        "properties.cntkSettings.process_count: unknown field (did you mean 'processCount'?)"
    ],
    "quickstart-cntk-your-storage-account.json": [
        f"properties.mountVolumes.{field}: '<YOUR_STORAGE_ACCOUNT>' is a placeholder: write your storage "
        "account's name in its place, or write <AZURE_BATCHAI_STORAGE_ACCOUNT> and give "
        "--storage-account-name"
        for field in (
            "azureFileShares[0].azureFileUrl",
            "azureFileShares[1].azureFileUrl",
            "azureBlobFileSystems[0].accountName",
        )
    ],
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_each_broken_real_file_gets_one_message_per_bad_field(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = validate(JOBS / "invalid" / name, capsys)
    assert (code, out) == (1, "")
    prefix = "" if INVALID[name][0].startswith(name) else f"{name}: "
    assert err.splitlines() == [f"bai: error: {prefix}{message}" for message in INVALID[name]]


# ------------------------------------------------------------------------------------------ placeholders


def test_placeholders_validate_and_are_filled_as_az_did(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_BATCHAI_STORAGE_ACCOUNT", raising=False)
    spec = load_job_spec(JOBS / "recipe-caffe2-distributed.json")
    with pytest.raises(JobSpecError) as caught:
        apply_storage_account(spec, None)
    assert [error.path for error in caught.value.errors] == [
        "properties.mountVolumes.azureFileShares[0].azureFileUrl",
        "properties.mountVolumes.azureFileShares[1].azureFileUrl",
        "properties.mountVolumes.azureBlobFileSystems[0].accountName",
    ]
    assert all(error.hint and error.hint.subject == "storage_account_name" for error in caught.value.errors)
    apply_storage_account(spec, "recipestore")
    shares = spec.mount_volumes.azure_file_shares
    assert [share.azure_file_url for share in shares] == [
        "https://recipestore.file.core.windows.net/logs",
        "https://recipestore.file.core.windows.net/scripts",
    ]
    assert [share.account_name for share in shares] == ["recipestore", "recipestore"]
    assert spec.mount_volumes.azure_blob_file_systems[0].account_name == "recipestore"


def test_validate_with_the_account_checks_the_placeholder_can_be_filled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = JOBS / "recipe-horovod-tensorflow.json"
    assert validate(path, capsys, "--storage-account-name", "recipestore")[:2] == (0, "OK\n")
    code, out, err = validate(path, capsys, "--storage-account-name", "Not-An-Account")
    assert (code, out) == (1, "")
    assert "--storage-account-name 'Not-An-Account' is not a storage account name" in err


# ---------------------------------------------------------------------------- the schema's other shapes


def _tutorial() -> dict[str, Any]:
    return json.loads((JOBS / "recipe-horovod-tensorflow.json").read_text())


KEY_VAULT = {
    "sourceVault": {
        "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demoGroup/providers/"
        "Microsoft.KeyVault/vaults/demokeyvault"
    },
    "secretUrl": "https://demokeyvault.vault.azure.net/secrets/nameofsecter",
}


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("schema defaults written out", {"constraints": {"maxWallClockTime": "7.00:00:00"}}),
        ("ISO 8601 wall clock, as the service echoed it", {"constraints": {"maxWallClockTime": "P7D"}}),
        ("priority in capitals", {"schedulingPriority": "High"}),
        ("an empty environment variable", {"environmentVariables": [{"name": "EMPTY", "value": ""}]}),
        ("a count written as a string", {"nodeCount": "2"}),
        ("cluster in the file", {"cluster": {"id": "/subscriptions/0/resourceGroups/g/providers/x/c"}}),
        ("secret from Key Vault", {"secrets": [{"name": "TOKEN", "valueSecretReference": KEY_VAULT}]}),
        (
            "private registry",
            {
                "containerSettings": {
                    "shmSize": "16gb",
                    "imageSourceRegistry": {
                        "serverUrl": "demo.azurecr.io",
                        "image": "demo.azurecr.io/myimage",
                        "credentials": {"username": "demo", "passwordSecretReference": KEY_VAULT},
                    },
                }
            },
        ),
    ],
)
def test_alternative_shapes_the_schema_allows(label: str, change: dict[str, Any]) -> None:
    data = _tutorial()
    data["properties"].update(change)
    share = data["properties"]["mountVolumes"]["azureFileShares"][0]
    share.update(fileMode="0777", directoryMode="0777", credentials={"accountKeySecretReference": KEY_VAULT})
    spec = parse_job_spec(data)
    assert validate_job_spec(spec) == [], label
    if "schedulingPriority" in change:
        assert spec.scheduling_priority == "high"
    if "nodeCount" in change:
        assert spec.node_count == 2


def test_a_count_that_is_no_number_is_still_refused() -> None:
    data = _tutorial()
    data["properties"]["nodeCount"] = "two"
    with pytest.raises(JobSpecError, match=r"properties\.nodeCount: must be a whole number, got a string"):
        parse_job_spec(data)


def test_every_placeholder_left_in_a_mount_names_what_to_write_there() -> None:
    """The Batch AI docs' mountVolumes template: <STORAGE_ACCOUNT_NAME>, <FILE_SHARE_NAME>, ..."""
    data = {
        "properties": {
            "nodeCount": 1,
            "customToolkitSettings": {"commandLine": "true"},
            "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_TEMP",
            "mountVolumes": {
                "azureFileShares": [
                    {
                        "azureFileUrl": "https://acct.file.core.windows.net/<FILE_SHARE_NAME>",
                        "relativeMountPath": "<RELATIVE_MOUNT_PATH>",
                    }
                ],
                "azureBlobFileSystems": [
                    {
                        "accountName": "<STORAGE_ACCOUNT_NAME>",
                        "containerName": "<CONTAINER>",
                        "relativeMountPath": "b",
                    }
                ],
            },
        }
    }
    with pytest.raises(JobSpecError) as caught:
        parse_job_spec(data)
    assert [str(error) for error in caught.value.errors] == [
        "properties.mountVolumes.azureFileShares[0].azureFileUrl: '<FILE_SHARE_NAME>' is a placeholder: "
        "write the share's name in its place",
        "properties.mountVolumes.azureFileShares[0].relativeMountPath: '<RELATIVE_MOUNT_PATH>' is a "
        "placeholder: write a folder name (e.g. the share's name) in its place",
        "properties.mountVolumes.azureBlobFileSystems[0].accountName: '<STORAGE_ACCOUNT_NAME>' is a "
        "placeholder: write your storage account's name in its place, or write "
        "<AZURE_BATCHAI_STORAGE_ACCOUNT> and give the storage account name",
        "properties.mountVolumes.azureBlobFileSystems[0].containerName: '<CONTAINER>' is a placeholder: "
        "write the blob container's name in its place",
    ]
