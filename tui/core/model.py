"""Backend-neutral types for what the console and the `bai` command show.

Both backends (the embedded local one and Azure Batch AI) return these, so no front end knows which backend
it talks to. Field names follow the Batch AI 2018-05-01 schema in snake_case; `as_az_dict` turns any of them
into the camelCase JSON that `az batchai ... -o json` printed, which is what the users of this tool know.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Called with (bytes done, bytes in all or None) while a file moves, so long transfers can show progress.
ProgressCallback = Callable[[int, int | None], None]


class ExecutionState(enum.StrEnum):
    """A job's executionState, moving queued -> running -> (terminating ->) succeeded | failed | canceled
    (canceled: the Azure ML backend's jobs, stopped by the user before they ended)."""

    QUEUED = "queued"
    RUNNING = "running"
    TERMINATING = "terminating"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in (ExecutionState.SUCCEEDED, ExecutionState.FAILED, ExecutionState.CANCELED)


class AllocationState(enum.StrEnum):
    """A cluster's allocationState: `resizing` while nodes are being added or removed, else `steady`."""

    STEADY = "steady"
    RESIZING = "resizing"


class NodeState(enum.StrEnum):
    """The state of one node of a cluster, as counted in NodeStateCounts."""

    IDLE = "idle"
    RUNNING = "running"
    PREPARING = "preparing"
    LEAVING = "leaving"
    UNUSABLE = "unusable"


@dataclass(frozen=True)
class ClusterRef:
    resource_group: str
    workspace: str
    name: str


@dataclass(frozen=True)
class ExperimentRef:
    resource_group: str
    workspace: str
    name: str


@dataclass(frozen=True)
class JobRef:
    resource_group: str
    workspace: str
    experiment: str
    name: str

    @property
    def experiment_ref(self) -> ExperimentRef:
        return ExperimentRef(self.resource_group, self.workspace, self.experiment)


@dataclass
class ResourceGroup:
    name: str
    location: str
    provisioning_state: str = "Succeeded"


@dataclass
class StorageAccount:
    name: str
    resource_group: str
    location: str
    sku: str = "Standard_LRS"
    provisioning_state: str = "Succeeded"


@dataclass
class FileShare:
    name: str
    account: str
    url: str
    quota_gb: int | None = None


@dataclass
class FileEntry:
    """A file or folder on a share or in a job's output (Name, Type, Size, Modified in az's table)."""

    name: str
    is_directory: bool
    size: int | None = None
    last_modified: datetime | None = None
    path: str = ""
    download_url: str | None = field(default=None, repr=False)

    @property
    def file_type(self) -> str:
        return "directory" if self.is_directory else "file"


@dataclass
class Workspace:
    name: str
    resource_group: str
    location: str
    provisioning_state: str = "succeeded"
    creation_time: datetime | None = None


@dataclass
class Experiment:
    name: str
    resource_group: str
    workspace: str
    provisioning_state: str = "succeeded"
    creation_time: datetime | None = None


@dataclass
class NodeStateCounts:
    idle_node_count: int = 0
    running_node_count: int = 0
    preparing_node_count: int = 0
    leaving_node_count: int = 0
    unusable_node_count: int = 0

    @property
    def total(self) -> int:
        return (
            self.idle_node_count
            + self.running_node_count
            + self.preparing_node_count
            + self.leaving_node_count
            + self.unusable_node_count
        )


@dataclass
class BatchAIError:
    """An error as the service reports it: a code, a message and name/value details."""

    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class Cluster:
    name: str
    resource_group: str
    workspace: str
    vm_size: str
    vm_priority: str = "dedicated"
    allocation_state: AllocationState = AllocationState.STEADY
    target_node_count: int = 0
    current_node_count: int = 0
    node_state_counts: NodeStateCounts = field(default_factory=NodeStateCounts)
    provisioning_state: str = "succeeded"
    creation_time: datetime | None = None
    allocation_state_transition_time: datetime | None = None
    errors: list[BatchAIError] = field(default_factory=list)

    @property
    def ref(self) -> ClusterRef:
        return ClusterRef(self.resource_group, self.workspace, self.name)


@dataclass
class Job:
    name: str
    resource_group: str
    workspace: str
    experiment: str
    cluster: str
    execution_state: ExecutionState = ExecutionState.QUEUED
    node_count: int = 1
    toolkit: str = ""
    job_output_directory_path_segment: str = ""
    std_out_err_path_prefix: str = ""
    scheduling_priority: str = "normal"
    creation_time: datetime | None = None
    execution_state_transition_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    errors: list[BatchAIError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ref(self) -> JobRef:
        return JobRef(self.resource_group, self.workspace, self.experiment, self.name)


@dataclass
class JobSubmitOptions:
    """What `az batchai job create` took beside the config file."""

    storage_account_name: str | None = None
    # Local backend only: run jobPreparation.commandLine on this machine (off by default: it may install
    # packages with apt or pip).
    run_job_preparation: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _plain(value: Any) -> Any:
    if type(value) is datetime:  # the common cases first: a job list has tens of thousands
        return value.isoformat()
    if type(value) is list:
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return as_az_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


_AZ_NAMES: dict[type, list[tuple[str, str]]] = {}  # per class: (field, camelCase key), worked out once
_SCALARS = frozenset((str, int, float, bool, type(None)))


def as_az_dict(obj: Any) -> dict[str, Any]:
    """The camelCase dict `az ... -o json` printed for this object (download URLs carry SAS: left out)."""
    names = _AZ_NAMES.get(type(obj))
    if names is None:
        names = [
            (spec.name, _camel(spec.name)) for spec in dataclasses.fields(obj) if spec.name != "download_url"
        ]
        _AZ_NAMES[type(obj)] = names
    out: dict[str, Any] = {}
    for name, key in names:  # the common kinds inline: a job list may show 10,000 jobs
        value = getattr(obj, name)
        kind = type(value)
        if kind in _SCALARS:
            out[key] = value
        elif kind is datetime:
            out[key] = value.isoformat()
        elif isinstance(value, enum.Enum):
            out[key] = value.value
        elif kind is list and not value:
            out[key] = []
        else:
            out[key] = _plain(value)
    if isinstance(obj, FileEntry):
        out["fileType"] = obj.file_type
    return out
