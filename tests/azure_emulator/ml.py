"""Azure Machine Learning (Microsoft.MachineLearningServices 2025-12-01), as its REST spec and examples say.

* ARM: workspaces (PUT needs an existing storage account and key vault; `properties.discoveryUrl`), AmlCompute
  computes that scale between min and max over time (nodeStateCounts, allocationState, listNodes), AzureFile
  datastores, environment versions, command jobs (status NotStarted -> Queued -> Preparing -> Running ->
  Finalizing -> Completed | Failed; cancel -> CancelRequested -> Canceled), Microsoft.KeyVault vaults and
  `GET /subscriptions/{sub}` (tenantId). Long-running operations as ARM does them; lists paged by nextLink.
* Discovery (`/azureml-discovery/...`, no auth) names the run-history host (`api`).
* Run history (`/azureml-api/history/v1.0/...runs/{job}/details`, bearer token) hands out `logFiles`, one SAS
  URL per file, expiring; the blobs (`/azureml-blobs/...`) answer Range requests, 416 past the end, 403 for
  an expired or revoked signature.

A job replays a real horovodrun log split per rank (`[r]<stdout>:` / `[1,r]<stdout>:` prefixes removed)
into `user_logs/std_log_process_{r}.txt`, cut at arbitrary byte offsets over `Timings.replay` seconds; no
training runs. Tests steer it through `MLWorld.outcomes` (a job that fails on one rank) and `quota_error`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import random
import re
import secrets
import shlex
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from aiohttp import web

from . import arm
from .arm import ArmError, _body, _json, _location_accepted, _page
from .world import DATA, MODEL_BYTES, held_time, iso, now_dt

if TYPE_CHECKING:
    from .server import AzureEmulator

API = "2025-12-01"
SUB = arm.SUB
RG = arm.RG
MLWS = RG + r"/providers/microsoft\.machinelearningservices/workspaces/(?P<ws>[^/]+)"
TENANT = "72f988bf-0000-4000-8000-00000000e1e1"
_PREFIX = re.compile(rb"\[(\d+)(?:,(\d+))?\]<(stdout|stderr)>:")
_OUTPUT_REF = re.compile(r"\$\{\{outputs\.([A-Za-z0-9_]+)\}\}")
QUEUED_STATES = ("NotStarted", "Queued")


def split_ranks(log: bytes) -> dict[int, bytes]:
    """Each rank's bytes of a horovodrun log: the text after each `[r]<stdout>:` prefix, up to the next."""
    parts: dict[int, bytearray] = {}
    matches = list(_PREFIX.finditer(log))
    for match, following in itertools.zip_longest(matches, matches[1:]):
        rank = int(match.group(2) if match.group(2) is not None else match.group(1))
        end = following.start() if following is not None else len(log)
        parts.setdefault(rank, bytearray()).extend(log[match.end() : end])
    return {rank: bytes(data) for rank, data in sorted(parts.items())}


def _cut(data: bytes, pieces: int, seed: str) -> list[bytes]:
    if pieces <= 1 or len(data) < pieces:
        return [data]
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), pieces - 1))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@dataclass
class Node:
    id: str
    state: str  # preparing, idle, running, leaving, preempted, unusable
    until: float = 0.0
    job: str | None = None
    idle_since: float = field(default_factory=time.monotonic)


@dataclass
class Compute:
    name: str
    location: str
    vm_size: str
    priority: str
    min_nodes: int
    max_nodes: int
    idle_time: str
    body: dict[str, Any]
    state: str = "Creating"
    created: datetime = field(default_factory=now_dt)
    modified: datetime = field(default_factory=now_dt)
    nodes: list[Node] = field(default_factory=list)
    allocation: str = "Steady"
    allocation_time: datetime = field(default_factory=now_dt)
    target: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MLJob:
    name: str
    properties: dict[str, Any]
    compute: str
    instances: int
    per_instance: int
    created: datetime = field(default_factory=now_dt)
    status: str = "NotStarted"
    status_at: float = field(default_factory=time.monotonic)
    start: datetime | None = None
    end: datetime | None = None
    nodes: list[str] = field(default_factory=list)
    logs: dict[str, bytearray] = field(default_factory=dict)
    pieces: list[tuple[float, str, bytes]] = field(default_factory=list)
    finish_at: float = 0.0
    outcome: tuple[str, dict[str, Any] | None] = ("Completed", None)
    cancel_at: float | None = None
    replay_from: float = 0.0  # when its output starts (after preparation): a pause only holds it from there


@dataclass
class MLWorkspace:
    resource_group: str
    name: str
    location: str
    storage_account: str
    key_vault: str
    state: str = "Creating"
    created: datetime = field(default_factory=now_dt)
    computes: dict[str, Compute] = field(default_factory=dict)
    datastores: dict[str, dict[str, Any]] = field(default_factory=dict)
    environments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, MLJob] = field(default_factory=dict)


@dataclass
class Outcome:
    """How a named job ends instead of succeeding: replay `log`, then fail naming `rank`."""

    log: bytes
    rank: int
    message: str


class MLWorld:
    def __init__(self, emu: AzureEmulator) -> None:
        self.emu = emu
        self.workspaces: dict[tuple[str, str], MLWorkspace] = {}
        self.vaults: dict[tuple[str, str], dict[str, Any]] = {}
        self.signing_key = secrets.token_bytes(32)
        self.outcomes: dict[str, Outcome] = {}  # job name -> how it fails
        self.quota_error: dict[str, Any] | None = None  # set: computes cannot grow, and say why
        self.pad_rank_names = False  # std_log_process_00.txt instead of std_log_process_0.txt
        self.idle_scale = 1.0  # emulated seconds of nodeIdleTimeBeforeScaleDown per real second
        self.log = (DATA / "horovod-np2-stdout.txt").read_bytes()
        emu.world.group_hooks.append(self.delete_group)

    @property
    def timings(self) -> Any:
        return self.emu.world.timings

    def delete_group(self, group: str) -> None:
        for key in [k for k in self.workspaces if k[0] == group.lower()]:
            del self.workspaces[key]
        for key in [k for k in self.vaults if k[0] == group.lower()]:
            del self.vaults[key]

    # ---- computes ----

    def demand(self, ws: MLWorkspace, compute: Compute) -> int:
        return sum(
            job.instances
            for job in ws.jobs.values()
            if job.compute == compute.name and job.status in ("Queued", "Preparing", "Running", "Finalizing")
        )

    def reconcile(self, ws: MLWorkspace, compute: Compute, now: float) -> None:
        for node in compute.nodes:
            if node.state == "preparing" and now >= node.until:
                node.state, node.idle_since = "idle", now
        compute.nodes = [n for n in compute.nodes if not (n.state == "leaving" and now >= n.until)]
        wanted = max(compute.min_nodes, min(compute.max_nodes, self.demand(ws, compute)))
        active = [n for n in compute.nodes if n.state != "leaving"]
        if self.quota_error is not None and len(active) < wanted:
            compute.errors = [{"error": dict(self.quota_error)}]
            wanted = len(active)
        elif self.quota_error is None:
            compute.errors = []
        compute.target = wanted
        if len(active) < wanted:
            for _ in range(wanted - len(active)):
                index = len(compute.nodes) + 1
                node_id = f"tvm-{random.randrange(10**9, 10**10)}_{index}-{now_dt():%Y%m%dt%H%M%Sz}"
                compute.nodes.append(Node(node_id, "preparing", now + self.timings.node_prepare))
        elif len(active) > wanted:
            idle_for = _seconds(compute.idle_time) * self.idle_scale
            surplus = len(active) - wanted
            for node in active:
                if surplus and node.state == "idle" and now - node.idle_since >= idle_for:
                    node.state, node.until, surplus = "leaving", now + self.timings.node_leave, surplus - 1
        busy = any(n.state in ("preparing", "leaving") for n in compute.nodes)
        settled = len([n for n in compute.nodes if n.state != "leaving"]) == wanted
        state = "Steady" if settled and not busy else "Resizing"
        if compute.allocation != state:
            compute.allocation, compute.allocation_time = state, now_dt()

    # ---- jobs ----

    def rank_name(self, rank: int, count: int) -> str:
        width = max(2, len(str(count - 1))) if self.pad_rank_names else 1
        return f"user_logs/std_log_process_{rank:0{width}d}.txt"

    def _resolve(self, ws: MLWorkspace, job: MLJob, text: str) -> tuple[Any, str] | None:
        """(share, path) of `${{outputs.x}}/rest` on the datastore's share, if it is one."""
        match = _OUTPUT_REF.search(text)
        if not match:
            return None
        output = (job.properties.get("outputs") or {}).get(match.group(1)) or {}
        store = re.match(r"azureml://datastores/([^/]+)/paths/(.*)$", str(output.get("uri") or ""))
        if not store or store.group(1) not in ws.datastores:
            return None
        props = ws.datastores[store.group(1)]["properties"]
        share = self.emu.world.account_share(props.get("accountName", ""), props.get("fileShareName", ""))
        rest = text[match.end() :].strip("/")
        base = store.group(2).strip("/")
        return share, "/".join(part for part in (base, rest) if part)

    def start(self, ws: MLWorkspace, job: MLJob, compute: Compute, now: float) -> None:
        idle = [n for n in compute.nodes if n.state == "idle"][: job.instances]
        for node in idle:
            node.state, node.job = "running", job.name
        job.nodes = [n.id for n in idle]
        job.status, job.status_at, job.start = "Preparing", now, now_dt()
        job.logs["system_logs/lifecycler/execution-wrapper.log"] = bytearray(
            f"{now_dt():%Y-%m-%dT%H:%M:%S} starting the job on {len(idle)} node(s)\n".encode()
        )
        count = job.instances * job.per_instance
        outcome = self.outcomes.get(job.name)
        ranks = split_ranks(outcome.log if outcome else self.log) or {0: b""}
        begin = job.replay_from = now + self.timings.job_preparation
        command = str(job.properties.get("command") or "")
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        script = next((w for w in words if w.endswith(".py")), None)
        where = self._resolve(ws, job, script) if script else None
        if where is not None and (where[0] is None or where[1] not in where[0].files):
            message = f"python: can't open file '{script}': [Errno 2] No such file or directory\n"
            job.pieces = [(begin, self.rank_name(0, count), message.encode())]
            job.finish_at = begin
            job.outcome = ("Failed", {"code": "UserError", "message": message.strip()})
            return
        job.pieces = []
        for rank in range(count):
            data = ranks[sorted(ranks)[rank % len(ranks)]]
            name = self.rank_name(rank, count)
            cut = _cut(data, self.timings.replay_pieces, f"{job.name}/{rank}")
            step = self.timings.replay / max(len(cut), 1)
            job.pieces += [(begin + step * (i + 1), name, piece) for i, piece in enumerate(cut)]
        job.pieces.sort(key=lambda item: item[0])
        job.finish_at = begin + self.timings.replay
        if outcome is not None:
            job.outcome = ("Failed", {"code": "UserError", "message": outcome.message})
        else:
            job.outcome = ("Completed", None)

    def _save_model(self, ws: MLWorkspace, job: MLJob) -> None:
        try:
            words = shlex.split(str(job.properties.get("command") or ""))
        except ValueError:
            return
        for index, word in enumerate(words):
            target = None
            if word.startswith("--dir="):
                target = word.split("=", 1)[1]
            elif word == "--dir" and index + 1 < len(words):
                target = words[index + 1]
            where = target and self._resolve(ws, job, target)
            if where and where[0] is not None:
                base = f"{where[1]}/" if where[1] else ""
                where[0].write(f"{base}saved_models/keras_cifar10_trained_model.h5", MODEL_BYTES)

    def release(self, ws: MLWorkspace, job: MLJob) -> None:
        compute = ws.computes.get(job.compute)
        now = time.monotonic()
        for node in compute.nodes if compute else []:
            if node.job == job.name:
                node.state, node.job, node.idle_since = "idle", None, now

    def finish(self, ws: MLWorkspace, job: MLJob, status: str, error: dict[str, Any] | None) -> None:
        job.status, job.end, job.pieces = status, now_dt(), []
        if error is not None:
            job.properties["_error"] = error
        log = job.logs.setdefault("system_logs/lifecycler/execution-wrapper.log", bytearray())
        log += f"{now_dt():%Y-%m-%dT%H:%M:%S} the job ended {status}\n".encode()
        if status == "Completed":
            self._save_model(ws, job)
        self.release(ws, job)

    def advance(self, ws: MLWorkspace, job: MLJob, now: float) -> None:
        if job.status == "CancelRequested":
            if job.cancel_at is not None and now >= job.cancel_at:
                self.finish(ws, job, "Canceled", None)
            return
        if job.status == "Preparing" and now >= job.status_at + self.timings.job_preparation:
            job.status, job.status_at = "Running", now
        if job.status not in ("Running", "Finalizing"):
            return
        if self.emu.world.paused_since is not None:
            return
        while job.pieces and job.pieces[0][0] <= now:
            _, name, data = job.pieces.pop(0)
            job.logs.setdefault(name, bytearray()).extend(data)
        if not job.pieces and now >= job.finish_at:
            if job.status == "Running":
                job.status, job.status_at = "Finalizing", now
            elif now >= job.status_at + self.timings.terminate:
                self.finish(ws, job, *job.outcome)

    def resume(self, paused_since: float) -> None:
        """After a pause (see World.pause) each running job goes on where it was held: its output and its end
        come later by the time it was held, so a test that held it still sees it run out, not end at once."""
        now = time.monotonic()
        for ws in self.workspaces.values():
            for job in ws.jobs.values():
                if job.status == "Finalizing":
                    job.status_at += held_time(paused_since, job.status_at, now)
                held = held_time(paused_since, job.replay_from, now)
                job.pieces = [(due + held, name, piece) for due, name, piece in job.pieces]
                job.finish_at += held

    def tick(self) -> None:
        now = time.monotonic()
        for ws in list(self.workspaces.values()):
            for job in ws.jobs.values():
                if job.status == "NotStarted" and now >= job.status_at + self.timings.operation:
                    job.status, job.status_at = "Queued", now
            for compute in ws.computes.values():
                if compute.state == "Succeeded":
                    self.reconcile(ws, compute, now)
            for job in list(ws.jobs.values()):
                self.advance(ws, job, now)
            queued = sorted((j for j in ws.jobs.values() if j.status == "Queued"), key=lambda j: j.created)
            for job in queued:
                compute = ws.computes.get(job.compute)
                if compute is None:
                    continue
                if len([n for n in compute.nodes if n.state == "idle"]) >= job.instances:
                    self.start(ws, job, compute, now)

    # ---- SAS links ----

    def sign(self, path: str, expiry: str) -> str:
        digest = hmac.new(self.signing_key, f"{path}\n{expiry}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def link(self, ws: MLWorkspace, job: MLJob, name: str) -> str:
        lifetime = self.timings.sas_lifetime
        expiry = now_dt() + timedelta(seconds=lifetime if lifetime is not None else 3600)
        expiry = self.emu.link_expiry(expiry.replace(microsecond=0) + timedelta(seconds=1))
        se = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        account = ws.storage_account.rsplit("/", 1)[-1]
        path = f"/azureml-blobs/{account}/{ws.name}/ExperimentRun/dcid.{job.name}/{name}"
        query = urlencode({"sv": "2019-07-07", "sr": "b", "sp": "r", "se": se, "sig": self.sign(path, se)})
        self.emu.record_link(query)
        return f"{self.emu.base_url}{path}?{query}"


def _seconds(duration: str) -> float:
    match = re.match(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$", duration or "", re.IGNORECASE)
    if not match:
        return 120.0
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


# ---------------------------------------------------------------- ARM handlers


def _ml(emu: AzureEmulator) -> MLWorld:
    return emu.ml  # type: ignore[attr-defined, no-any-return]


def _ws_id(emu: AzureEmulator, ws: MLWorkspace) -> str:
    return (
        f"/subscriptions/{emu.subscription}/resourceGroups/{ws.resource_group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{ws.name}"
    )


def _system(created: datetime) -> dict[str, Any]:
    return {
        "createdAt": iso(created),
        "createdBy": "bai-emulator",
        "createdByType": "User",
        "lastModifiedAt": iso(created),
    }


def _ws_body(emu: AzureEmulator, ws: MLWorkspace) -> dict[str, Any]:
    return {
        "id": _ws_id(emu, ws),
        "name": ws.name,
        "type": "Microsoft.MachineLearningServices/workspaces",
        "location": ws.location,
        "identity": {"type": "SystemAssigned", "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, ws.name))},
        "sku": {"name": "Basic", "tier": "Basic"},
        "properties": {
            "friendlyName": ws.name,
            "storageAccount": ws.storage_account,
            "keyVault": ws.key_vault,
            "provisioningState": ws.state,
            "discoveryUrl": f"{emu.base_url}/azureml-discovery/{ws.location}/discovery",
            "workspaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, _ws_id(emu, ws))),
            "mlFlowTrackingUri": f"azureml://{ws.location}.api.azureml.ms/mlflow/v1.0{_ws_id(emu, ws)}",
        },
        "systemData": _system(ws.created),
    }


def _need_ws(emu: AzureEmulator, m: dict[str, str]) -> MLWorkspace:
    arm._need_group(emu, m["rg"])
    ws = _ml(emu).workspaces.get((m["rg"].lower(), m["ws"].lower()))
    if ws is None or ws.state == "Deleting":
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.MachineLearningServices/workspaces/{m['ws']}' under resource group "
            f"'{m['rg']}' was not found.",
        )
    return ws


def _async_created(emu: AzureEmulator, body: dict[str, Any], op_id: str, status: int = 201) -> web.Response:
    arm._arm_failure(emu, op_id)
    url = f"{emu.base_url}/subscriptions/{emu.subscription}/providers/Emulator/asyncoperations/{op_id}"
    return _json(body, status=status, headers={"Azure-AsyncOperation": url + f"?api-version={API}"})


def _resource_exists(emu: AzureEmulator, resource_id: str, kind: str) -> bool:
    parts = resource_id.split("/")
    try:
        group = parts[parts.index("resourceGroups") + 1] if "resourceGroups" in parts else None
        name = parts[-1]
    except (ValueError, IndexError):
        return False
    if kind == "storage":
        account = emu.world.accounts.get(name)
        return account is not None and (group is None or account.resource_group.lower() == group.lower())
    return (str(group).lower(), name.lower()) in _ml(emu).vaults


async def subscription(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    return _json(
        {
            "id": f"/subscriptions/{emu.subscription}",
            "subscriptionId": emu.subscription,
            "tenantId": TENANT,
            "displayName": "bai emulator",
            "state": "Enabled",
        }
    )


async def vault_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    arm._need_group(emu, m["rg"])
    key = (m["rg"].lower(), m["vault"].lower())
    vaults = _ml(emu).vaults
    if request.method == "PUT":
        body = await _body(request)
        props = body.get("properties") or {}
        if not body.get("location") or not props.get("tenantId") or not (props.get("sku") or {}).get("name"):
            raise ArmError(
                400, "BadRequest", "location, properties.tenantId and properties.sku are required."
            )
        if props["tenantId"] != TENANT:
            raise ArmError(400, "BadRequest", f"The tenant '{props['tenantId']}' is not the subscription's.")
        status = 200 if key in vaults else 201
        vaults[key] = {
            "id": f"/subscriptions/{emu.subscription}/resourceGroups/{m['rg']}"
            f"/providers/Microsoft.KeyVault/vaults/{m['vault']}",
            "name": m["vault"],
            "type": "Microsoft.KeyVault/vaults",
            "location": body["location"],
            "properties": {**props, "vaultUri": f"https://{m['vault']}.vault.azure.net/"},
        }
        return _json(vaults[key], status=status)
    if key not in vaults:
        raise ArmError(
            404, "ResourceNotFound", f"The Resource 'Microsoft.KeyVault/vaults/{m['vault']}' was not found."
        )
    if request.method == "GET":
        return _json(vaults[key])
    if request.method == "DELETE":
        del vaults[key]
        return web.Response(status=200)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def ws_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    ml = _ml(emu)
    world = emu.world
    key = (m["rg"].lower(), m["ws"].lower())
    if request.method == "PUT":
        group = arm._need_group(emu, m["rg"])
        body = await _body(request)
        props = body.get("properties") or {}
        location = body.get("location")
        if not location:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        for field_name, kind in (("storageAccount", "storage"), ("keyVault", "vault")):
            value = props.get(field_name)
            if not value:
                raise ArmError(400, "ValidationError", f"properties.{field_name} is required.")
            if not _resource_exists(emu, str(value), kind):
                raise ArmError(
                    400, "ValidationError", f"The {field_name} '{value}' does not exist or cannot be reached."
                )
        existing = ml.workspaces.get(key)
        if existing is not None and existing.storage_account.lower() != str(props["storageAccount"]).lower():
            raise ArmError(400, "ValidationError", "The storage account of a workspace cannot be changed.")
        ws = existing or MLWorkspace(
            group.name, m["ws"], location, str(props["storageAccount"]), str(props["keyVault"])
        )
        ml.workspaces[key] = ws

        def done() -> None:
            ws.state = "Succeeded"

        op = world.start_operation(done)
        return _async_created(emu, _ws_body(emu, ws), op.id, 200 if existing else 201)
    ws = _need_ws(emu, m)
    if request.method == "GET":
        return _json(_ws_body(emu, ws))
    if request.method == "DELETE":
        ws.state = "Deleting"
        op = world.start_operation(lambda: ml.workspaces.pop(key, None))
        return _location_accepted(emu, op.id)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def ws_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    if m.get("rg"):
        arm._need_group(emu, m["rg"])
    items = [
        _ws_body(emu, ws)
        for (group, _), ws in _ml(emu).workspaces.items()
        if ws.state != "Deleting" and (not m.get("rg") or group == m["rg"].lower())
    ]
    return _page(emu, request, items)


def _compute_body(emu: AzureEmulator, ws: MLWorkspace, compute: Compute) -> dict[str, Any]:
    counts = {f"{state}NodeCount": 0 for state in ("idle", "running", "preparing", "unusable", "leaving")}
    counts["preemptedNodeCount"] = 0
    for node in compute.nodes:
        counts[f"{node.state}NodeCount"] += 1
    inner = {
        "vmSize": compute.vm_size,
        "vmPriority": compute.priority,
        "osType": "Linux",
        "isolatedNetwork": False,
        "scaleSettings": {
            "maxNodeCount": compute.max_nodes,
            "minNodeCount": compute.min_nodes,
            "nodeIdleTimeBeforeScaleDown": compute.idle_time,
        },
        "remoteLoginPortPublicAccess": (compute.body.get("remoteLoginPortPublicAccess") or "NotSpecified"),
        "allocationState": compute.allocation,
        "allocationStateTransitionTime": iso(compute.allocation_time),
        "errors": compute.errors or None,
        "currentNodeCount": len([n for n in compute.nodes if n.state != "leaving"]),
        "targetNodeCount": compute.target,
        "nodeStateCounts": counts,
        "enableNodePublicIp": True,
    }
    if compute.body.get("userAccountCredentials"):
        inner["userAccountCredentials"] = {
            "adminUserName": compute.body["userAccountCredentials"].get("adminUserName")
        }
    return {
        "id": f"{_ws_id(emu, ws)}/computes/{compute.name}",
        "name": compute.name,
        "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "location": compute.location,
        "properties": {
            "computeType": "AmlCompute",
            "provisioningState": compute.state,
            "createdOn": iso(compute.created),
            "modifiedOn": iso(compute.modified),
            "isAttachedCompute": False,
            "properties": inner,
        },
    }


def _scale(settings: Any) -> tuple[int, int, str]:
    if not isinstance(settings, dict) or "maxNodeCount" not in settings:
        raise ArmError(
            400, "ValidationError", "properties.properties.scaleSettings.maxNodeCount is required."
        )
    try:
        low, high = int(settings.get("minNodeCount") or 0), int(settings["maxNodeCount"])
    except (TypeError, ValueError):
        raise ArmError(400, "ValidationError", "scaleSettings node counts must be integers.") from None
    if low < 0 or high < low:
        raise ArmError(
            400, "ValidationError", f"minNodeCount {low} must be 0 or more and at most maxNodeCount {high}."
        )
    return low, high, str(settings.get("nodeIdleTimeBeforeScaleDown") or "PT120S")


def _need_compute(emu: AzureEmulator, ws: MLWorkspace, name: str) -> Compute:
    compute = ws.computes.get(name.lower())
    if compute is None or compute.state == "Deleting":
        raise ArmError(404, "ResourceNotFound", f"Compute '{name}' was not found in workspace {ws.name}.")
    return compute


async def compute_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    ws = _need_ws(emu, m)
    world = emu.world
    name = m["compute"]
    if request.method == "PUT":
        body = await _body(request)
        props = body.get("properties") or {}
        inner = props.get("properties") or {}
        if not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if props.get("computeType") != "AmlCompute":
            raise ArmError(400, "ValidationError", "properties.computeType must be AmlCompute here.")
        if not inner.get("vmSize"):
            raise ArmError(400, "ValidationError", "properties.properties.vmSize is required.")
        priority = inner.get("vmPriority") or "Dedicated"
        if priority not in ("Dedicated", "LowPriority"):
            raise ArmError(
                400, "ValidationError", f"vmPriority '{priority}' is not Dedicated or LowPriority."
            )
        low, high, idle = _scale(inner.get("scaleSettings"))
        if name.lower() in ws.computes:
            raise ArmError(409, "Conflict", f"Compute '{name}' already exists; update it with PATCH.")
        compute = Compute(name, body["location"], inner["vmSize"], priority, low, high, idle, inner)
        ws.computes[name.lower()] = compute

        def done() -> None:
            compute.state = "Succeeded"

        op = world.start_operation(done)
        return _async_created(emu, _compute_body(emu, ws, compute), op.id)
    compute = _need_compute(emu, ws, name)
    if request.method == "GET":
        return _json(_compute_body(emu, ws, compute))
    if request.method == "PATCH":
        body = await _body(request)
        scale = ((body.get("properties") or {}).get("properties") or {}).get("scaleSettings")
        low, high, idle = _scale(scale)
        compute.min_nodes, compute.max_nodes, compute.idle_time = low, high, idle
        compute.modified = now_dt()
        op = world.start_operation(None)
        return _async_created(emu, _compute_body(emu, ws, compute), op.id, 200)
    if request.method == "DELETE":
        if request.query.get("underlyingResourceAction") not in ("Delete", "Detach"):
            raise ArmError(
                400, "ValidationError", "The underlyingResourceAction query parameter is required."
            )
        compute.state = "Deleting"
        op = world.start_operation(lambda: ws.computes.pop(name.lower(), None))
        return _location_accepted(emu, op.id)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def compute_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    ws = _need_ws(emu, m)
    items = [_compute_body(emu, ws, c) for c in ws.computes.values() if c.state != "Deleting"]
    return _page(emu, request, items)


async def compute_nodes(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    ws = _need_ws(emu, m)
    compute = _need_compute(emu, ws, m["compute"])
    nodes = []
    for index, node in enumerate(compute.nodes):
        entry: dict[str, Any] = {
            "nodeId": node.id,
            "privateIpAddress": f"10.0.0.{4 + index}",
            "publicIpAddress": f"20.0.0.{4 + index}",
            "port": 50000 + index,
            "nodeState": node.state,
        }
        if node.job:
            entry["runId"] = node.job
        nodes.append(entry)
    return _json({"nodes": nodes})


async def datastore_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    ws = _need_ws(emu, m)
    name = m["store"]
    if not re.fullmatch(r"[a-z0-9_]{1,255}", name):
        raise ArmError(
            400, "ValidationError", f"Datastore name '{name}' may hold lower-case letters, digits and _."
        )
    if request.method == "PUT":
        body = await _body(request)
        props = body.get("properties") or {}
        kind = props.get("datastoreType")
        if kind not in ("AzureFile", "AzureBlob"):
            raise ArmError(400, "ValidationError", f"datastoreType '{kind}' is not supported here.")
        account = emu.world.accounts.get(str(props.get("accountName")))
        if account is None:
            raise ArmError(
                400, "ValidationError", f"Storage account '{props.get('accountName')}' was not found."
            )
        key = ((props.get("credentials") or {}).get("secrets") or {}).get("key")
        if key not in account.keys:
            raise ArmError(
                400, "ValidationError", "The account key does not match the storage account's keys."
            )
        if kind == "AzureFile" and props.get("fileShareName") not in account.shares:
            raise ArmError(
                400, "ValidationError", f"File share '{props.get('fileShareName')}' was not found."
            )
        status = 200 if name in ws.datastores else 201
        ws.datastores[name] = body
    elif name not in ws.datastores:
        raise ArmError(404, "ResourceNotFound", f"Datastore '{name}' was not found.")
    elif request.method == "DELETE":
        del ws.datastores[name]
        return web.Response(status=200)
    else:
        status = 200
    props = dict(ws.datastores[name]["properties"])
    props["credentials"] = {"credentialsType": "AccountKey"}  # secrets are never read back
    return _json(
        {"id": f"{_ws_id(emu, ws)}/datastores/{name}", "name": name, "properties": props}, status=status
    )


async def environment_version(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    ws = _need_ws(emu, m)
    key = (m["env"], m["version"])
    if request.method == "PUT":
        body = await _body(request)
        if not (body.get("properties") or {}).get("image"):
            raise ArmError(400, "ValidationError", "properties.image is required.")
        if key in ws.environments and ws.environments[key]["properties"] != body["properties"]:
            raise ArmError(409, "Conflict", "An environment version cannot be changed; create a new version.")
        status = 200 if key in ws.environments else 201
        ws.environments[key] = body
    elif key not in ws.environments:
        raise ArmError(404, "ResourceNotFound", f"Environment {key[0]}:{key[1]} was not found.")
    else:
        status = 200
    return _json(
        {
            "id": f"{_ws_id(emu, ws)}/environments/{key[0]}/versions/{key[1]}",
            "name": key[1],
            "properties": ws.environments[key]["properties"],
        },
        status=status,
    )


def _job_body(emu: AzureEmulator, ws: MLWorkspace, job: MLJob) -> dict[str, Any]:
    props = {k: v for k, v in job.properties.items() if not k.startswith("_")}
    props["status"] = job.status
    props["services"] = {
        "Studio": {"jobServiceType": "Studio", "endpoint": f"https://ml.azure.com/runs/{job.name}"}
    }
    return {
        "id": f"{_ws_id(emu, ws)}/jobs/{job.name}",
        "name": job.name,
        "type": "Microsoft.MachineLearningServices/workspaces/jobs",
        "properties": props,
        "systemData": _system(job.created),
    }


def _need_job(emu: AzureEmulator, ws: MLWorkspace, name: str) -> MLJob:
    job = ws.jobs.get(name)
    if job is None:
        raise ArmError(404, "UserError", f"Job {name} was not found in workspace {ws.name}.")
    return job


def _validate_job(emu: AzureEmulator, ws: MLWorkspace, props: dict[str, Any]) -> tuple[str, int, int]:
    if props.get("jobType") != "Command":
        raise ArmError(400, "UserError", "jobType must be Command here.")
    for required in ("command", "environmentId", "computeId"):
        if not props.get(required):
            raise ArmError(400, "UserError", f"properties.{required} is required.")
    compute = str(props["computeId"]).rstrip("/").rsplit("/", 1)[-1]
    if not str(props["computeId"]).lower().startswith(_ws_id(emu, ws).lower() + "/computes/"):
        raise ArmError(
            400, "UserError", f"computeId '{props['computeId']}' is not a compute of this workspace."
        )
    if compute.lower() not in ws.computes:
        raise ArmError(400, "UserError", f"Compute {compute} was not found in workspace {ws.name}.")
    environment = str(props["environmentId"])
    if environment.startswith("/subscriptions/"):
        match = re.search(r"/environments/([^/]+)/versions/([^/]+)$", environment)
        if not match or (match.group(1), match.group(2)) not in ws.environments:
            raise ArmError(400, "UserError", f"Environment '{environment}' was not found.")
    elif not environment.startswith("azureml://registries/"):
        raise ArmError(400, "UserError", f"environmentId '{environment}' is not an environment's id.")
    for key, output in (props.get("outputs") or {}).items():
        uri = str((output or {}).get("uri") or "")
        store = re.match(r"azureml://datastores/([^/]+)/paths/", uri)
        if not store or store.group(1) not in ws.datastores:
            raise ArmError(400, "UserError", f"outputs.{key}: datastore in '{uri}' was not found.")
    for ref in _OUTPUT_REF.findall(str(props["command"])):
        if ref not in (props.get("outputs") or {}):
            raise ArmError(
                400, "UserError", f"The command refers to ${{{{outputs.{ref}}}}}, which is not an output."
            )
    instances = int((props.get("resources") or {}).get("instanceCount") or 1)
    distribution = props.get("distribution") or {}
    per_instance = 1
    if distribution:
        if distribution.get("distributionType") != "Mpi":
            raise ArmError(400, "UserError", "distribution.distributionType must be Mpi here.")
        per_instance = int(distribution.get("processCountPerInstance") or 1)
    return compute.lower(), instances, per_instance


async def job_item(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.StreamResponse:
    ws = _need_ws(emu, m)
    name = m["job"]
    if request.method == "PUT":
        body = await _body(request)
        props = body.get("properties") or {}
        if name in ws.jobs:
            raise ArmError(
                400,
                "UserError",
                f"A job named {name} already exists; the properties of a job cannot be changed.",
            )
        compute, instances, per_instance = _validate_job(emu, ws, props)
        job = MLJob(name, dict(props), compute, instances, per_instance)
        ws.jobs[name] = job
        return _json(_job_body(emu, ws, job), status=201)
    job = _need_job(emu, ws, name)
    if request.method == "GET":
        return _json(_job_body(emu, ws, job))
    if request.method == "DELETE":
        ml = _ml(emu)

        def gone() -> None:
            ml.release(ws, job)
            ws.jobs.pop(name, None)

        op = emu.world.start_operation(gone)
        return _location_accepted(emu, op.id)
    raise ArmError(405, "MethodNotAllowed", f"{request.method} is not supported here.")


async def job_list(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    ws = _need_ws(emu, m)
    return _page(emu, request, [_job_body(emu, ws, job) for job in ws.jobs.values()])


async def job_cancel(emu: AzureEmulator, request: web.Request, m: dict[str, str]) -> web.Response:
    ws = _need_ws(emu, m)
    job = _need_job(emu, ws, m["job"])
    if job.status in ("Completed", "Failed", "Canceled", "NotResponding"):
        raise ArmError(
            400, "UserError", f"Job {job.name} has already ended ({job.status}) and cannot be canceled."
        )
    if job.status != "CancelRequested":
        job.status = "CancelRequested"
        job.cancel_at = time.monotonic() + emu.world.timings.terminate
    op = emu.world.start_operation(None)
    return _location_accepted(emu, op.id)


ROUTES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(SUB + r"$", re.I), subscription),
    (re.compile(RG + r"/providers/microsoft\.keyvault/vaults/(?P<vault>[^/]+)$", re.I), vault_item),
    (re.compile(SUB + r"/providers/microsoft\.machinelearningservices/workspaces$", re.I), ws_list),
    (re.compile(RG + r"/providers/microsoft\.machinelearningservices/workspaces$", re.I), ws_list),
    (re.compile(MLWS + r"$", re.I), ws_item),
    (re.compile(MLWS + r"/computes$", re.I), compute_list),
    (re.compile(MLWS + r"/computes/(?P<compute>[^/]+)/listnodes$", re.I), compute_nodes),
    (re.compile(MLWS + r"/computes/(?P<compute>[^/]+)$", re.I), compute_item),
    (re.compile(MLWS + r"/datastores/(?P<store>[^/]+)$", re.I), datastore_item),
    (
        re.compile(MLWS + r"/environments/(?P<env>[^/]+)/versions/(?P<version>[^/]+)$", re.I),
        environment_version,
    ),
    (re.compile(MLWS + r"/jobs$", re.I), job_list),
    (re.compile(MLWS + r"/jobs/(?P<job>[^/]+)/cancel$", re.I), job_cancel),
    (re.compile(MLWS + r"/jobs/(?P<job>[^/]+)$", re.I), job_item),
]


# ---------------------------------------------------------------- discovery, run history, blobs


async def discovery(emu: AzureEmulator, request: web.Request) -> web.Response:
    api = f"{emu.base_url}/azureml-api"
    return _json(
        {
            "api": api,
            "catalog": api,
            "experimentation": api,
            "history": api,
            "hyperdrive": api,
            "modelmanagement": api,
            "pipelines": api,
            "studio": "https://ml.azure.com",
        }
    )


_HISTORY = re.compile(
    r"^/azureml-api/history/v1\.0/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)/runs/(?P<run>[^/]+)/details$",
    re.IGNORECASE,
)


def _history_error(status: int, code: str, message: str) -> web.Response:
    return _json({"error": {"code": code, "message": message, "details": []}}, status=status)


async def history(emu: AzureEmulator, request: web.Request) -> web.Response:
    if request.headers.get("Authorization", "") != f"Bearer {emu.token}":
        return _history_error(401, "AuthenticationFailed", "The access token is missing or invalid.")
    match = _HISTORY.match(request.path)
    if match is None or request.method != "GET":
        return _history_error(404, "NotFound", f"No route for {request.method} {request.path}.")
    if match["sub"] != emu.subscription:
        return _history_error(
            404, "SubscriptionNotFound", f"The subscription '{match['sub']}' could not be found."
        )
    ml = _ml(emu)
    ws = ml.workspaces.get((match["rg"].lower(), match["ws"].lower()))
    job = ws.jobs.get(match["run"]) if ws is not None else None
    if ws is None or job is None:
        return _history_error(404, "RunNotFound", f"Run {match['run']} was not found.")
    body: dict[str, Any] = {
        "runId": job.name,
        "runUuid": str(uuid.uuid5(uuid.NAMESPACE_URL, job.name)),
        "status": job.status,
        "target": job.compute,
        "startTimeUtc": iso(job.start),
        "endTimeUtc": iso(job.end),
        "logFiles": {name: ml.link(ws, job, name) for name in sorted(job.logs)},
    }
    error = job.properties.get("_error")
    if error:
        body["error"] = {"error": error}
    return _json(body)


def _parse_range(header: str | None) -> tuple[int, int | None] | None:
    match = re.match(r"^bytes=(\d+)-(\d*)$", header or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None


def _blob_error(status: int, code: str, message: str) -> web.Response:
    text = '<?xml version="1.0" encoding="utf-8"?>'
    text += f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return web.Response(status=status, body=text.encode(), content_type="application/xml")


async def blob(emu: AzureEmulator, request: web.Request) -> web.StreamResponse:
    ml = _ml(emu)
    query = parse_qs(request.query_string)
    se, sig = (query.get("se") or [""])[0], (query.get("sig") or [""])[0]
    if not hmac.compare_digest(ml.sign(request.path, se), sig):
        return _blob_error(403, "AuthenticationFailed", "Signature did not match.")
    try:
        expiry = datetime.fromisoformat(se.replace("Z", "+00:00"))
    except ValueError:
        return _blob_error(403, "AuthenticationFailed", "Signed expiry time is not a valid date.")
    if now_dt() >= expiry or emu.link_revoked(se):
        with emu._lock:
            emu.sas_refused += 1
        return _blob_error(403, "AuthenticationFailed", "Signed expiry time has passed.")
    parts = request.path.split("/")
    # /azureml-blobs/{account}/{ws}/ExperimentRun/dcid.{job}/{name...}
    ws_name, run, name = parts[3], parts[5].removeprefix("dcid."), "/".join(parts[6:])
    ws = next((w for w in ml.workspaces.values() if w.name == ws_name), None)
    job = ws.jobs.get(run) if ws is not None else None
    data = bytes(job.logs[name]) if job is not None and name in job.logs else None
    if data is None:
        return _blob_error(404, "BlobNotFound", "The specified blob does not exist.")
    headers = {"Accept-Ranges": "bytes", "Content-Type": "text/plain", "x-ms-blob-type": "AppendBlob"}
    wanted = _parse_range(request.headers.get("Range") or request.headers.get("x-ms-range"))
    size = len(data)
    if request.method == "HEAD":
        return web.Response(status=200, headers={**headers, "Content-Length": str(size)})
    status, body = 200, data
    if wanted is not None:
        start, end = wanted
        if start >= size:
            refused = _blob_error(416, "InvalidRange", "The range specified is invalid for the current size.")
            refused.headers["Content-Range"] = f"bytes */{size}"
            return refused
        end = size - 1 if end is None else min(end, size - 1)
        status, body = 206, data[start : end + 1]
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    from .files import DROP_AFTER

    drop_after = request.get(DROP_AFTER)
    if drop_after is None:
        return web.Response(status=status, body=body, headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: min(drop_after, len(body))])
    if request.transport is not None:
        request.transport.close()
    return response


async def dispatch(emu: AzureEmulator, request: web.Request) -> web.StreamResponse | None:
    """The answer for an Azure ML data-plane path, or None when the path is not one."""
    path = request.path
    if path.startswith("/azureml-discovery/"):
        return await discovery(emu, request)
    if path.startswith("/azureml-api/"):
        return await history(emu, request)
    if path.startswith("/azureml-blobs/"):
        return await blob(emu, request)
    return None


arm.EXTRA_ROUTES.extend(ROUTES)
