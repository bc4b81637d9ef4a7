"""Map Azure ML's ARM documents (2025-12-01) to `tui.core.model` types, with the JSON keys the other
backends print: a compute's node-state counts and allocation state as Batch AI named them, a job's status
as an executionState."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.backends.batchai.convert import unknown_state
from tui.core.model import (
    AllocationState,
    BatchAIError,
    Cluster,
    ExecutionState,
    Job,
    NodeStateCounts,
    Workspace,
)

_RG_IN_ID = re.compile(r"/resourceGroups/([^/]+)/", re.IGNORECASE)

# properties.status of a job -> executionState. Anything else is shown as the service spells it, not final.
JOB_STATES: dict[str, ExecutionState] = {
    "notstarted": ExecutionState.QUEUED,
    "starting": ExecutionState.QUEUED,
    "provisioning": ExecutionState.QUEUED,
    "preparing": ExecutionState.QUEUED,
    "queued": ExecutionState.QUEUED,
    "running": ExecutionState.RUNNING,
    "finalizing": ExecutionState.RUNNING,
    "cancelrequested": ExecutionState.TERMINATING,
    "completed": ExecutionState.SUCCEEDED,
    "failed": ExecutionState.FAILED,
    "notresponding": ExecutionState.FAILED,
    "canceled": ExecutionState.CANCELED,
}


@dataclass
class AmlNodeStateCounts(NodeStateCounts):
    """Batch AI's counts plus AmlCompute's preempted (low-priority nodes taken back by Azure)."""

    preempted_node_count: int = 0

    @property
    def total(self) -> int:
        return super().total + self.preempted_node_count


@dataclass
class AmlCluster(Cluster):
    """A compute cluster; `warnings` says what was sent as given but deserves a look (a retired VM size)."""

    min_node_count: int = 0
    max_node_count: int = 0
    node_idle_time_before_scale_down: str | None = None
    warnings: list[str] = field(default_factory=list)


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def resource_group_of(resource_id: str | None) -> str:
    match = _RG_IN_ID.search(resource_id or "")
    return match.group(1) if match else ""


def last_segment(resource_id: str | None) -> str:
    return (resource_id or "").rstrip("/").rsplit("/", 1)[-1]


def _props(body: dict[str, Any] | None) -> dict[str, Any]:
    properties = (body or {}).get("properties")
    return properties if isinstance(properties, dict) else {}


def _created(body: dict[str, Any]) -> datetime | None:
    system = body.get("systemData") if isinstance(body.get("systemData"), dict) else {}
    return parse_time((system or {}).get("createdAt")) or parse_time(_props(body).get("createdOn"))


def workspace(body: dict[str, Any], resource_group: str = "") -> Workspace:
    return Workspace(
        name=str(body.get("name") or ""),
        resource_group=resource_group_of(body.get("id")) or resource_group,
        location=str(body.get("location") or ""),
        provisioning_state=str(_props(body).get("provisioningState") or "succeeded").lower(),
        creation_time=_created(body),
    )


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def errors_of(items: Any) -> list[BatchAIError]:
    """AmlCompute's `errors` (ErrorResponse items: {error: {code, message, details}}) or plain errors."""
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        error = item.get("error") if isinstance(item.get("error"), dict) else item
        details = {
            str(d.get("code") or d.get("name") or index): str(d.get("message") or d.get("value") or "")
            for index, d in enumerate(error.get("details") or [])
            if isinstance(d, dict)
        }
        out.append(
            BatchAIError(
                code=str(error.get("code") or ""), message=str(error.get("message") or ""), details=details
            )
        )
    return out


def node_state_counts(counts: Any) -> AmlNodeStateCounts:
    counts = counts if isinstance(counts, dict) else {}
    return AmlNodeStateCounts(
        idle_node_count=_int(counts.get("idleNodeCount")),
        running_node_count=_int(counts.get("runningNodeCount")),
        preparing_node_count=_int(counts.get("preparingNodeCount")),
        leaving_node_count=_int(counts.get("leavingNodeCount")),
        unusable_node_count=_int(counts.get("unusableNodeCount")),
        preempted_node_count=_int(counts.get("preemptedNodeCount")),
    )


def _allocation(value: Any) -> AllocationState:
    text = str(value or "").strip().lower()
    if not text:
        return AllocationState.STEADY
    for member in AllocationState:
        if member.value == text:
            return member
    return unknown_state(AllocationState, text)


def cluster(body: dict[str, Any], resource_group: str = "", workspace: str = "") -> AmlCluster:
    outer = _props(body)
    inner = outer.get("properties") if isinstance(outer.get("properties"), dict) else {}
    scale = inner.get("scaleSettings") if isinstance(inner.get("scaleSettings"), dict) else {}
    target = inner.get("targetNodeCount")
    errors = errors_of(inner.get("errors")) + errors_of(outer.get("provisioningErrors"))
    return AmlCluster(
        name=str(body.get("name") or ""),
        resource_group=resource_group_of(body.get("id")) or resource_group,
        workspace=workspace,
        vm_size=str(inner.get("vmSize") or ""),
        vm_priority=str(inner.get("vmPriority") or "dedicated").lower(),
        allocation_state=_allocation(inner.get("allocationState")),
        target_node_count=_int(target if target is not None else scale.get("minNodeCount")),
        current_node_count=_int(inner.get("currentNodeCount")),
        node_state_counts=node_state_counts(inner.get("nodeStateCounts")),
        provisioning_state=str(outer.get("provisioningState") or "succeeded").lower(),
        creation_time=parse_time(outer.get("createdOn")) or _created(body),
        allocation_state_transition_time=parse_time(inner.get("allocationStateTransitionTime")),
        errors=errors,
        min_node_count=_int(scale.get("minNodeCount")),
        max_node_count=_int(scale.get("maxNodeCount")),
        node_idle_time_before_scale_down=scale.get("nodeIdleTimeBeforeScaleDown"),
    )


def execution_state(status: Any) -> ExecutionState:
    text = str(status or "").strip()
    if not text:
        return ExecutionState.QUEUED
    return JOB_STATES.get(text.lower()) or unknown_state(ExecutionState, text)


def job(body: dict[str, Any], resource_group: str, workspace: str) -> Job:
    properties = _props(body)
    resources = properties.get("resources") if isinstance(properties.get("resources"), dict) else {}
    distribution = properties.get("distribution") if isinstance(properties.get("distribution"), dict) else {}
    tags = properties.get("tags") if isinstance(properties.get("tags"), dict) else {}
    warnings = [line for line in str(tags.get("bai.warnings") or "").split("\n") if line]
    return Job(
        name=str(body.get("name") or ""),
        resource_group=resource_group,
        workspace=workspace,
        experiment=str(properties.get("experimentName") or ""),
        cluster=last_segment(properties.get("computeId")),
        execution_state=execution_state(properties.get("status")),
        node_count=_int(resources.get("instanceCount")) or 1,
        toolkit=str(distribution.get("distributionType") or properties.get("jobType") or "").lower(),
        creation_time=_created(body),
        warnings=warnings,
    )
