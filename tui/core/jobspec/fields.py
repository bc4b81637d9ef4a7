"""The job form's field model: its fields <-> job.json, as pure functions (no Textual) so they can be tested
exactly and any front end can offer the same form.

job.json's `properties` is split into the fields the form shows (what the tutorial uses) and "the rest",
which the form keeps as editable JSON behind its "advanced" fold; joining them gives back the same file.
Extra keys of a mounted share (accountName, credentials, modes) are kept by relativeMountPath.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from tui.core.errors import FieldError
from tui.core.jobspec.schema import SCHEMA_URL

# toolkit -> (script key, arguments key, process count key); None where the toolkit has no such setting.
TOOLKIT_FIELDS: dict[str, tuple[str, str | None, str | None]] = {
    "horovod": ("pythonScriptFilePath", "commandLineArgs", "processCount"),
    "customMpi": ("commandLine", None, "processCount"),
    "customToolkit": ("commandLine", None, None),
    "tensorFlow": ("pythonScriptFilePath", "masterCommandLineArgs", None),
    "pyTorch": ("pythonScriptFilePath", "commandLineArgs", "processCount"),
    "cntk": ("pythonScriptFilePath", "commandLineArgs", "processCount"),
    "caffe": ("pythonScriptFilePath", "commandLineArgs", "processCount"),
    "caffe2": ("pythonScriptFilePath", "commandLineArgs", None),
    "chainer": ("pythonScriptFilePath", "commandLineArgs", "processCount"),
}


@dataclass
class JobFields:
    """What the form shows, as text (what the user typed), plus the rest of the properties."""

    node_count: str = "1"
    toolkit: str = "horovod"
    script: str = ""
    arguments: str = ""
    process_count: str = ""
    std_out_err_path_prefix: str = ""
    shares: str = ""  # one "relativeMountPath = azureFileUrl" a line
    job_preparation: str = ""
    image: str = ""
    environment: str = ""  # one "NAME=value" a line
    scheduling_priority: str = ""
    max_wall_clock_time: str = ""
    advanced: str = "{}"  # JSON object: every other property
    share_extras: dict[str, dict[str, Any]] = field(default_factory=dict)


def _pop_path(data: dict[str, Any], *keys: str) -> Any:
    """Remove and return data[k1][k2]..., dropping dicts left empty; None when absent."""
    node = data
    parents = []
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            return None
        parents.append((node, key))
        node = child
    value = node.pop(keys[-1], None)
    for parent, key in reversed(parents):
        if parent[key] == {}:
            del parent[key]
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def split_job(document: dict[str, Any]) -> JobFields:
    """job.json (REST shape or bare properties) -> the form's fields and the rest."""
    properties = document.get("properties", document) if isinstance(document, dict) else {}
    rest = copy.deepcopy(properties) if isinstance(properties, dict) else {}
    fields = JobFields()
    fields.node_count = _text(_pop_path(rest, "nodeCount"))
    toolkit = next(
        (name for name in TOOLKIT_FIELDS if isinstance(rest.get(f"{name}Settings"), dict)), "horovod"
    )
    fields.toolkit = toolkit
    script_key, args_key, count_key = TOOLKIT_FIELDS[toolkit]
    settings = f"{toolkit}Settings"
    fields.script = _text(_pop_path(rest, settings, script_key))
    if args_key:
        fields.arguments = _text(_pop_path(rest, settings, args_key))
    if count_key:
        fields.process_count = _text(_pop_path(rest, settings, count_key))
    if isinstance(rest.get(settings), dict) and not rest[settings]:
        del rest[settings]
    fields.std_out_err_path_prefix = _text(_pop_path(rest, "stdOutErrPathPrefix"))
    shares = _pop_path(rest, "mountVolumes", "azureFileShares") or []
    lines = []
    for share in shares if isinstance(shares, list) else []:
        if not isinstance(share, dict):
            continue
        mount = _text(share.get("relativeMountPath"))
        lines.append(f"{mount} = {_text(share.get('azureFileUrl'))}")
        extras = {k: v for k, v in share.items() if k not in ("relativeMountPath", "azureFileUrl")}
        if extras:
            fields.share_extras[mount] = extras
    fields.shares = "\n".join(lines)
    fields.job_preparation = _text(_pop_path(rest, "jobPreparation", "commandLine"))
    fields.image = _text(_pop_path(rest, "containerSettings", "imageSourceRegistry", "image"))
    variables = _pop_path(rest, "environmentVariables") or []
    fields.environment = "\n".join(
        f"{_text(v.get('name'))}={_text(v.get('value'))}" for v in variables if isinstance(v, dict)
    )
    fields.scheduling_priority = _text(_pop_path(rest, "schedulingPriority"))
    fields.max_wall_clock_time = _text(_pop_path(rest, "constraints", "maxWallClockTime"))
    fields.advanced = json.dumps(rest, indent=2) if rest else "{}"
    return fields


def _merge(into: dict[str, Any], key: str, value: dict[str, Any]) -> None:
    existing = into.get(key)
    if isinstance(existing, dict):
        for inner_key, inner_value in value.items():
            if isinstance(inner_value, dict):
                _merge(existing, inner_key, inner_value)
            else:
                existing[inner_key] = inner_value
    else:
        into[key] = value


def join_job(fields: JobFields) -> tuple[dict[str, Any], list[FieldError]]:
    """The form's fields -> a job.json document, with the errors found in the typed text itself."""
    errors: list[FieldError] = []
    try:
        rest = json.loads(fields.advanced or "{}")
    except json.JSONDecodeError as error:
        errors.append(
            FieldError("advanced", f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}")
        )
        rest = {}
    if not isinstance(rest, dict):
        errors.append(FieldError("advanced", "must be a JSON object ({...}) of job properties"))
        rest = {}
    properties: dict[str, Any] = rest

    def number(text: str, path: str, required: bool) -> int | None:
        text = text.strip()
        if not text:
            if required:
                errors.append(FieldError(path, "required: a whole number"))
            return None
        try:
            return int(text)
        except ValueError:
            errors.append(FieldError(path, f"must be a whole number, got {text!r}"))
            return None

    node_count = number(fields.node_count, "properties.nodeCount", required=True)
    if node_count is not None:
        properties["nodeCount"] = node_count
    toolkit = fields.toolkit if fields.toolkit in TOOLKIT_FIELDS else "horovod"
    script_key, args_key, count_key = TOOLKIT_FIELDS[toolkit]
    settings_path = f"properties.{toolkit}Settings"
    settings: dict[str, Any] = {}
    if fields.script.strip():
        settings[script_key] = fields.script.strip()
    if args_key and fields.arguments.strip():
        settings[args_key] = fields.arguments.strip()
    if count_key:
        count = number(fields.process_count, f"{settings_path}.{count_key}", required=False)
        if count is not None:
            settings[count_key] = count
    _merge(properties, f"{toolkit}Settings", settings)
    if fields.std_out_err_path_prefix.strip():
        properties["stdOutErrPathPrefix"] = fields.std_out_err_path_prefix.strip()
    shares = []
    for index, line in enumerate(line for line in fields.shares.splitlines() if line.strip()):
        mount, sep, url = line.partition("=")
        if not sep or not mount.strip() or not url.strip():
            errors.append(
                FieldError(
                    f"properties.mountVolumes.azureFileShares[{index}]",
                    f"write 'relativeMountPath = azureFileUrl', got {line.strip()!r}",
                )
            )
            continue
        share = {"azureFileUrl": url.strip(), "relativeMountPath": mount.strip()}
        share.update(fields.share_extras.get(mount.strip(), {}))
        shares.append(share)
    if shares:
        _merge(properties, "mountVolumes", {"azureFileShares": shares})
    if fields.job_preparation.strip():
        _merge(properties, "jobPreparation", {"commandLine": fields.job_preparation.strip()})
    if fields.image.strip():
        _merge(properties, "containerSettings", {"imageSourceRegistry": {"image": fields.image.strip()}})
    variables = []
    for index, line in enumerate(line for line in fields.environment.splitlines() if line.strip()):
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            errors.append(
                FieldError(
                    f"properties.environmentVariables[{index}]", f"write NAME=value, got {line.strip()!r}"
                )
            )
            continue
        variables.append({"name": name.strip(), "value": value})
    if variables:
        properties["environmentVariables"] = variables
    if fields.scheduling_priority.strip():
        properties["schedulingPriority"] = fields.scheduling_priority.strip()
    if fields.max_wall_clock_time.strip():
        _merge(properties, "constraints", {"maxWallClockTime": fields.max_wall_clock_time.strip()})
    return {"$schema": SCHEMA_URL, "properties": properties}, errors


# FieldError path prefix (longest first wins) -> the form field that shows the message.
_FIELD_OF_PATH: tuple[tuple[str, str], ...] = (
    ("properties.nodeCount", "node_count"),
    ("properties.stdOutErrPathPrefix", "std_out_err_path_prefix"),
    ("properties.mountVolumes.azureFileShares", "shares"),
    ("properties.jobPreparation", "job_preparation"),
    ("properties.containerSettings", "image"),
    ("properties.environmentVariables", "environment"),
    ("properties.schedulingPriority", "scheduling_priority"),
    ("properties.constraints", "max_wall_clock_time"),
    ("target.", "target"),
)


def field_of_error(error: FieldError, toolkit: str) -> str:
    """Which form field an error belongs next to ("advanced" for every property the form does not show)."""
    path = error.path
    if path.startswith("target."):
        return path
    hint = error.hint
    fills_it = hint is not None and (hint.verb, hint.subject) == ("give", "storage_account_name")
    if fills_it and hint is not None and not hint.names.get("inline"):
        return "target.storage_account"  # a placeholder left unfilled: the form's field that fills it
    script_key, args_key, count_key = TOOLKIT_FIELDS.get(toolkit, TOOLKIT_FIELDS["horovod"])
    settings = f"properties.{toolkit}Settings"
    for key, name in ((script_key, "script"), (args_key, "arguments"), (count_key, "process_count")):
        if key and (path == f"{settings}.{key}" or path.startswith(f"{settings}.{key}.")):
            return name
    if path in ("properties", settings):
        return "toolkit"
    for prefix, name in _FIELD_OF_PATH:
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            return name
    return "advanced"
