"""The job form's field model, apart from its widgets: each field's name, label and kind in the form's
order, the target a job is submitted to and its checks, and how the form's own errors merge with the
jobspec's verdict.

Nothing here needs Textual: it is what the form shows and checks, `JobForm` (job_form.py) how it is edited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tui.core.errors import FieldError

_NAME = re.compile(r"^[-\w]{1,64}$")
_GROUP = re.compile(r"^[-\w.()]{1,90}$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")

# (field name, label, kind); kind is "input", "area" or "select".
TARGET_FIELDS = (
    ("target.resource_group", "Resource group"),
    ("target.workspace", "Workspace"),
    ("target.experiment", "Experiment"),
    ("target.cluster", "Cluster"),
    ("target.name", "Job name"),
    ("target.storage_account", "Storage account"),
)
MAIN_FIELDS = (
    ("node_count", "Node count", "input"),
    ("toolkit", "Toolkit", "select"),
    ("script", "Script / command", "input"),
    ("arguments", "Arguments", "input"),
    ("process_count", "Process count", "input"),
    ("std_out_err_path_prefix", "stdout/err prefix", "input"),
    ("shares", "File shares\n(mount = url)", "area"),
    ("job_preparation", "Job preparation", "input"),
    ("image", "Container image", "input"),
    ("environment", "Environment\n(NAME=value)", "area"),
)
ADVANCED_FIELDS = (
    ("scheduling_priority", "Priority", "input"),
    ("max_wall_clock_time", "Max wall clock", "input"),
    ("advanced", "Other properties\n(JSON)", "area"),
)

# Every field's label, in the order the form shows them.
FIELD_LABELS: dict[str, str] = {
    **dict(TARGET_FIELDS),
    **{name: label for name, label, _kind in (*MAIN_FIELDS, *ADVANCED_FIELDS)},
}


def dom_id(name: str) -> str:
    return name.replace(".", "-").replace("_", "-")


@dataclass
class JobTarget:
    resource_group: str
    workspace: str
    experiment: str
    cluster: str
    name: str
    storage_account: str | None


def check_target(typed: dict[str, str]) -> tuple[JobTarget, list[FieldError]]:
    """The target fields' values (by field name, as typed) as a `JobTarget`, and what is wrong with them."""
    values = {name: typed.get(name, "").strip() for name, _label in TARGET_FIELDS}
    errors = []
    for name, label in TARGET_FIELDS:
        if name == "target.storage_account":
            continue
        if not values[name]:
            errors.append(FieldError(name, f"required: the {label.lower()} to submit to"))
        elif name == "target.resource_group":
            if not _GROUP.fullmatch(values[name]):
                errors.append(FieldError(name, "use 1-90 letters, digits, '-', '_', '.' or '()'"))
        elif not _NAME.fullmatch(values[name]):
            errors.append(FieldError(name, "use 1-64 letters, digits, '-' or '_'"))
    account = values["target.storage_account"] or None
    if account and not _ACCOUNT.fullmatch(account):
        errors.append(FieldError("target.storage_account", "3-24 lowercase letters and digits"))
    target = JobTarget(
        values["target.resource_group"],
        values["target.workspace"],
        values["target.experiment"],
        values["target.cluster"],
        values["target.name"],
        account,
    )
    return target, errors


def merge_errors(typed: list[FieldError], checked: list[FieldError]) -> list[FieldError]:
    """The form's own errors (what was typed) win over the spec check's errors on the same field."""
    seen = {error.path for error in typed}
    return [*typed, *(error for error in checked if error.path not in seen)]


def check_document(document: dict[str, Any]) -> list[FieldError]:
    """The jobspec module's verdict on a document (imports the SDK the first time)."""
    from tui.core.errors import BaiError, JobSpecError
    from tui.core.jobspec import parse_job_spec

    try:
        parse_job_spec(document, validate=True)
    except JobSpecError as error:
        return list(error.errors)
    except BaiError as error:
        return [FieldError("properties", str(error))]
    return []
