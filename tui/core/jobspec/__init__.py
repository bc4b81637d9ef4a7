"""job.json <-> the SDK's own `JobCreateParameters`, plus the checks the SDK does not make.

Batch AI's job schema (2018-05-01) *is* `azure.mgmt.batchai.models.JobCreateParameters`, so both backends take
that very object. msrest's deserializer, however, silently drops unknown keys (a `nodecount` typo would just
vanish), stops at the first bad value, and only takes ISO 8601 durations while the schema documents
`7.00:00:00`. So a job.json is read in three passes, and every problem of every pass is reported at once, each
naming its JSON path (`properties.horovodSettings.pythonScriptFilePath: required`):

1. structure: walk the raw JSON along the SDK models' attribute maps: unknown keys (with a "did you mean"),
   wrong JSON types, unparseable durations; bad values are dropped from the copy handed to msrest. Fields that
   published job files carry and the 2018-05-01 service ignored (`IGNORED_FIELDS`: those of earlier API
   versions, ...) are dropped too, each with a note the caller shows as a warning;
2. the SDK's own deserializer builds the model;
3. semantics: required fields (from the models' `_validation`), exactly one toolkit, counts >= 1, mount paths,
   the storage URL, names and ids.

The SDK is imported lazily: it costs ~0.3 s and only `job create` / `job validate` need it.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.core.errors import BaiError, FieldError, Hint, JobSpecError

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters

SCHEMA_URL = "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-05-01/job.json"
STORAGE_ACCOUNT_PLACEHOLDER = "<AZURE_BATCHAI_STORAGE_ACCOUNT>"
STORAGE_KEY_PLACEHOLDER = "<AZURE_BATCHAI_STORAGE_KEY>"

# Toolkit name (what `toolkit_of` returns; job.json's key without "Settings") -> model attribute.
TOOLKITS: dict[str, str] = {
    "horovod": "horovod_settings",
    "customMpi": "custom_mpi_settings",
    "customToolkit": "custom_toolkit_settings",
    "tensorFlow": "tensor_flow_settings",
    "pyTorch": "py_torch_settings",
    "cntk": "cntk_settings",
    "caffe": "caffe_settings",
    "caffe2": "caffe2_settings",
    "chainer": "chainer_settings",
}

SCHEDULING_PRIORITIES = ("low", "normal", "high")
_TOP_LEVEL_EXTRA_KEYS = ("$schema",)
# Fields that published job files carry and the 2018-05-01 service ignored: job properties of earlier API
# versions (2017-09-01-preview, 2018-03-01; the REST API's own PutJob example still sends `priority`), and
# a processCount on customToolkitSettings (Azure/batchai_retinanet_horovod_coco), which never had one. Such
# files were accepted; here too, each dropped field named in a note saying what to use instead.
IGNORED_FIELDS: dict[str, str] = {
    "properties.priority": "Batch AI 2018-05-01 has no 'priority' "
    "(use schedulingPriority: low, normal or high)",
    "properties.experimentName": "the experiment is the one given to bai job create -e/--experiment",
    "properties.location": "the job runs where its workspace is",
    "location": "the job runs where its workspace is",
    "properties.outputDirectories[].type": "2018-05-01 output directories have no type",
    "properties.outputDirectories[].createNew": "2018-05-01 always creates output directories",
    "properties.customToolkitSettings.processCount": "a custom toolkit runs its commandLine once; start "
    "the processes in it (e.g. mpirun --hostfile $AZ_BATCHAI_MPI_HOST_FILE)",
}
# Integers in the REST API are int32; deeper JSON than this is no job.json (and would exhaust the parser's
# recursion); durations beyond this many days cannot be added to a date (datetime's limit is year 9999).
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_JSON_DEPTH = 64
MAX_DURATION_DAYS = 36500
_PLACEHOLDER = re.compile(r"<[^<>/]+>")
_WHOLE_NUMBER = re.compile(r"^\s*[+-]?\d+\s*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIRECTORY_ID = re.compile(r"^[A-Za-z0-9_]+$")
_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_SHARE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_ACCOUNT_IN_URL = rf"(?:[a-z0-9]{{3,24}}|{re.escape(STORAGE_ACCOUNT_PLACEHOLDER)})"
# https://ACCOUNT.file.core.windows.net/SHARE (any cloud's suffix), or path-style on loopback for emulators.
_AZURE_FILE_URL = re.compile(
    rf"^https://(?P<account>{_ACCOUNT_IN_URL})\.file\.core\.[a-z0-9.-]+/(?P<share>[^/?#]+)/?$"
)
_LOOPBACK_FILE_URL = re.compile(
    rf"^https?://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?/(?P<account>{_ACCOUNT_IN_URL})/(?P<share>[^/?#]+)/?$"
)
_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
# .NET TimeSpan as the schema documents it: [d.]hh:mm[:ss[.fffffff]]
_TIMESPAN = re.compile(
    r"^(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{1,2})(?::(?P<seconds>\d{1,2}(?:\.\d{1,7})?))?$"
)


# ----------------------------------------------------------------------------------------------- durations


def parse_max_wall_clock_time(text: str) -> timedelta:
    """A duration from ISO 8601 (`P1D`, `PT2H30M`) or the schema's `[d.]hh:mm[:ss]` (`7.00:00:00`).

    Raises ValueError with a message that shows both accepted forms.
    """
    value = text.strip() if isinstance(text, str) else text
    if not isinstance(value, str) or not value:
        raise ValueError("must be a duration such as 'P1D', 'PT2H' or '7.00:00:00'")
    too_long = f"{value!r} is longer than the longest duration bai can keep ({MAX_DURATION_DAYS} days)"
    match = _ISO_DURATION.fullmatch(value.upper())
    if match:
        parts = {key: float(number) for key, number in match.groupdict().items() if number is not None}
        try:
            duration = timedelta(
                weeks=parts.get("weeks", 0),
                days=parts.get("days", 0),
                hours=parts.get("hours", 0),
                minutes=parts.get("minutes", 0),
                seconds=parts.get("seconds", 0),
            )
        except OverflowError:
            raise ValueError(too_long) from None
        if duration.days > MAX_DURATION_DAYS:
            raise ValueError(too_long)
        return duration
    match = _TIMESPAN.fullmatch(value)
    if match:
        hours, minutes = int(match["hours"]), int(match["minutes"])
        seconds = float(match["seconds"] or 0)
        if hours > 23 or minutes > 59 or seconds >= 60:
            raise ValueError(
                f"{value!r} is out of range: hours 0-23, minutes and seconds 0-59 (put whole days before the "
                "dot, as in '2.12:00:00')"
            )
        days = int(match["days"] or 0) if len(match["days"] or "") <= 12 else MAX_DURATION_DAYS + 1
        if days > MAX_DURATION_DAYS:
            raise ValueError(too_long)
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value.upper().startswith("P") and re.search(r"\d+(?:\.\d+)?Y|P[^T]*\d+(?:\.\d+)?M", value.upper()):
        raise ValueError(f"{value!r}: years and months have no fixed length; give days instead (e.g. 'P30D')")
    raise ValueError(
        f"{value!r} is not a duration: use ISO 8601 ('P1D', 'PT2H30M') or 'd.hh:mm:ss' ('7.00:00:00')"
    )


def format_duration(value: timedelta) -> str:
    """The schema's `d.hh:mm:ss` form (what az showed for maxWallClockTime)."""
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{days}.{hours:02d}:{minutes:02d}:{seconds:02d}"


# ----------------------------------------------------------------------------------------------- reading


def load_job_spec(
    path: Path, *, validate: bool = True, notes: list[str] | None = None
) -> JobCreateParameters:
    """Read a job.json file; every problem (bad JSON with its line and column, or each bad field) is raised
    together as one JobSpecError. `notes` (if given) receives the fields that were ignored, as warnings."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BaiError("does not exist: check the path", argument="config_file", value=str(path)) from None
    except IsADirectoryError:
        raise BaiError(f"job spec {str(path)!r} is a folder: give the job.json file itself") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaiError(
            f"cannot read job spec {str(path)!r} ({error}): give a readable UTF-8 JSON file"
        ) from None
    data = _load_json(text, path.name)
    return parse_job_spec(data, validate=validate, notes=notes)


def _load_json(text: str, name: str) -> Any:
    """The file's JSON, or one FieldError naming the file and the limit it broke (syntax, depth, number)."""
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise JobSpecError(
            [FieldError(name, f"JSON nested deeper than {MAX_JSON_DEPTH} levels; a job.json needs far fewer")]
        )
    try:
        return json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as error:
        raise JobSpecError(
            [FieldError(f"{name}:{error.lineno}:{error.colno}", f"invalid JSON: {error.msg}")]
        ) from None
    except (ValueError, RecursionError) as error:  # a number too long to read, a structure too deep
        raise JobSpecError([FieldError(name, f"cannot read the JSON: {_first_line(error)}")]) from None


def _json_int(text: str) -> int | float:
    """JSON integers; one longer than any field allows reads as infinity (refused by the field's check)
    instead of meeting Python's 4300-digit conversion limit."""
    if len(text.lstrip("-")) > 40:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


def _json_depth(text: str) -> int:
    """How deeply the JSON text nests arrays and objects (brackets outside strings), without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_job_spec(
    data: dict[str, Any], *, validate: bool = True, notes: list[str] | None = None
) -> JobCreateParameters:
    """Build the SDK's JobCreateParameters from job.json's content.

    Takes the REST shape `{"$schema": ..., "properties": {...}}` (what the tutorial's job.json is) or the bare
    properties object. With `validate`, the semantic checks of `validate_job_spec` run too; all errors are
    raised together. Fields of earlier API versions are dropped, each with a line appended to `notes`.
    """
    from azure.mgmt.batchai import models

    if not isinstance(data, dict):
        raise JobSpecError([FieldError("(root)", f"must be a JSON object, got {_json_type(data)}")])
    if "properties" in data or not data:
        root = data
    elif _looks_like_properties(data):
        root = {"properties": data}
    else:
        root = data

    errors: list[FieldError] = []
    durations: dict[str, timedelta] = {}
    cleaned = _check_job_root(root, errors, durations, notes if notes is not None else [])
    if errors and "properties" not in cleaned:
        raise JobSpecError(errors)
    try:
        spec = models.JobCreateParameters.deserialize(cleaned)
    except Exception as error:  # the walk above should leave nothing msrest rejects; never show a traceback
        errors.append(FieldError("properties", f"the SDK could not read it: {_first_line(error)}"))
        raise JobSpecError(errors) from None
    if "properties.constraints.maxWallClockTime" in durations:
        if spec.constraints is None:
            spec.constraints = models.JobBasePropertiesConstraints()
        spec.constraints.max_wall_clock_time = durations["properties.constraints.maxWallClockTime"]
    priority = spec.scheduling_priority
    if isinstance(priority, str) and priority.lower() in SCHEDULING_PRIORITIES:
        spec.scheduling_priority = priority.lower()  # the service read enums case-blind, as msrest does
    if validate:
        errors.extend(_not_under(validate_job_spec(spec), [error.path for error in errors]))
    if errors:
        raise JobSpecError(errors)
    return spec


def _looks_like_properties(data: dict[str, Any]) -> bool:
    from azure.mgmt.batchai import models

    keys = {spec["key"].split(".", 1)[1] for spec in models.JobCreateParameters._attribute_map.values()}
    return any(key in keys for key in data)


def _check_job_root(
    root: dict[str, Any], errors: list[FieldError], durations: dict[str, timedelta], notes: list[str]
) -> dict:
    """Check the top level (`$schema`, `properties`) and walk `properties` along JobCreateParameters."""
    from azure.mgmt.batchai import models

    # JobCreateParameters' keys are flattened: 'properties.nodeCount' -> a nested 'properties' object.
    property_map = {
        spec["key"].split(".", 1)[1]: spec["type"]
        for spec in models.JobCreateParameters._attribute_map.values()
    }
    cleaned: dict[str, Any] = {}
    for key, value in root.items():
        if key == "properties":
            if not isinstance(value, dict):
                errors.append(FieldError("properties", f"must be a JSON object, got {_json_type(value)}"))
                continue
            current = _drop_ignored(value, "properties", notes)
            cleaned["properties"] = _check_object(current, property_map, "properties", errors, durations)
        elif key in _TOP_LEVEL_EXTRA_KEYS:
            continue
        elif key in IGNORED_FIELDS:
            notes.append(f"{key}: ignored: {IGNORED_FIELDS[key]}")
        else:
            close = _closest(key, ["properties", *_TOP_LEVEL_EXTRA_KEYS])
            inner = None if close else _closest(key, list(property_map))
            hint = (
                f"'{close}'"
                if close
                else f"'properties.{inner}' (put it inside \"properties\")"
                if inner
                else ""
            )
            errors.append(
                FieldError(key, f"unknown field (did you mean {hint}?)" if hint else "unknown field")
            )
    if "properties" not in root:
        errors.append(FieldError("properties", 'required: job.json needs a "properties" object'))
    return cleaned


def _drop_ignored(data: dict[str, Any], path: str, notes: list[str], pattern: str = "") -> dict[str, Any]:
    """A copy of `data` without the IGNORED_FIELDS under `path`, each one dropped noted. `pattern` is `path`
    with array indices written `[]`, as IGNORED_FIELDS names them."""
    pattern = pattern or path
    kept: dict[str, Any] = {}
    for key, value in data.items():
        field_path, field_pattern = f"{path}.{key}".lstrip("."), f"{pattern}.{key}".lstrip(".")
        if field_pattern in IGNORED_FIELDS:
            notes.append(f"{field_path}: ignored: {IGNORED_FIELDS[field_pattern]}")
            continue
        if isinstance(value, dict) and _ignored_below(field_pattern):
            value = _drop_ignored(value, field_path, notes, field_pattern)
        elif isinstance(value, list) and _ignored_below(f"{field_pattern}[]"):
            value = [
                _drop_ignored(item, f"{field_path}[{index}]", notes, f"{field_pattern}[]")
                if isinstance(item, dict)
                else item
                for index, item in enumerate(value)
            ]
        kept[key] = value
    return kept


def _ignored_below(pattern: str) -> bool:
    return any(known.startswith(f"{pattern}.") for known in IGNORED_FIELDS)


def _check_object(
    data: dict[str, Any],
    type_map: dict[str, str],
    path: str,
    errors: list[FieldError],
    durations: dict[str, timedelta],
) -> dict[str, Any]:
    """Check one JSON object against a model's keys -> types; return a copy without the bad parts."""
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        field_path = f"{path}.{key}"
        if key not in type_map:
            errors.append(FieldError(field_path, f"unknown field{_suggest(key, list(type_map))}"))
            continue
        if value is None:
            continue
        checked = _check_value(value, type_map[key], field_path, errors, durations)
        if checked is not _BAD:
            cleaned[key] = checked
    return cleaned


_BAD = object()


def _check_value(
    value: Any, type_name: str, path: str, errors: list[FieldError], durations: dict[str, timedelta]
) -> Any:
    from azure.mgmt.batchai import models

    if type_name.startswith("[") and type_name.endswith("]"):
        if not isinstance(value, list):
            errors.append(FieldError(path, f"must be a JSON array, got {_json_type(value)}"))
            return _BAD
        items = []
        for index, item in enumerate(value):
            checked = _check_value(item, type_name[1:-1], f"{path}[{index}]", errors, durations)
            if checked is not _BAD:
                items.append(checked)
        return items
    if type_name == "str":
        if not isinstance(value, str):
            errors.append(FieldError(path, f"must be a string, got {_json_type(value)}"))
            return _BAD
        return value
    if type_name == "int":
        number: int | None = None
        if isinstance(value, str) and len(value) <= 40 and _WHOLE_NUMBER.fullmatch(value):
            number = int(value)  # msrest (az) read "2" as 2, and the service got 2
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and math.isfinite(value) and value == int(value):
            number = int(value)
        if number is None:
            errors.append(
                FieldError(path, f"must be a whole number, got {_json_type(value)} {_short(value)}")
            )
            return _BAD
        if not INT32_MIN <= number <= INT32_MAX:
            # The REST API's integers are int32: the service refused larger ones; SQLite cannot store them.
            limits = f"from {INT32_MIN} to {INT32_MAX}"
            errors.append(FieldError(path, f"must be a whole number {limits}, got {_short(number)}"))
            return _BAD
        return number
    if type_name == "duration":
        try:
            durations[path] = parse_max_wall_clock_time(value)
        except ValueError as error:
            errors.append(FieldError(path, str(error)))
        return _BAD  # set on the model after deserialization: msrest reads ISO 8601 only
    model = getattr(models, type_name, None)
    if model is None or not hasattr(model, "_attribute_map"):
        return value
    if not isinstance(value, dict):
        errors.append(FieldError(path, f"must be a JSON object, got {_json_type(value)}"))
        return _BAD
    type_map = {spec["key"]: spec["type"] for spec in model._attribute_map.values()}
    return _check_object(value, type_map, path, errors, durations)


def _closest(key: str, candidates: list[str]) -> str | None:
    """The known key a misspelt one most likely meant (case first, then spelling), or None."""
    lowered = {candidate.lower(): candidate for candidate in candidates}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.7)
    return lowered[close[0]] if close else None


def _suggest(key: str, candidates: list[str]) -> str:
    """' (did you mean 'nodeCount'?)' for a misspelt key, or ''."""
    close = _closest(key, candidates)
    return f" (did you mean '{close}'?)" if close else ""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _not_under(errors: Iterable[FieldError], reported: list[str]) -> list[FieldError]:
    """Drop errors about a path already reported (a mistyped field is not also 'required')."""
    return [
        error
        for error in errors
        if not any(
            error.path == done or error.path.startswith(done + ".") or error.path.startswith(done + "[")
            for done in reported
        )
    ]


# ----------------------------------------------------------------------------------------------- checks


# Required by the SDK's models but filled in at submission: the account name comes from the share's URL and
# the key from the storage account (az did the same).
_FILLED_AT_SUBMISSION = {
    ("AzureFileShareReference", "account_name"),
    ("AzureFileShareReference", "credentials"),
    ("AzureBlobFileSystemReference", "credentials"),
}


# An environment variable may be set to the empty string (the service passed it on as such); paths and command
# lines may not.
_MAY_BE_EMPTY = {("EnvironmentVariable", "value"), ("EnvironmentVariableWithSecretValue", "value")}


def validate_job_spec(spec: JobCreateParameters) -> list[FieldError]:
    """Every check the SDK does not make, each naming the field's JSON path. Empty list: the spec is fine."""
    errors: list[FieldError] = []
    _check_required(spec, "properties", errors, top=True)

    present = [name for name, attribute in TOOLKITS.items() if getattr(spec, attribute) is not None]
    if not present:
        errors.append(
            FieldError(
                "properties",
                "no toolkit: give exactly one of "
                + ", ".join(f"{name}Settings" for name in TOOLKITS)
                + " (the tutorial uses horovodSettings)",
            )
        )
    elif len(present) > 1:
        errors.append(
            FieldError(
                "properties",
                "more than one toolkit ("
                + ", ".join(f"{name}Settings" for name in present)
                + "): keep exactly one",
            )
        )

    if spec.node_count is None:
        errors.append(FieldError("properties.nodeCount", "required: the number of nodes to run the job on"))
    elif spec.node_count < 1:
        errors.append(FieldError("properties.nodeCount", f"must be 1 or more, got {spec.node_count}"))
    if not (spec.std_out_err_path_prefix or "").strip():
        errors.append(
            FieldError(
                "properties.stdOutErrPathPrefix",
                "required: where stdout.txt and stderr.txt go, e.g. $AZ_BATCHAI_JOB_MOUNT_ROOT/<share>/logs",
            )
        )
    if (
        spec.scheduling_priority is not None
        and str(spec.scheduling_priority).lower() not in SCHEDULING_PRIORITIES
    ):
        errors.append(
            FieldError(
                "properties.schedulingPriority",
                f"must be one of {', '.join(SCHEDULING_PRIORITIES)}, got {spec.scheduling_priority!r}",
            )
        )

    _check_toolkits(spec, errors)
    _check_mount_volumes(spec, errors)
    _check_names(spec, errors)
    _check_constraints(spec, errors)
    return _dedupe(errors)


def _check_required(model: Any, path: str, errors: list[FieldError], top: bool = False) -> None:
    """The `required` rules of the SDK models' `_validation`, recursively (empty strings count as missing)."""
    for attribute, spec in type(model)._attribute_map.items():
        key = spec["key"].split(".", 1)[1] if top else spec["key"]
        value = getattr(model, attribute, None)
        field_path = f"{path}.{key}"
        rules = getattr(type(model), "_validation", {}).get(attribute, {})
        blank = isinstance(value, str) and not value.strip()
        missing = value is None or (blank and (type(model).__name__, attribute) not in _MAY_BE_EMPTY)
        if missing:
            if rules.get("required") and (type(model).__name__, attribute) not in _FILLED_AT_SUBMISSION:
                errors.append(FieldError(field_path, "required"))
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                if hasattr(type(item), "_attribute_map"):
                    _check_required(item, f"{field_path}[{index}]", errors)
        elif hasattr(type(value), "_attribute_map"):
            _check_required(value, field_path, errors)


def _check_count(value: int | None, path: str, errors: list[FieldError], minimum: int = 1) -> None:
    if value is not None and value < minimum:
        errors.append(FieldError(path, f"must be {minimum} or more, got {value}"))


def _check_toolkits(spec: JobCreateParameters, errors: list[FieldError]) -> None:
    base = "properties"
    for name, attribute in TOOLKITS.items():
        settings = getattr(spec, attribute)
        if settings is None:
            continue
        path = f"{base}.{name}Settings"
        _check_count(getattr(settings, "process_count", None), f"{path}.processCount", errors)
        if name == "tensorFlow":
            _check_count(settings.worker_count, f"{path}.workerCount", errors)
            _check_count(settings.parameter_server_count, f"{path}.parameterServerCount", errors, minimum=0)
        if name == "customToolkit" and not (settings.command_line or "").strip():
            errors.append(
                FieldError(
                    f"{path}.commandLine", "required: the command line the job runs (on its first node)"
                )
            )
        if name == "cntk":
            language = settings.language_type or _cntk_language(settings)
            if language is None:
                errors.append(
                    FieldError(path, "give pythonScriptFilePath (Python) or configFilePath (BrainScript)")
                )
            elif str(language).lower() not in ("python", "brainscript"):
                errors.append(
                    FieldError(f"{path}.languageType", f"must be Python or BrainScript, got {language!r}")
                )
            elif str(language).lower() == "python" and not settings.python_script_file_path:
                errors.append(
                    FieldError(f"{path}.pythonScriptFilePath", "required when languageType is Python")
                )
            elif str(language).lower() == "brainscript" and not settings.config_file_path:
                errors.append(
                    FieldError(f"{path}.configFilePath", "required when languageType is BrainScript")
                )
        if name == "caffe" and bool(settings.config_file_path) == bool(settings.python_script_file_path):
            errors.append(FieldError(path, "give exactly one of configFilePath and pythonScriptFilePath"))


def _cntk_language(settings: Any) -> str | None:
    """languageType when the file leaves it out: the BrainScript recipes give only configFilePath, and the
    service ran them as BrainScript; a Python script means Python."""
    if settings.python_script_file_path:
        return "Python"
    if settings.config_file_path:
        return "BrainScript"
    return None


def _mount_entries(spec: JobCreateParameters) -> list[tuple[str, Any]]:
    volumes = spec.mount_volumes
    if volumes is None:
        return []
    entries = []
    for key, attribute in (
        ("azureFileShares", "azure_file_shares"),
        ("azureBlobFileSystems", "azure_blob_file_systems"),
        ("fileServers", "file_servers"),
        ("unmanagedFileSystems", "unmanaged_file_systems"),
    ):
        for index, entry in enumerate(getattr(volumes, attribute) or []):
            entries.append((f"properties.mountVolumes.{key}[{index}]", entry))
    return entries


def _placeholder(text: str | None) -> str | None:
    """A `<...>` placeholder other than the ones `az` (and bai) fill in, e.g. the quickstart's
    `<YOUR_STORAGE_ACCOUNT>`, which its readers had to replace by hand."""
    for found in _PLACEHOLDER.findall(text or ""):
        if found not in (STORAGE_ACCOUNT_PLACEHOLDER, STORAGE_KEY_PLACEHOLDER):
            return found
    return None


def _placeholder_errors(path: str, entry: Any) -> list[FieldError]:
    """One error per field of a mount that still holds a placeholder to be replaced by hand."""
    account = (
        f"is a placeholder: write your storage account's name in its place, or write "
        f"{STORAGE_ACCOUNT_PLACEHOLDER}"
    )
    give = Hint("give", "storage_account_name", {"inline": "yes"})  # "... and give --storage-account-name"
    errors = []
    url = getattr(entry, "azure_file_url", None) or ""
    found = _placeholder(url)
    if found:
        host = url.split("://", 1)[-1].split("/", 1)[0]
        where = account if found in host else "is a placeholder: write the share's name in its place"
        hint = give if found in host else None
        errors.append(FieldError(f"{path}.azureFileUrl", f"{found!r} {where}", hint))
    for key, attribute, what in (
        ("accountName", "account_name", None),
        ("containerName", "container_name", "the blob container's name"),
        ("relativeMountPath", "relative_mount_path", "a folder name (e.g. the share's name)"),
    ):
        found = _placeholder(getattr(entry, attribute, None))
        if found:
            message = account if what is None else f"is a placeholder: write {what} in its place"
            errors.append(FieldError(f"{path}.{key}", f"{found!r} {message}", give if what is None else None))
    return errors


def _check_mount_volumes(spec: JobCreateParameters, errors: list[FieldError]) -> None:
    seen: dict[str, str] = {}
    for path, entry in _mount_entries(spec):
        placeholders = _placeholder_errors(path, entry)
        errors.extend(placeholders)
        held = {error.path.rsplit(".", 1)[1] for error in placeholders}  # checked no further
        mount = None if "relativeMountPath" in held else entry.relative_mount_path
        if mount is not None and mount.strip():
            problem = _relative_mount_problem(mount)
            if problem:
                errors.append(FieldError(f"{path}.relativeMountPath", problem))
            elif mount in seen:
                errors.append(
                    FieldError(
                        f"{path}.relativeMountPath",
                        f"{mount!r} is already used by {seen[mount]}: use another",
                    )
                )
            else:
                seen[mount] = path
        url = None if "azureFileUrl" in held else getattr(entry, "azure_file_url", None)
        if (
            url is not None
            and url.strip()
            and not (_AZURE_FILE_URL.fullmatch(url) or _LOOPBACK_FILE_URL.fullmatch(url))
        ):
            errors.append(
                FieldError(
                    f"{path}.azureFileUrl",
                    f"{url!r} is not an Azure Files share URL: use "
                    "https://ACCOUNT.file.core.windows.net/SHARE "
                    f"(ACCOUNT may be {STORAGE_ACCOUNT_PLACEHOLDER})",
                )
            )
        elif url:
            share = _share_of_url(url)
            if share and not _SHARE_NAME.fullmatch(share):
                errors.append(
                    FieldError(
                        f"{path}.azureFileUrl",
                        f"share name {share!r} is not valid: 3-63 lowercase letters, digits and "
                        "single hyphens",
                    )
                )
        account = None if "accountName" in held else getattr(entry, "account_name", None)
        if account and account != STORAGE_ACCOUNT_PLACEHOLDER and not _ACCOUNT_NAME.fullmatch(account):
            errors.append(
                FieldError(
                    f"{path}.accountName",
                    f"{account!r} is not a storage account name: 3-24 lowercase letters and digits",
                )
            )


def _relative_mount_problem(mount: str) -> str | None:
    if "/" in mount or "\\" in mount:
        return f"{mount!r} must be a single folder name, without slashes"
    if mount in (".", ".."):
        return f"{mount!r} is not allowed: give a folder name such as the share's name"
    if mount.strip() != mount:
        return f"{mount!r} has leading or trailing spaces"
    return None


def _share_of_url(url: str) -> str | None:
    match = _AZURE_FILE_URL.fullmatch(url) or _LOOPBACK_FILE_URL.fullmatch(url)
    return match["share"] if match else None


def _check_names(spec: JobCreateParameters, errors: list[FieldError]) -> None:
    seen: dict[str, str] = {}
    for key, items in (("environmentVariables", spec.environment_variables), ("secrets", spec.secrets)):
        for index, item in enumerate(items or []):
            path = f"properties.{key}[{index}]"
            if item.name is not None and item.name.strip():
                if not _ENV_NAME.fullmatch(item.name):
                    errors.append(
                        FieldError(
                            f"{path}.name",
                            f"{item.name!r} is not a valid variable name: letters, digits "
                            "and _, not starting with a digit",
                        )
                    )
                elif item.name in seen:
                    errors.append(
                        FieldError(f"{path}.name", f"{item.name!r} is already set by {seen[item.name]}")
                    )
                else:
                    seen[item.name] = path
            if key == "secrets" and item.value is None and item.value_secret_reference is None:
                errors.append(FieldError(path, "give value or valueSecretReference"))
    for key, items in (
        ("inputDirectories", spec.input_directories),
        ("outputDirectories", spec.output_directories),
    ):
        ids: dict[str, str] = {}
        for index, item in enumerate(items or []):
            path = f"properties.{key}[{index}].id"
            if item.id is None or not item.id.strip():
                continue
            if not _DIRECTORY_ID.fullmatch(item.id):
                errors.append(
                    FieldError(
                        path,
                        f"{item.id!r}: use letters, digits and _ only (it becomes "
                        f"$AZ_BATCHAI_{'INPUT' if key.startswith('input') else 'OUTPUT'}_<id>)",
                    )
                )
            elif item.id.upper() in ids:
                errors.append(FieldError(path, f"{item.id!r} is already used by {ids[item.id.upper()]}"))
            else:
                ids[item.id.upper()] = path


def _check_constraints(spec: JobCreateParameters, errors: list[FieldError]) -> None:
    if spec.constraints is None:
        return
    value = spec.constraints.max_wall_clock_time
    path = "properties.constraints.maxWallClockTime"
    if isinstance(value, str):  # the SDK's own default is the string "7.00:00:00"
        try:
            value = parse_max_wall_clock_time(value)
        except ValueError as error:
            errors.append(FieldError(path, str(error)))
            return
        spec.constraints.max_wall_clock_time = value
    if isinstance(value, timedelta) and value <= timedelta(0):
        errors.append(FieldError(path, "must be longer than zero"))


def _dedupe(errors: list[FieldError]) -> list[FieldError]:
    seen: set[tuple[str, str]] = set()
    out = []
    for error in errors:
        if (error.path, error.message) not in seen:
            seen.add((error.path, error.message))
            out.append(error)
    # a path that is 'required' and also has a specific message: keep the specific one
    specific = {error.path for error in out if error.message != "required"}
    return [error for error in out if not (error.message == "required" and error.path in specific)]


# ----------------------------------------------------------------------------------------------- submission


def apply_storage_account(spec: JobCreateParameters, account_name: str | None) -> None:
    """Fill `<AZURE_BATCHAI_STORAGE_ACCOUNT>` in the shares' URLs and account names, as `az` did.

    Also sets each Azure Files share's accountName from its URL when missing, and drops a
    `<AZURE_BATCHAI_STORAGE_KEY>` placeholder so the backend looks the key up itself. Raises JobSpecError
    whose fields hint at giving the storage account when a placeholder is left and no name was given.
    """
    if account_name is not None:
        account_name = account_name.strip()
        if not _ACCOUNT_NAME.fullmatch(account_name):
            raise BaiError(
                "is not a storage account name: 3-24 lowercase letters and digits",
                argument="storage_account_name",
                value=account_name,
            )
    errors: list[FieldError] = []
    volumes = spec.mount_volumes
    if volumes is None:
        return
    need = f"contains {STORAGE_ACCOUNT_PLACEHOLDER}"
    give = Hint("give", "storage_account_name")
    for index, share in enumerate(volumes.azure_file_shares or []):
        path = f"properties.mountVolumes.azureFileShares[{index}]"
        if share.azure_file_url and STORAGE_ACCOUNT_PLACEHOLDER in share.azure_file_url:
            if account_name:
                share.azure_file_url = share.azure_file_url.replace(STORAGE_ACCOUNT_PLACEHOLDER, account_name)
            else:
                errors.append(FieldError(f"{path}.azureFileUrl", need, give))
        if share.account_name == STORAGE_ACCOUNT_PLACEHOLDER:
            if account_name:
                share.account_name = account_name
            else:
                errors.append(FieldError(f"{path}.accountName", need, give))
        if not share.account_name and share.azure_file_url:
            match = _AZURE_FILE_URL.fullmatch(share.azure_file_url) or _LOOPBACK_FILE_URL.fullmatch(
                share.azure_file_url
            )
            if match and match["account"] != STORAGE_ACCOUNT_PLACEHOLDER:
                share.account_name = match["account"]
        _drop_key_placeholder(share)
    for index, blob in enumerate(volumes.azure_blob_file_systems or []):
        if blob.account_name == STORAGE_ACCOUNT_PLACEHOLDER:
            if account_name:
                blob.account_name = account_name
            else:
                errors.append(
                    FieldError(
                        f"properties.mountVolumes.azureBlobFileSystems[{index}].accountName", need, give
                    )
                )
        _drop_key_placeholder(blob)
    if errors:
        raise JobSpecError(errors)


def _drop_key_placeholder(reference: Any) -> None:
    credentials = getattr(reference, "credentials", None)
    if credentials is not None and credentials.account_key == STORAGE_KEY_PLACEHOLDER:
        reference.credentials = None


def share_of(azure_file_url: str) -> tuple[str | None, str | None]:
    """(account, share) named by an Azure Files URL (either accepted form); (None, None) if it is neither."""
    match = _AZURE_FILE_URL.fullmatch(azure_file_url) or _LOOPBACK_FILE_URL.fullmatch(azure_file_url)
    if not match:
        return None, None
    return match["account"], match["share"]


def toolkit_of(spec: JobCreateParameters) -> str:
    """The job's toolkit ("horovod", "customMpi", ...); "" if none. Raises JobSpecError for several."""
    present = [name for name, attribute in TOOLKITS.items() if getattr(spec, attribute, None) is not None]
    if len(present) > 1:
        raise JobSpecError(
            [
                FieldError(
                    "properties",
                    "more than one toolkit ("
                    + ", ".join(f"{n}Settings" for n in present)
                    + "): keep exactly one",
                )
            ]
        )
    return present[0] if present else ""


def job_spec_to_dict(spec: JobCreateParameters) -> dict[str, Any]:
    """Back to job.json's shape (`$schema` + `properties`), durations written as `d.hh:mm:ss` like the schema.

    Secrets' values stay in the dict (it is the user's own file); never print it.
    """
    spec = copy.deepcopy(spec)
    wall_clock: timedelta | None = None
    if spec.constraints is not None:
        value = spec.constraints.max_wall_clock_time
        if isinstance(value, str):
            value = parse_max_wall_clock_time(value)
        wall_clock = value
        spec.constraints.max_wall_clock_time = None
    body = spec.serialize(keep_readonly=True)
    properties = body.get("properties", {})
    if wall_clock is not None:
        properties.setdefault("constraints", {})["maxWallClockTime"] = format_duration(wall_clock)
    return {"$schema": SCHEMA_URL, "properties": properties}
