"""job.json -> the SDK's `JobCreateParameters` (passes 1 and 2), durations, and the way back to job.json.

Pass 1 walks the raw JSON along the SDK models' attribute maps (unknown keys with a "did you mean", wrong JSON
types, unparseable durations, fields the service ignored dropped with a note); pass 2 is the SDK's own
deserializer; pass 3 (`tui.core.jobspec.checks`) runs when `validate` is asked."""

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

from tui.core.errors import BaiError, FieldError, JobSpecError
from tui.core.jobspec.schema import (
    _ISO_DURATION,
    _TIMESPAN,
    _TOP_LEVEL_EXTRA_KEYS,
    _WHOLE_NUMBER,
    IGNORED_FIELDS,
    INT32_MAX,
    INT32_MIN,
    MAX_DURATION_DAYS,
    MAX_JSON_DEPTH,
    SCHEDULING_PRIORITIES,
    SCHEMA_URL,
)

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters

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
        from tui.core.jobspec.checks import validate_job_spec  # pass 3; checks imports this module

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
