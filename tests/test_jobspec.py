"""job.json -> JobCreateParameters: the tutorial's file reads; each wrong field gives its own message."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.errors import BaiError, JobSpecError
from tui.core.jobspec import (
    apply_storage_account,
    format_duration,
    job_spec_to_dict,
    load_job_spec,
    parse_job_spec,
    parse_max_wall_clock_time,
    share_of,
    toolkit_of,
    validate_job_spec,
)

# The tutorial's job.json, word for word.
TUTORIAL_JOB: dict[str, Any] = json.loads((Path(__file__).parent / "data/jobs/tutorial-job.json").read_text())


def tutorial() -> dict[str, Any]:
    return copy.deepcopy(TUTORIAL_JOB)


def errors_of(data: Any) -> list[str]:
    with pytest.raises(JobSpecError) as caught:
        parse_job_spec(data)
    return [str(error) for error in caught.value.errors]


def test_the_tutorials_job_json_reads_into_the_sdk_model(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(TUTORIAL_JOB, indent=4))
    spec = load_job_spec(path)
    assert type(spec).__name__ == "JobCreateParameters"
    assert spec.node_count == 4
    assert toolkit_of(spec) == "horovod"
    assert spec.horovod_settings.python_script_file_path.endswith("/myshare/cifar/cifar_cnn_distributed.py")
    assert spec.horovod_settings.command_line_args == "--dir=$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar"
    assert spec.mount_volumes.azure_file_shares[0].relative_mount_path == "myshare"
    assert spec.job_preparation.command_line.startswith("apt update")
    assert spec.container_settings.image_source_registry.image == "tensorflow/tensorflow:1.8.0-gpu"
    assert validate_job_spec(spec) == []


def test_the_bare_properties_object_is_accepted_too() -> None:
    spec = parse_job_spec(tutorial()["properties"])
    assert spec.node_count == 4 and toolkit_of(spec) == "horovod"


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(TUTORIAL_JOB), encoding="utf-8-sig")
    assert load_job_spec(path).node_count == 4


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text('{\n  "properties": {\n    "nodeCount": 2\n    "horovodSettings": {}\n  }\n}\n')
    with pytest.raises(JobSpecError) as caught:
        load_job_spec(path)
    [error] = caught.value.errors
    assert str(error).startswith("job.json:4:5: invalid JSON: Expecting ',' delimiter")


def test_a_missing_file_says_which_argument_to_fix(tmp_path: Path) -> None:
    from tui.cli.wording import error_text

    with pytest.raises(BaiError) as caught:
        load_job_spec(tmp_path / "nope.json")
    assert caught.value.argument == "config_file"
    assert error_text(caught.value).startswith("--config-file/-f '")
    assert error_text(caught.value).endswith("nope.json' does not exist: check the path")


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    node: Any = data
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value


_DELETE = object()
SHARE0 = "properties.mountVolumes.azureFileShares[0]"


@pytest.mark.parametrize(
    ("dotted", "value", "expected"),
    [
        ("properties.nodeCount", 0, "properties.nodeCount: must be 1 or more, got 0"),
        ("properties.nodeCount", "four", "properties.nodeCount: must be a whole number, got a string"),
        ("properties.nodeCount", 2.5, "properties.nodeCount: must be a whole number, got a number 2.5"),
        ("properties.nodeCount", True, "properties.nodeCount: must be a whole number, got a boolean"),
        ("properties.nodeCount", _DELETE, "properties.nodeCount: required"),
        (
            "properties.horovodSettings.pythonScriptFilePath",
            _DELETE,
            "properties.horovodSettings.pythonScriptFilePath: required",
        ),
        (
            "properties.horovodSettings.pythonScriptFilePath",
            "  ",
            "properties.horovodSettings.pythonScriptFilePath: required",
        ),
        (
            "properties.horovodSettings.processCount",
            0,
            "properties.horovodSettings.processCount: must be 1 or more",
        ),
        ("properties.horovodSettings.commandLineArgs", 5, "commandLineArgs: must be a string, got a number"),
        (
            "properties.horovodSettings.scriptPath",
            "x",
            "properties.horovodSettings.scriptPath: unknown field",
        ),
        ("properties.nodecount", 2, "properties.nodecount: unknown field (did you mean 'nodeCount'?)"),
        (
            "properties.horovodSetings",
            {},
            "properties.horovodSetings: unknown field (did you mean 'horovodSettings'?)",
        ),
        ("properties.stdOutErrPathPrefix", _DELETE, "properties.stdOutErrPathPrefix: required"),
        (
            "properties.mountVolumes.azureFileShares",
            {},
            "azureFileShares: must be a JSON array, got an object",
        ),
        (
            "properties.mountVolumes.azureFileShares.0.relativeMountPath",
            _DELETE,
            f"{SHARE0}.relativeMountPath: required",
        ),
        (
            "properties.mountVolumes.azureFileShares.0.relativeMountPath",
            "my/share",
            f"{SHARE0}.relativeMountPath: 'my/share' must be a single folder name, without slashes",
        ),
        (
            "properties.mountVolumes.azureFileShares.0.relativeMountPath",
            "..",
            f"{SHARE0}.relativeMountPath: '..' is not allowed",
        ),
        (
            "properties.mountVolumes.azureFileShares.0.azureFileUrl",
            "https://example.com/myshare",
            f"{SHARE0}.azureFileUrl: 'https://example.com/myshare' is not an Azure Files share URL",
        ),
        (
            "properties.mountVolumes.azureFileShares.0.azureFileUrl",
            "https://acct.file.core.windows.net/My_Share",
            f"{SHARE0}.azureFileUrl: share name 'My_Share' is not valid",
        ),
        (
            "properties.mountVolumes.azureFileShares.0.accountName",
            "Bad-Name",
            f"{SHARE0}.accountName: 'Bad-Name' is not a storage account name",
        ),
        ("properties.jobPreparation.commandLine", _DELETE, "properties.jobPreparation.commandLine: required"),
        (
            "properties.containerSettings.imageSourceRegistry.image",
            _DELETE,
            "properties.containerSettings.imageSourceRegistry.image: required",
        ),
        (
            "properties.schedulingPriority",
            "urgent",
            "properties.schedulingPriority: must be one of low, normal, high, got 'urgent'",
        ),
        (
            "properties.constraints",
            {"maxWallClockTime": "forever"},
            "properties.constraints.maxWallClockTime: 'forever' is not a duration",
        ),
        (
            "properties.constraints",
            {"maxWallClockTime": "PT0S"},
            "properties.constraints.maxWallClockTime: must be longer than zero",
        ),
        (
            "properties.environmentVariables",
            [{"name": "1BAD", "value": "x"}],
            "properties.environmentVariables[0].name: '1BAD' is not a valid variable name",
        ),
        (
            "properties.environmentVariables",
            [{"name": "A", "value": "x"}, {"name": "A", "value": "y"}],
            "properties.environmentVariables[1].name: 'A' is already set by "
            "properties.environmentVariables[0]",
        ),
        (
            "properties.environmentVariables",
            [{"name": "A"}],
            "properties.environmentVariables[0].value: required",
        ),
        (
            "properties.secrets",
            [{"name": "TOKEN"}],
            "properties.secrets[0]: give value or valueSecretReference",
        ),
        (
            "properties.outputDirectories",
            [
                {"id": "MODEL", "pathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/x"},
                {"id": "model", "pathPrefix": "y"},
            ],
            "properties.outputDirectories[1].id: 'model' is already used by "
            "properties.outputDirectories[0].id",
        ),
        ("properties.inputDirectories", [{"id": "my-data"}], "properties.inputDirectories[0].path: required"),
        ("properties", [], "properties: must be a JSON object, got an array"),
        ("nodeCount", 2, "nodeCount: unknown field (did you mean 'properties.nodeCount'"),
    ],
)
def test_each_wrong_field_gives_its_own_message(dotted: str, value: Any, expected: str) -> None:
    data = tutorial()
    _set(data, dotted.replace("[", ".").replace("]", ""), value)
    messages = errors_of(data)
    assert any(message.startswith(expected) or expected in message for message in messages), messages


def test_toolkits_exactly_one() -> None:
    data = tutorial()
    del data["properties"]["horovodSettings"]
    assert any("no toolkit: give exactly one of horovodSettings" in message for message in errors_of(data))
    data = tutorial()
    data["properties"]["customToolkitSettings"] = {"commandLine": "true"}
    assert (
        "properties: more than one toolkit (horovodSettings, customToolkitSettings): keep exactly one"
        in errors_of(data)
    )


def test_every_error_is_reported_not_only_the_first() -> None:
    data = tutorial()
    data["properties"]["nodecount"] = data["properties"].pop("nodeCount")
    data["properties"]["horovodSettings"] = {"processCount": 0}
    data["properties"]["mountVolumes"]["azureFileShares"][0]["relativeMountPath"] = "a/b"
    messages = errors_of(data)
    assert messages == [
        "properties.nodecount: unknown field (did you mean 'nodeCount'?)",
        "properties.horovodSettings.pythonScriptFilePath: required",
        "properties.nodeCount: required: the number of nodes to run the job on",
        "properties.horovodSettings.processCount: must be 1 or more, got 0",
        f"{SHARE0}.relativeMountPath: 'a/b' must be a single folder name, without slashes",
    ]


def test_a_mistyped_field_is_not_also_reported_as_missing() -> None:
    data = tutorial()
    data["properties"]["horovodSettings"]["pythonScriptFilePath"] = 42
    assert errors_of(data) == [
        "properties.horovodSettings.pythonScriptFilePath: must be a string, got a number"
    ]


def test_duplicate_mount_paths() -> None:
    data = tutorial()
    shares = data["properties"]["mountVolumes"]["azureFileShares"]
    shares.append(
        {"azureFileUrl": "https://other.file.core.windows.net/data", "relativeMountPath": "myshare"}
    )
    assert (
        "properties.mountVolumes.azureFileShares[1].relativeMountPath: "
        f"'myshare' is already used by {SHARE0}: use another" in errors_of(data)
    )


def test_custom_toolkit_and_mpi_need_a_command_line() -> None:
    data = tutorial()
    del data["properties"]["horovodSettings"]
    data["properties"]["customToolkitSettings"] = {}
    assert any(
        m.startswith("properties.customToolkitSettings.commandLine: required") for m in errors_of(data)
    )
    data["properties"].pop("customToolkitSettings")
    data["properties"]["customMpiSettings"] = {"processCount": 2}
    assert "properties.customMpiSettings.commandLine: required" in errors_of(data)


def test_the_emulators_loopback_share_url_is_accepted() -> None:
    data = tutorial()
    data["properties"]["mountVolumes"]["azureFileShares"][0]["azureFileUrl"] = (
        "http://127.0.0.1:10004/acct/myshare"
    )
    spec = parse_job_spec(data)
    apply_storage_account(spec, None)
    assert spec.mount_volumes.azure_file_shares[0].account_name == "acct"
    assert share_of("http://127.0.0.1:10004/acct/myshare") == ("acct", "myshare")


# ------------------------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P1D", timedelta(days=1)),
        ("PT2H", timedelta(hours=2)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P2W", timedelta(weeks=2)),
        ("PT0.5S", timedelta(seconds=0.5)),
        ("pt45m", timedelta(minutes=45)),
        ("7.00:00:00", timedelta(days=7)),
        ("01:30:00", timedelta(hours=1, minutes=30)),
        ("1.02:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("00:10", timedelta(minutes=10)),
        ("00:00:01.5", timedelta(seconds=1.5)),
    ],
)
def test_both_wall_clock_formats(text: str, expected: timedelta) -> None:
    assert parse_max_wall_clock_time(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("P1M", "years and months have no fixed length"),
        ("P1Y", "years and months have no fixed length"),
        ("P", "is not a duration"),
        ("PT", "is not a duration"),
        ("1 day", "is not a duration"),
        ("25:00:00", "out of range"),
        ("", "must be a duration"),
    ],
)
def test_bad_durations_say_which_forms_work(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_max_wall_clock_time(text)


@pytest.mark.parametrize("text", ["7.00:00:00", "P7D"])
def test_wall_clock_in_job_json_either_form(text: str) -> None:
    data = tutorial()
    data["properties"]["constraints"] = {"maxWallClockTime": text}
    assert parse_job_spec(data).constraints.max_wall_clock_time == timedelta(days=7)


@settings(deadline=None)  # a loaded CI machine must not make it flaky
@given(st.integers(min_value=1, max_value=10_000_000))
def test_duration_format_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_max_wall_clock_time(format_duration(value)) == value


def test_the_sdks_own_string_default_is_understood() -> None:
    from azure.mgmt.batchai import models

    spec = parse_job_spec(tutorial())
    spec.constraints = (
        models.JobBasePropertiesConstraints()
    )  # the SDK defaults it to the *string* "7.00:00:00"
    assert validate_job_spec(spec) == []
    assert spec.constraints.max_wall_clock_time == timedelta(days=7)


# ------------------------------------------------------------------------------------ storage placeholder


def test_placeholder_is_filled_as_az_did() -> None:
    spec = parse_job_spec(tutorial())
    apply_storage_account(spec, "mystorage")
    share = spec.mount_volumes.azure_file_shares[0]
    assert share.azure_file_url == "https://mystorage.file.core.windows.net/myshare"
    assert share.account_name == "mystorage"


def test_a_left_placeholder_names_the_argument() -> None:
    spec = parse_job_spec(tutorial())
    with pytest.raises(JobSpecError) as caught:
        apply_storage_account(spec, None)
    from tui.cli.wording import field_error_text

    assert field_error_text(caught.value.errors[0]) == (
        f"{SHARE0}.azureFileUrl: contains <AZURE_BATCHAI_STORAGE_ACCOUNT>: give the account with "
        "--storage-account-name (or set AZURE_BATCHAI_STORAGE_ACCOUNT)"
    )


def test_a_bad_account_name_is_refused() -> None:
    spec = parse_job_spec(tutorial())
    from tui.cli.wording import error_text

    with pytest.raises(BaiError) as caught:
        apply_storage_account(spec, "My_Storage")
    assert error_text(caught.value) == (
        "--storage-account-name 'My_Storage' is not a storage account name: 3-24 lowercase letters and digits"
    )


def test_blob_placeholder_and_key_placeholder() -> None:
    data = tutorial()
    data["properties"]["mountVolumes"]["azureFileShares"][0]["credentials"] = {
        "accountKey": "<AZURE_BATCHAI_STORAGE_KEY>"
    }
    data["properties"]["mountVolumes"]["azureBlobFileSystems"] = [
        {
            "accountName": "<AZURE_BATCHAI_STORAGE_ACCOUNT>",
            "containerName": "data",
            "relativeMountPath": "data",
        }
    ]
    spec = parse_job_spec(data)
    apply_storage_account(spec, "mystorage")
    assert spec.mount_volumes.azure_blob_file_systems[0].account_name == "mystorage"
    assert spec.mount_volumes.azure_file_shares[0].credentials is None  # the backend looks the key up


def test_an_account_named_in_the_url_needs_no_argument() -> None:
    data = tutorial()
    data["properties"]["mountVolumes"]["azureFileShares"][0]["azureFileUrl"] = (
        "https://named.file.core.windows.net/myshare"
    )
    spec = parse_job_spec(data)
    apply_storage_account(spec, None)
    assert spec.mount_volumes.azure_file_shares[0].account_name == "named"


# ------------------------------------------------------------------------------------------- round trip


def test_round_trip_back_to_job_json_shape() -> None:
    data = tutorial()
    data["properties"]["constraints"] = {"maxWallClockTime": "PT90M"}
    data["properties"]["environmentVariables"] = [{"name": "EPOCHS", "value": "1"}]
    spec = parse_job_spec(data)
    back = job_spec_to_dict(spec)
    assert back["$schema"] == TUTORIAL_JOB["$schema"]
    assert back["properties"]["constraints"] == {"maxWallClockTime": "0.01:30:00"}
    expected = copy.deepcopy(data["properties"])
    expected["constraints"] = {"maxWallClockTime": "0.01:30:00"}
    assert back["properties"] == expected
    again = parse_job_spec(json.loads(json.dumps(back)))
    assert again.serialize() == spec.serialize()


def test_toolkit_of_each_settings_key() -> None:
    from tui.core.jobspec import TOOLKITS

    for name in TOOLKITS:
        data = tutorial()
        del data["properties"]["horovodSettings"]
        data["properties"][f"{name}Settings"] = {}
        spec = parse_job_spec(data, validate=False)
        assert toolkit_of(spec) == name


# ------------------------------------------------------------------------------------------- robustness

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELD_PATHS = [
    "properties",
    "properties.nodeCount",
    "properties.horovodSettings",
    "properties.horovodSettings.pythonScriptFilePath",
    "properties.horovodSettings.processCount",
    "properties.mountVolumes",
    "properties.mountVolumes.azureFileShares",
    "properties.mountVolumes.azureFileShares.0",
    "properties.mountVolumes.azureFileShares.0.relativeMountPath",
    "properties.constraints",
    "properties.constraints.maxWallClockTime",
    "properties.environmentVariables",
    "properties.secrets",
    "properties.containerSettings.imageSourceRegistry",
    "properties.jobPreparation",
]


@settings(deadline=None)  # the first example imports the SDK
@given(st.lists(st.tuples(st.sampled_from(FIELD_PATHS), JSON_VALUES), min_size=1, max_size=4))
def test_any_json_in_any_field_gives_field_errors_never_a_crash(changes: list[tuple[str, Any]]) -> None:
    data = tutorial()
    for dotted, value in changes:
        try:
            _set(data, dotted, value)
        except (TypeError, KeyError, IndexError, ValueError, AttributeError):
            continue  # an earlier change made the parent a non-object: that is fine, keep going
    try:
        spec = parse_job_spec(data)
    except JobSpecError as error:
        assert error.errors and all(str(item).strip() for item in error.errors)
        return
    job_spec_to_dict(spec)  # whatever parsed also writes back
