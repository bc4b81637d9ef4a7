"""Map the SDK's 2018-05-01 models (and the resource/storage management models) to `tui.core.model` types."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, TypeVar

from tui.core.model import (
    AllocationState,
    BatchAIError,
    Cluster,
    ExecutionState,
    Experiment,
    FileEntry,
    Job,
    NodeStateCounts,
    ResourceGroup,
    StorageAccount,
    Workspace,
)

_State = TypeVar("_State", bound=StrEnum)

_RG_IN_ID = re.compile(r"/resourceGroups/([^/]+)/", re.IGNORECASE)
_WS_IN_ID = re.compile(r"/workspaces/([^/]+)", re.IGNORECASE)

_TOOLKITS = (
    ("horovod_settings", "horovod"),
    ("custom_mpi_settings", "custommpi"),
    ("custom_toolkit_settings", "custom"),
    ("tensor_flow_settings", "tensorflow"),
    ("py_torch_settings", "pytorch"),
    ("cntk_settings", "cntk"),
    ("caffe_settings", "caffe"),
    ("caffe2_settings", "caffe2"),
    ("chainer_settings", "chainer"),
)


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


_UNKNOWN_STATES: dict[tuple[type[StrEnum], str], StrEnum] = {}


def unknown_state(kind: type[_State], text: str) -> _State:
    """A stand-in `kind` member for a state the service named that this version does not know.

    az printed whatever the service said, so one job in a newer state must not hide the others: the
    stand-in's value is the service's word (lower-cased), it is a `str` like every member (JSON and tables
    show it), and it is none of the final states, so `job wait` keeps waiting. One object per word.
    """
    key = (kind, text)
    member = _UNKNOWN_STATES.get(key)
    if member is None:
        member = str.__new__(kind, text)
        member._name_ = text.upper()
        member._value_ = text
        _UNKNOWN_STATES[key] = member
    return member  # type: ignore[return-value]


def _state(kind: type[_State], value: Any, default: _State) -> _State:
    """`value` as a `kind` member, whatever its case (the preview API said "Resizing", 2018-05-01 "resizing").

    The SDK passes a value it does not know through as a plain string; it is kept, as the service spelled
    it (lower-cased), rather than failing the whole list it is in.
    """
    text = _enum_value(value).strip().lower()
    if not text:
        return default
    for member in kind:
        if member.value == text:
            return member
    return unknown_state(kind, text)


def _lower(value: Any, default: str) -> str:
    return _enum_value(value).lower() or default


def resource_group_of(resource_id: str | None) -> str:
    match = _RG_IN_ID.search(resource_id or "")
    return match.group(1) if match else ""


def _workspace_of(resource_id: str | None) -> str:
    match = _WS_IN_ID.search(resource_id or "")
    return match.group(1) if match else ""


def errors_of(items: list[Any] | None) -> list[BatchAIError]:
    out = []
    for item in items or []:
        details = {pair.name: pair.value for pair in (getattr(item, "details", None) or [])}
        out.append(BatchAIError(code=item.code or "", message=item.message or "", details=details))
    return out


def resource_group(sdk: Any) -> ResourceGroup:
    state = getattr(getattr(sdk, "properties", None), "provisioning_state", None) or "Succeeded"
    return ResourceGroup(name=sdk.name, location=sdk.location, provisioning_state=state)


def storage_account(sdk: Any) -> StorageAccount:
    sku = getattr(getattr(sdk, "sku", None), "name", None)
    return StorageAccount(
        name=sdk.name,
        resource_group=resource_group_of(sdk.id),
        location=sdk.location or "",
        sku=_enum_value(sku) or "Standard_LRS",
        provisioning_state=_enum_value(getattr(sdk, "provisioning_state", None)) or "Succeeded",
    )


def workspace(sdk: Any) -> Workspace:
    return Workspace(
        name=sdk.name,
        resource_group=resource_group_of(sdk.id),
        location=sdk.location or "",
        provisioning_state=_enum_value(sdk.provisioning_state) or "succeeded",
        creation_time=sdk.creation_time,
    )


def experiment(sdk: Any) -> Experiment:
    return Experiment(
        name=sdk.name,
        resource_group=resource_group_of(sdk.id),
        workspace=_workspace_of(sdk.id),
        provisioning_state=_enum_value(sdk.provisioning_state) or "succeeded",
        creation_time=sdk.creation_time,
    )


def node_state_counts(sdk: Any) -> NodeStateCounts:
    if sdk is None:
        return NodeStateCounts()
    return NodeStateCounts(
        idle_node_count=sdk.idle_node_count or 0,
        running_node_count=sdk.running_node_count or 0,
        preparing_node_count=sdk.preparing_node_count or 0,
        leaving_node_count=sdk.leaving_node_count or 0,
        unusable_node_count=sdk.unusable_node_count or 0,
    )


def _target_node_count(scale: Any) -> int:
    if scale is None:
        return 0
    if scale.manual is not None:
        return scale.manual.target_node_count or 0
    if scale.auto_scale is not None:
        return scale.auto_scale.initial_node_count or scale.auto_scale.minimum_node_count or 0
    return 0


def cluster(sdk: Any, resource_group: str = "", workspace: str = "") -> Cluster:
    """A Cluster; `resource_group` and `workspace` (what was asked for) stand in where the id lacks them."""
    return Cluster(
        name=sdk.name,
        resource_group=resource_group_of(sdk.id) or resource_group,
        workspace=_workspace_of(sdk.id) or workspace,
        vm_size=sdk.vm_size or "",
        vm_priority=_lower(sdk.vm_priority, "dedicated"),
        allocation_state=_state(AllocationState, sdk.allocation_state, AllocationState.STEADY),
        target_node_count=_target_node_count(sdk.scale_settings),
        current_node_count=sdk.current_node_count or 0,
        node_state_counts=node_state_counts(sdk.node_state_counts),
        provisioning_state=_enum_value(sdk.provisioning_state) or "succeeded",
        creation_time=sdk.creation_time,
        allocation_state_transition_time=sdk.allocation_state_transition_time,
        errors=errors_of(sdk.errors),
    )


def _experiment_of(resource_id: str | None) -> str:
    match = re.search(r"/experiments/([^/]+)", resource_id or "", re.IGNORECASE)
    return match.group(1) if match else ""


def _cluster_name(cluster_ref: Any) -> str:
    resource_id = getattr(cluster_ref, "id", None) or ""
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def job(sdk: Any, resource_group: str = "", workspace: str = "", experiment: str = "") -> Job:
    """A Job; the names asked for stand in where the id lacks them (the service's own examples do)."""
    info = sdk.execution_info
    toolkit = next((name for attr, name in _TOOLKITS if getattr(sdk, attr, None) is not None), "")
    return Job(
        name=sdk.name,
        resource_group=resource_group_of(sdk.id) or resource_group,
        workspace=_workspace_of(sdk.id) or workspace,
        experiment=_experiment_of(sdk.id) or experiment,
        cluster=_cluster_name(sdk.cluster),
        execution_state=_state(ExecutionState, sdk.execution_state, ExecutionState.QUEUED),
        node_count=sdk.node_count or 1,
        toolkit=toolkit or _lower(sdk.tool_type, ""),
        job_output_directory_path_segment=sdk.job_output_directory_path_segment or "",
        std_out_err_path_prefix=sdk.std_out_err_path_prefix or "",
        scheduling_priority=_enum_value(sdk.scheduling_priority) or "normal",
        creation_time=sdk.creation_time,
        execution_state_transition_time=sdk.execution_state_transition_time,
        start_time=getattr(info, "start_time", None),
        end_time=getattr(info, "end_time", None),
        exit_code=getattr(info, "exit_code", None),
        errors=errors_of(getattr(info, "errors", None)),
    )


def output_file(sdk: Any, directory: str) -> FileEntry:
    is_directory = _enum_value(sdk.file_type) == "directory"
    base = directory.strip("/").removeprefix(".").strip("/")
    return FileEntry(
        name=sdk.name,
        is_directory=is_directory,
        size=None if is_directory else sdk.content_length,
        last_modified=sdk.last_modified,
        path=f"{base}/{sdk.name}" if base else sdk.name,
        download_url=sdk.download_url,
    )
