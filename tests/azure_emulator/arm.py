"""ARM: Microsoft.Resources resource groups, Microsoft.Storage accounts, Microsoft.BatchAI (2018-05-01).

Long-running operations answer the ARM way: a PUT answers 202 with `Azure-AsyncOperation` (a status
document: InProgress, then Succeeded), a DELETE or POST action answers 202 with `Location` (202 while running,
then 200/204). Bodies and error documents follow the service's shapes, which is what the SDK deserializes.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .auth import file_sas_query
from .world import Account, Cluster, Experiment, Group, Job, Workspace, iso, new_key, now_dt, valid_name

if TYPE_CHECKING:
    from .server import AzureEmulator

Handler = Callable[["AzureEmulator", web.Request, dict[str, str]], Awaitable[web.StreamResponse]]

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourcegroups/(?P<rg>[^/]+)"
STORAGE = RG + r"/providers/microsoft\.storage/storageaccounts/(?P<account>[^/]+)"
WS = RG + r"/providers/microsoft\.batchai/workspaces/(?P<ws>[^/]+)"
EXP = WS + r"/experiments/(?P<exp>[^/]+)"
CLUSTER = WS + r"/clusters/(?P<cluster>[^/]+)"
JOB = EXP + r"/jobs/(?P<job>[^/]+)"


class ArmError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details or [], headers or {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return web.json_response({"error": body}, status=self.status, headers=self.headers)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers)


def _page(emu: AzureEmulator, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    """One page of a list, ARM style: `value`, and `nextLink` (an absolute URL) when more follow."""
    size = emu.page_size
    if not size:
        return _json({"value": items})
    try:
        start = max(int(request.query.get("$skiptoken", "0")), 0)
    except ValueError:
        raise ArmError(400, "InvalidSkipToken", "The $skiptoken is not valid.") from None
    body: dict[str, Any] = {"value": items[start : start + size]}
    if start + size < len(items):
        query = {key: value for key, value in request.query.items() if key != "$skiptoken"}
        query["$skiptoken"] = str(start + size)
        body["nextLink"] = str(request.url.with_query(query).with_host("127.0.0.1").with_port(emu.port))
    return _json(body)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ArmError(
            400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
        ) from None
    if not isinstance(data, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return data


# ---------------------------------------------------------------- long-running operation plumbing


def _async_accepted(emu: AzureEmulator, op_id: str) -> web.Response:
    """202 the way Batch AI answered a PUT or DELETE: an empty body, `Azure-AsyncOperation` (the status
    document) and `Location` both (recorded by azure-cli's batchai tests, see data/real/README.md)."""
    _arm_failure(emu, op_id)
    base = f"{emu.base_url}/subscriptions/{emu.subscription}/providers/Emulator"
    headers = {
        "Azure-AsyncOperation": f"{base}/asyncoperations/{op_id}?api-version=2018-05-01",
        "Location": f"{base}/operationresults/{op_id}?api-version=2018-05-01",
    }
    return web.Response(status=202, headers=_retry_after(emu, headers))


def _retry_after(emu: AzureEmulator, headers: dict[str, str]) -> dict[str, str]:
    if emu.world.timings.retry_after is not None:
        headers["Retry-After"] = str(emu.world.timings.retry_after)
    return headers


def _arm_failure(emu: AzureEmulator, op_id: str) -> None:
    error = emu.take_failure()
    if error is not None:
        emu.world.operations[op_id].error = error


def _location_accepted(emu: AzureEmulator, op_id: str) -> web.Response:
    _arm_failure(emu, op_id)
    url = f"{emu.base_url}/subscriptions/{emu.subscription}/providers/Emulator/operationresults/{op_id}"
    return web.Response(status=202, headers=_retry_after(emu, {"Location": url + "?api-version=2018-05-01"}))


async def async_operation(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    op = emu.world.operations.get(m["op"])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"Operation {m['op']} was not found.")
    # The status document as Batch AI wrote it: id (a URL), name, status, startTime, endTime once done,
    # and the ARM error once failed.
    body: dict[str, Any] = {
        "id": f"{emu.base_url}{request.path}",
        "name": op.id,
        "status": op.status,
        "startTime": iso(op.started),
    }
    if op.ended is not None:
        body["endTime"] = iso(op.ended)
    if op.error is not None and op.status == "Failed":
        body["error"] = op.error
    return _json(body, headers=_retry_after(emu, {}) if op.status == "InProgress" else None)


async def operation_result(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    op = emu.world.operations.get(m["op"])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"Operation {m['op']} was not found.")
    if op.status == "InProgress":
        url = f"{emu.base_url}{request.path}?api-version=2018-05-01"
        return web.Response(status=202, headers=_retry_after(emu, {"Location": url}))
    if op.error is not None:
        raise ArmError(400, op.error["code"], op.error["message"], op.error.get("details"))
    result = op.result() if op.result is not None else None
    return _json(result) if result is not None else web.Response(status=204)


# ---------------------------------------------------------------- resource groups


def _group_body(emu: AzureEmulator, group: Group) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{emu.subscription}/resourceGroups/{group.name}",
        "name": group.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": group.location,
        "properties": {"provisioningState": group.state},
    }


def _need_group(emu: AzureEmulator, name: str) -> Group:
    group = emu.world.group(name)
    if group is None or group.state == "Deleting":
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
    return group


def _region(location: str) -> str:
    """A location as ARM compares them: "East US" is "eastus"."""
    return location.replace(" ", "").lower()


async def group_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    world = emu.world
    name = m["rg"]
    if request.method == "PUT":
        body = await _body(request)
        location = body.get("location")
        if not location:
            raise ArmError(
                400,
                "LocationRequired",
                "The location property is required for this definition.",
            )
        existing = world.group(name)
        if existing is not None and existing.state == "Deleting":
            raise ArmError(
                409, "ResourceGroupBeingDeleted", f"The resource group '{name}' is in deprovisioning state."
            )
        if existing is not None and _region(existing.location) != _region(location):
            # ARM's answer, word for word (Azure/azure-cli issue #22242, data/real/README.md).
            raise ArmError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{location}'. "
                f"The Resource group already exists in location '{existing.location}'.",
            )
        status = 200 if existing else 201
        group = existing or Group(name=name, location=location)
        world.groups[name.lower()] = group
        return _json(_group_body(emu, group), status=status)
    if request.method == "HEAD":
        return web.Response(status=204 if world.group(name) else 404)
    group = _need_group(emu, name)
    if request.method == "GET":
        return _json(_group_body(emu, group))
    if request.method == "DELETE":
        group.state = "Deleting"
        op = world.start_operation(lambda: world.delete_group(name), delay=world.timings.operation * 2)
        return _location_accepted(emu, op.id)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def group_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    return _page(emu, request, [_group_body(emu, group) for group in emu.world.groups.values()])


# ---------------------------------------------------------------- storage accounts


def _account_body(emu: AzureEmulator, account: Account) -> dict[str, Any]:
    return {
        "id": (
            f"/subscriptions/{emu.subscription}/resourceGroups/{account.resource_group}"
            f"/providers/Microsoft.Storage/storageAccounts/{account.name}"
        ),
        "name": account.name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": account.location,
        "kind": account.kind,
        "sku": {"name": account.sku, "tier": "Standard"},
        "properties": {
            "provisioningState": account.state,
            "creationTime": iso(account.created),
            "primaryEndpoints": {"file": f"{emu.base_url}/{account.name}/"},
        },
    }


def _need_account(emu: AzureEmulator, m: dict[str, str]) -> Account:
    _need_group(emu, m["rg"])
    account = emu.world.accounts.get(m["account"])
    if account is None or account.resource_group.lower() != m["rg"].lower():
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.Storage/storageAccounts/{m['account']}' under resource group "
            f"'{m['rg']}' was not found.",
        )
    return account


async def account_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    world = emu.world
    if request.method == "PUT":
        group = _need_group(emu, m["rg"])
        name = m["account"]
        body = await _body(request)
        if not re.fullmatch(r"[a-z0-9]{3,24}", name):
            raise ArmError(
                400,
                "AccountNameInvalid",
                f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
                "characters in length and use numbers and lower-case letters only.",
            )
        existing = world.accounts.get(name)
        if existing is not None and existing.resource_group.lower() != group.name.lower():
            raise ArmError(
                409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken."
            )
        if existing is None:
            existing = Account(
                name=name,
                resource_group=group.name,
                location=body.get("location") or group.location,
                sku=(body.get("sku") or {}).get("name") or "Standard_LRS",
                kind=body.get("kind") or "StorageV2",
                keys=[new_key(), new_key()],
            )
            world.accounts[name] = existing
        account = existing

        def done() -> None:
            account.state = "Succeeded"

        op = world.start_operation(done, result=lambda: _account_body(emu, account))
        return _location_accepted(emu, op.id)
    account = _need_account(emu, m)
    if request.method == "GET":
        return _json(_account_body(emu, account))
    if request.method == "DELETE":
        del world.accounts[account.name]
        return web.Response(status=200)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def account_keys(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    account = _need_account(emu, m)
    keys = [
        {"keyName": f"key{index + 1}", "value": value, "permissions": "FULL"}
        for index, value in enumerate(account.keys)
    ]
    return _json({"keys": keys})


async def account_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    group = m.get("rg")
    if group is not None:
        _need_group(emu, group)
    accounts = [
        _account_body(emu, account)
        for account in emu.world.accounts.values()
        if group is None or account.resource_group.lower() == group.lower()
    ]
    return _page(emu, request, accounts)


# ---------------------------------------------------------------- Batch AI: workspaces, experiments


def _ws_id(emu: AzureEmulator, rg: str, ws: str) -> str:
    return (
        f"/subscriptions/{emu.subscription}/resourceGroups/{rg}/providers/Microsoft.BatchAI/workspaces/{ws}"
    )


def _ws_body(emu: AzureEmulator, ws: Workspace) -> dict[str, Any]:
    return {
        "id": _ws_id(emu, ws.resource_group, ws.name),
        "name": ws.name,
        "type": "Microsoft.BatchAI/workspaces",
        "location": ws.location,
        "properties": {
            "creationTime": iso(ws.created),
            "provisioningState": ws.state,
            "provisioningStateTransitionTime": iso(ws.state_time),
        },
    }


def _check_name(kind: str, name: str) -> None:
    if not valid_name(name):
        raise ArmError(
            400,
            "InvalidResourceName",
            f"The {kind} name '{name}' is invalid: use 1-64 letters, digits, '-' or '_'.",
        )


def _need_ws(emu: AzureEmulator, m: dict[str, str]) -> Workspace:
    _need_group(emu, m["rg"])
    ws = emu.world.workspaces.get((m["rg"].lower(), m["ws"]))
    if ws is None:
        raise ArmError(404, "ResourceNotFound", f"The workspace '{m['ws']}' was not found.")
    return ws


async def ws_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    world = emu.world
    key = (m["rg"].lower(), m["ws"])
    if request.method == "PUT":
        group = _need_group(emu, m["rg"])
        _check_name("workspace", m["ws"])
        body = await _body(request)
        if not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required for a workspace.")
        existing = world.workspaces.get(key)
        ws = existing or Workspace(group.name, m["ws"], body["location"])
        world.workspaces[key] = ws
        if existing is None:
            ws.state, ws.state_time = "succeeded", now_dt()
        # Batch AI created a workspace at once: 200 with the body, no long-running operation (recorded).
        return _json(_ws_body(emu, ws))
    ws = _need_ws(emu, m)
    if request.method == "GET":
        return _json(_ws_body(emu, ws))
    if request.method == "DELETE":
        ws.state, ws.state_time = "deleting", now_dt()
        op = world.start_operation(lambda: world.delete_workspace(*key))
        return _location_accepted(emu, op.id)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def ws_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    group = m.get("rg")
    if group is not None:
        _need_group(emu, group)
    items = [
        _ws_body(emu, ws)
        for key, ws in emu.world.workspaces.items()
        if group is None or key[0] == group.lower()
    ]
    return _page(emu, request, items)


def _exp_body(emu: AzureEmulator, exp: Experiment) -> dict[str, Any]:
    return {
        "id": f"{_ws_id(emu, exp.resource_group, exp.workspace)}/experiments/{exp.name}",
        "name": exp.name,
        "type": "Microsoft.BatchAI/workspaces/experiments",
        "properties": {
            "creationTime": iso(exp.created),
            "provisioningState": exp.state,
            "provisioningStateTransitionTime": iso(exp.state_time),
        },
    }


def _need_exp(emu: AzureEmulator, m: dict[str, str]) -> Experiment:
    _need_ws(emu, m)
    exp = emu.world.experiments.get((m["rg"].lower(), m["ws"], m["exp"]))
    if exp is None:
        raise ArmError(404, "ResourceNotFound", f"The experiment '{m['exp']}' was not found.")
    return exp


async def exp_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    world = emu.world
    key = (m["rg"].lower(), m["ws"], m["exp"])
    if request.method == "PUT":
        ws = _need_ws(emu, m)
        _check_name("experiment", m["exp"])
        existing = world.experiments.get(key)
        exp = existing or Experiment(ws.resource_group, ws.name, m["exp"])
        world.experiments[key] = exp
        if existing is None:
            exp.state, exp.state_time = "succeeded", now_dt()
        # As for workspaces: 200 with the body at once (recorded by azure-cli's batchai tests).
        return _json(_exp_body(emu, exp))
    exp = _need_exp(emu, m)
    if request.method == "GET":
        return _json(_exp_body(emu, exp))
    if request.method == "DELETE":
        exp.state = "deleting"
        op = world.start_operation(lambda: world.delete_experiment(*key))
        return _location_accepted(emu, op.id)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def exp_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    _need_ws(emu, m)
    items = [
        _exp_body(emu, e) for k, e in emu.world.experiments.items() if k[:2] == (m["rg"].lower(), m["ws"])
    ]
    return _page(emu, request, items)


# ---------------------------------------------------------------- Batch AI: clusters

MAX_NODES = 50


def _cluster_body(emu: AzureEmulator, cluster: Cluster) -> dict[str, Any]:
    counts = {state: 0 for state in ("idle", "running", "preparing", "leaving", "unusable")}
    for node in cluster.nodes:
        counts[node.state] += 1
    properties = copy.deepcopy(cluster.properties)
    properties["scaleSettings"] = {
        "manual": {"targetNodeCount": cluster.target, "nodeDeallocationOption": "requeue"}
    }
    properties.update(
        {
            "creationTime": iso(cluster.created),
            "provisioningState": cluster.state,
            "provisioningStateTransitionTime": iso(cluster.state_time),
            "allocationState": cluster.allocation,
            "allocationStateTransitionTime": iso(cluster.allocation_time),
            "currentNodeCount": len(cluster.nodes),
            "nodeStateCounts": {f"{state}NodeCount": count for state, count in counts.items()},
        }
    )
    return {
        "id": f"{_ws_id(emu, cluster.resource_group, cluster.workspace)}/clusters/{cluster.name}",
        "name": cluster.name,
        "type": "Microsoft.BatchAI/workspaces/clusters",
        "properties": properties,
    }


def _target_of(properties: dict[str, Any], field: str) -> int:
    scale = properties.get("scaleSettings") or {}
    manual = scale.get("manual")
    auto = scale.get("autoScale")
    if manual is not None:
        target = manual.get("targetNodeCount")
    elif auto is not None:
        target = auto.get("initialNodeCount", auto.get("minimumNodeCount"))
    else:
        target = 0
    if not isinstance(target, int) or target < 0:
        raise ArmError(
            400,
            "InvalidScaleSettings",
            "The scale settings are invalid.",
            [
                {
                    "code": "InvalidTargetNodeCount",
                    "target": field,
                    "message": "targetNodeCount must be 0 or more",
                }
            ],
        )
    if target > MAX_NODES:
        raise ArmError(
            400,
            "QuotaExceeded",
            "Operation results in exceeding quota limits of Core.",
            [
                {
                    "code": "InsufficientCoreQuota",
                    "target": field,
                    "message": f"{target} nodes requested; this subscription allows {MAX_NODES} "
                    "in the region",
                }
            ],
        )
    return target


def _need_cluster(emu: AzureEmulator, m: dict[str, str]) -> Cluster:
    _need_ws(emu, m)
    cluster = emu.world.clusters.get((m["rg"].lower(), m["ws"], m["cluster"]))
    if cluster is None:
        raise ArmError(404, "ResourceNotFound", f"The cluster '{m['cluster']}' was not found.")
    return cluster


async def cluster_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    world = emu.world
    key = (m["rg"].lower(), m["ws"], m["cluster"])
    if request.method == "PUT":
        ws = _need_ws(emu, m)
        _check_name("cluster", m["cluster"])
        properties = (await _body(request)).get("properties") or {}
        problems = []
        if not properties.get("vmSize"):
            problems.append(
                {"code": "MissingVmSize", "target": "properties.vmSize", "message": "vmSize is required"}
            )
        account = properties.get("userAccountSettings") or {}
        if not account.get("adminUserName"):
            problems.append(
                {
                    "code": "MissingAdminUserName",
                    "target": "properties.userAccountSettings.adminUserName",
                    "message": "adminUserName is required",
                }
            )
        elif not (account.get("adminUserSshPublicKey") or account.get("adminUserPassword")):
            problems.append(
                {
                    "code": "MissingAdminCredentials",
                    "target": "properties.userAccountSettings",
                    "message": "give adminUserSshPublicKey or adminUserPassword",
                }
            )
        if problems:
            raise ArmError(400, "InvalidRequestContent", "The cluster definition is invalid.", problems)
        target = _target_of(properties, "properties.scaleSettings")
        if key in world.clusters:
            raise ArmError(409, "ClusterAlreadyExists", f"The cluster '{m['cluster']}' already exists.")
        shown = copy.deepcopy(properties)
        shown.get("userAccountSettings", {}).pop("adminUserPassword", None)
        cluster = Cluster(ws.resource_group, ws.name, m["cluster"], shown, target)
        world.clusters[key] = cluster

        def done() -> None:
            cluster.state, cluster.state_time = "succeeded", now_dt()

        return _async_accepted(emu, world.start_operation(done).id)
    cluster = _need_cluster(emu, m)
    if request.method == "GET":
        return _json(_cluster_body(emu, cluster))
    if request.method == "PATCH":
        properties = (await _body(request)).get("properties") or {}
        if "scaleSettings" in properties:
            cluster.target = _target_of(properties, "properties.scaleSettings")
            world.set_allocation(cluster, "resizing")
        return _json(_cluster_body(emu, cluster))
    if request.method == "DELETE":
        cluster.state, cluster.target = "deleting", 0
        op = world.start_operation(lambda: world.clusters.pop(key, None), delay=world.timings.node_leave)
        return _location_accepted(emu, op.id)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def cluster_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    _need_ws(emu, m)
    items = [
        _cluster_body(emu, c) for k, c in emu.world.clusters.items() if k[:2] == (m["rg"].lower(), m["ws"])
    ]
    return _page(emu, request, items)


# ---------------------------------------------------------------- Batch AI: jobs

_FILE_URL = re.compile(
    r"^https?://(?:(?P<host_account>[a-z0-9]{3,24})\.file\.core\.[a-z0-9.-]+|[^/]+/(?P<path_account>[a-z0-9]{3,24}))"
    r"/(?P<share>[^/?#]+)/?$"
)


def _strip_secrets(properties: dict[str, Any]) -> dict[str, Any]:
    """What GET shows of a job: keys, passwords and secret values never come back."""
    shown = copy.deepcopy(properties)
    for kind in ("azureFileShares", "azureBlobFileSystems"):
        for mount in (shown.get("mountVolumes") or {}).get(kind) or []:
            credentials = mount.get("credentials") or {}
            credentials.pop("accountKey", None)
    for secret in shown.get("secrets") or []:
        secret.pop("value", None)
    registry = ((shown.get("containerSettings") or {}).get("imageSourceRegistry") or {}).get(
        "credentials"
    ) or {}
    registry.pop("password", None)
    return shown


def _job_body(emu: AzureEmulator, job: Job) -> dict[str, Any]:
    _rg, ws, exp, name = job.key
    properties = _strip_secrets(job.properties)
    properties.update(
        {
            "jobOutputDirectoryPathSegment": job.segment,
            "toolType": "horovod" if "horovodSettings" in properties else "custom",
            "schedulingPriority": properties.get("schedulingPriority") or "normal",
            "creationTime": iso(job.created),
            "provisioningState": job.provisioning,
            "provisioningStateTransitionTime": iso(job.created),
            "executionState": job.state,
            "executionStateTransitionTime": iso(job.state_time),
            "experimentName": exp,  # the service sent it though the 2018-05-01 schema has no such field
        }
    )
    # As the service did: no executionInfo before the job starts, and no null members in it.
    info = {
        "startTime": iso(job.start),
        "endTime": iso(job.end),
        "exitCode": job.exit_code,
        "errors": job.errors or None,
    }
    if job.start is not None:
        properties["executionInfo"] = {key: value for key, value in info.items() if value is not None}
    return {
        "id": f"{_ws_id(emu, job.key[0], ws)}/experiments/{exp}/jobs/{name}",
        "name": name,
        "type": "Microsoft.BatchAI/workspaces/experiments/jobs",
        "properties": properties,
    }


def _need_job(emu: AzureEmulator, m: dict[str, str]) -> Job:
    _need_exp(emu, m)
    job = emu.world.jobs.get((m["rg"].lower(), m["ws"], m["exp"], m["job"]))
    if job is None:
        raise ArmError(404, "ResourceNotFound", f"The job '{m['job']}' was not found.")
    return job


def _mounts(emu: AzureEmulator, properties: dict[str, Any]) -> tuple[dict[str, tuple[str, str]], Any, list]:
    """relativeMountPath -> (account, share); the first mount whose key is wrong; problems to refuse."""
    mounts: dict[str, tuple[str, str]] = {}
    mount_error = None
    problems: list[dict[str, Any]] = []
    shares = (properties.get("mountVolumes") or {}).get("azureFileShares") or []
    for index, mount in enumerate(shares):
        where = f"properties.mountVolumes.azureFileShares[{index}]"
        match = _FILE_URL.fullmatch(mount.get("azureFileUrl") or "")
        if not match:
            problems.append(
                {
                    "code": "InvalidAzureFileUrl",
                    "target": f"{where}.azureFileUrl",
                    "message": "not an Azure Files share URL",
                }
            )
            continue
        account = match["host_account"] or match["path_account"]
        if mount.get("accountName") and mount["accountName"] != account:
            problems.append(
                {
                    "code": "AccountNameMismatch",
                    "target": f"{where}.accountName",
                    "message": "differs from the URL's account",
                }
            )
        credentials = mount.get("credentials") or {}
        if not (credentials.get("accountKey") or credentials.get("accountKeySecretReference")):
            problems.append(
                {
                    "code": "MissingStorageCredentials",
                    "target": f"{where}.credentials",
                    "message": "give accountKey or accountKeySecretReference",
                }
            )
            continue
        record = emu.world.accounts.get(account)
        if (
            record is None
            or credentials.get("accountKey") not in record.keys
            or match["share"] not in record.shares
        ):
            mount_error = mount_error or {
                "code": "AzureFileShareMountFailed",
                "message": f"Failed to mount Azure File share {match['share']}: "
                "the account, share or key was refused.",
                "details": [{"name": "AzureFileUrl", "value": mount.get("azureFileUrl")}],
            }
        mounts[(mount.get("relativeMountPath") or "").strip("/")] = (account, match["share"])
    return mounts, mount_error, problems


async def job_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    world = emu.world
    key = (m["rg"].lower(), m["ws"], m["exp"], m["job"])
    if request.method == "PUT":
        _need_exp(emu, m)
        _check_name("job", m["job"])
        if key in world.jobs:
            raise ArmError(
                409,
                "JobAlreadyExists",
                f"A job named '{m['job']}' already exists in experiment '{m['exp']}'.",
            )
        properties = (await _body(request)).get("properties") or {}
        cluster_id = ((properties.get("cluster") or {}).get("id") or "").rstrip("/")
        cluster_match = re.search(
            r"/resourceGroups/([^/]+)/providers/Microsoft\.BatchAI/workspaces/([^/]+)/clusters/([^/]+)$",
            cluster_id,
            re.I,
        )
        problems: list[dict[str, Any]] = []
        cluster = None
        if cluster_match:
            cluster = world.clusters.get((cluster_match[1].lower(), cluster_match[2], cluster_match[3]))
        if cluster is None:
            problems.append(
                {
                    "code": "ClusterNotFound",
                    "target": "properties.cluster.id",
                    "message": f"no cluster at '{cluster_id}'",
                }
            )
        node_count = properties.get("nodeCount")
        if not isinstance(node_count, int) or node_count < 1:
            problems.append(
                {
                    "code": "InvalidNodeCount",
                    "target": "properties.nodeCount",
                    "message": "nodeCount must be 1 or more",
                }
            )
        elif cluster is not None and node_count > max(cluster.target, 1):
            problems.append(
                {
                    "code": "NodeCountExceedsClusterSize",
                    "target": "properties.nodeCount",
                    "message": f"the job asks for {node_count} nodes; "
                    f"cluster '{cluster.name}' has {cluster.target}",
                }
            )
        mounts, mount_error, mount_problems = _mounts(emu, properties)
        problems += mount_problems
        prefix = properties.get("stdOutErrPathPrefix") or ""
        probe = Job(
            key=key,
            properties={},
            cluster=("", "", ""),
            node_count=1,
            segment="",
            output_share=("", ""),
            output_dir="",
            mounts=mounts,
        )
        where = world.resolve(probe, prefix)
        if where is None:
            problems.append(
                {
                    "code": "InvalidStdOutErrPathPrefix",
                    "target": "properties.stdOutErrPathPrefix",
                    "message": "must be under $AZ_BATCHAI_JOB_MOUNT_ROOT/<relativeMountPath> "
                    "of a mounted share",
                }
            )
        if problems:
            raise ArmError(400, "BadRequest", "The job definition is invalid.", problems)
        assert cluster is not None and where is not None
        _rg, ws, exp, name = key
        segment = f"{emu.subscription}/{m['rg']}/workspaces/{ws}/experiments/{exp}/jobs/{name}/{uuid.uuid4()}"
        job = Job(
            key=key,
            properties=properties,
            cluster=(cluster.resource_group.lower(), cluster.workspace, cluster.name),
            node_count=node_count,
            segment=segment,
            output_share=(where[0], where[1]),
            output_dir=f"{where[2]}/{segment}".strip("/"),
            mounts=mounts,
            mount_error=mount_error,
        )
        world.jobs[key] = job

        def done() -> None:
            job.provisioning = "succeeded"

        return _async_accepted(emu, world.start_operation(done).id)
    job = _need_job(emu, m)
    if request.method == "GET":
        return _json(_job_body(emu, job))
    if request.method == "DELETE":
        op = world.start_operation(
            lambda: world.release_nodes(world.jobs.pop(key)) if key in world.jobs else None
        )
        return _location_accepted(emu, op.id)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def job_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    _need_exp(emu, m)
    prefix = (m["rg"].lower(), m["ws"], m["exp"])
    return _page(emu, request, [_job_body(emu, j) for k, j in emu.world.jobs.items() if k[:3] == prefix])


async def job_terminate(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    job = _need_job(emu, m)
    emu.world.terminate(job)
    op = emu.world.start_operation(None, delay=emu.world.timings.terminate + emu.world.timings.tick * 3)
    return _location_accepted(emu, op.id)


async def job_output_files(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    job = _need_job(emu, m)
    query = request.query
    directory_id = query.get("outputdirectoryid")
    if not directory_id:
        raise ArmError(400, "MissingRequiredQueryParameter", "outputdirectoryid is required.")
    if directory_id == "stdouterr":
        account, share_name = job.output_share
        base = f"{job.output_dir}/stdouterr"
    else:
        outputs = {item.get("id"): item for item in job.properties.get("outputDirectories") or []}
        if directory_id not in outputs:
            raise ArmError(
                400,
                "InvalidOutputDirectoryId",
                f"The job has no output directory '{directory_id}'.",
                [
                    {
                        "code": "InvalidOutputDirectoryId",
                        "target": "outputdirectoryid",
                        "message": "use stdouterr or an id from outputDirectories",
                    }
                ],
            )
        where = emu.world.resolve(job, outputs[directory_id].get("pathPrefix") or "")
        if where is None:
            return _json({"value": []})
        account, share_name = where[0], where[1]
        suffix = (outputs[directory_id].get("pathSuffix") or "").strip("/")
        base = "/".join(part for part in (where[2], job.segment, "outputs", suffix) if part)
    directory = (query.get("directory") or ".").strip("/")
    if directory not in ("", "."):
        base = f"{base}/{directory}"
    minutes = int(query.get("linkexpiryinminutes") or 60)
    lifetime = emu.world.timings.sas_lifetime
    expiry = now_dt() + (timedelta(seconds=lifetime) if lifetime is not None else timedelta(minutes=minutes))
    expiry = emu.link_expiry(expiry.replace(microsecond=0) + timedelta(seconds=1))  # `se` has whole seconds
    record = emu.world.accounts.get(account)
    share = emu.world.account_share(account, share_name)
    if record is None or share is None:
        return _json({"value": []})
    entries = []
    for path in sorted(share.directories):
        if path.startswith(base + "/") and "/" not in path[len(base) + 1 :]:
            entries.append(
                {
                    "name": path.rsplit("/", 1)[-1],
                    "fileType": "directory",
                    "properties": {"lastModified": iso(now_dt())},
                }
            )
    for path, item in sorted(share.files.items()):
        if path.startswith(base + "/") and "/" not in path[len(base) + 1 :]:
            sas = file_sas_query(account, share_name, path, record.keys[0], expiry)
            emu.record_link(sas)
            entries.append(
                {
                    "name": path.rsplit("/", 1)[-1],
                    "fileType": "file",
                    "downloadUrl": f"{emu.base_url}/{account}/{share_name}/{path}?{sas}",
                    "properties": {"lastModified": iso(item.modified), "contentLength": len(item.data)},
                }
            )
    return _page(emu, request, entries)


async def remote_login(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    cluster = _need_cluster(emu, m)
    nodes = [
        {"nodeId": node.id, "ipAddress": "10.0.0.4", "port": 50000 + index}
        for index, node in enumerate(cluster.nodes)
    ]
    return _json({"value": nodes})


ROUTES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(SUB + r"/providers/emulator/asyncoperations/(?P<op>[^/]+)$", re.I), async_operation),
    (re.compile(SUB + r"/providers/emulator/operationresults/(?P<op>[^/]+)$", re.I), operation_result),
    (re.compile(SUB + r"/resourcegroups$", re.I), group_list),
    (re.compile(RG + r"$", re.I), group_item),
    (re.compile(SUB + r"/providers/microsoft\.storage/storageaccounts$", re.I), account_list),
    (re.compile(RG + r"/providers/microsoft\.storage/storageaccounts$", re.I), account_list),
    (re.compile(STORAGE + r"/listkeys$", re.I), account_keys),
    (re.compile(STORAGE + r"$", re.I), account_item),
    (re.compile(SUB + r"/providers/microsoft\.batchai/workspaces$", re.I), ws_list),
    (re.compile(RG + r"/providers/microsoft\.batchai/workspaces$", re.I), ws_list),
    (re.compile(WS + r"$", re.I), ws_item),
    (re.compile(WS + r"/experiments$", re.I), exp_list),
    (re.compile(EXP + r"$", re.I), exp_item),
    (re.compile(WS + r"/clusters$", re.I), cluster_list),
    (re.compile(CLUSTER + r"/listremotelogininformation$", re.I), remote_login),
    (re.compile(CLUSTER + r"$", re.I), cluster_item),
    (re.compile(EXP + r"/jobs$", re.I), job_list),
    (re.compile(JOB + r"/terminate$", re.I), job_terminate),
    (re.compile(JOB + r"/listoutputfiles$", re.I), job_output_files),
    (re.compile(JOB + r"$", re.I), job_item),
]

# Routes other modules serve through the same authentication (ml.py: Azure ML, Key Vault).
EXTRA_ROUTES: list[tuple[re.Pattern[str], Handler]] = []


async def handle(emu: AzureEmulator, request: web.Request) -> web.StreamResponse:
    """Authenticate, find the route, and answer (errors as ARM error documents)."""
    try:
        authorization = request.headers.get("Authorization", "")
        if authorization != f"Bearer {emu.token}":
            raise ArmError(
                401,
                "InvalidAuthenticationToken" if authorization else "AuthenticationFailed",
                "The access token is invalid."
                if authorization
                else "Authentication failed. The 'Authorization' header is missing.",
            )
        path = request.path.rstrip("/")
        for pattern, handler in ROUTES + EXTRA_ROUTES:
            match = pattern.match(path)
            if match:
                if match.groupdict().get("sub") not in (None, emu.subscription):
                    raise ArmError(
                        404, "SubscriptionNotFound", f"The subscription '{match['sub']}' could not be found."
                    )
                if "api-version" not in request.query and handler not in (async_operation, operation_result):
                    raise ArmError(
                        400,
                        "MissingApiVersionParameter",
                        "The api-version query parameter (?api-version=) is required for all requests.",
                    )
                return await handler(emu, request, match.groupdict())
        raise ArmError(404, "InvalidResourceType", f"No route for {request.method} {path}.")
    except ArmError as error:
        return error.response()


_ = time  # the module's clock is the world's
