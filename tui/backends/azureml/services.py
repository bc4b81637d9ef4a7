"""Workspaces, experiments and compute clusters of Azure Machine Learning over ARM REST (2025-12-01).

A workspace needs a storage account and a key vault beside it (as `az ml workspace create` makes them); an
experiment is only the `experimentName` of jobs in Azure ML, so the ones a user creates are remembered under
`$BAI_HOME` and listed with those the workspace's jobs name. A cluster is an AmlCompute whose size is its
scale settings (min = max = the target), with Batch AI's node-state counts read back from the compute.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tui.backends.azureml import convert
from tui.backends.azureml.durations import iso_seconds
from tui.backends.azureml.errors import RETIRED_SIZES
from tui.backends.azureml.rest import MLRest
from tui.core.errors import BaiError, Hint, NotFoundError
from tui.core.model import ClusterRef, Experiment, ExperimentRef, Workspace

STORAGE_API = "2023-05-01"
KEYVAULT_API = "2023-07-01"
RESOURCES_API = "2022-12-01"
# At most this long an idle node waits before it goes, once a cluster is resized to 0.
SCALE_DOWN_IDLE = "PT2M"
_SCALE_DOWN_SECONDS = 120


def derived_name(workspace: str, limit: int = 24, suffix: str = "") -> str:
    """A storage-account-style name from a workspace name: lower-case letters and digits, at most `limit`."""
    base = re.sub(r"[^a-z0-9]", "", workspace.lower())
    base = base[: limit - len(suffix)] + suffix
    return base if len(base) >= 3 else (base + "ws0")[:3] if not suffix else base


class MLWorkspaceService:
    def __init__(self, rest: MLRest) -> None:
        self._rest = rest

    async def _group_location(self, resource_group: str) -> str:
        data = await self._rest.arm(
            "GET",
            self._rest.group_path(resource_group),
            action=f"reading resource group {resource_group}",
            api_version=RESOURCES_API,
        )
        return str((data or {}).get("location") or "")

    async def _storage_id(self, resource_group: str, name: str, location: str, create: bool) -> str:
        """The ARM id of storage account `name` (anywhere in the subscription); with `create`, one missing
        is made in `resource_group`."""
        items = await self._rest.arm_list(
            f"/subscriptions/{self._rest.subscription}/providers/Microsoft.Storage/storageAccounts",
            action="listing storage accounts",
            api_version=STORAGE_API,
        )
        for item in items:
            if str(item.get("name", "")).lower() == name.lower():
                return str(item["id"])
        if not create:
            raise NotFoundError(
                f"storage account {name!r} (the one given, or AZURE_BATCHAI_STORAGE_ACCOUNT) was not found "
                "(leave both unset and bai makes one)",
                hint=Hint("create", "storageaccount", {"name": name}),
            )
        path = f"{self._rest.group_path(resource_group)}/providers/Microsoft.Storage/storageAccounts/{name}"
        body = {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": location}
        await self._rest.arm(
            "PUT", path, body, action=f"creating storage account {name}", api_version=STORAGE_API
        )
        return path

    async def _key_vault_id(self, resource_group: str, workspace: str, location: str) -> str:
        """A key vault beside the workspace (the workspace keeps its secrets there), named from it."""
        digest = hashlib.sha256(f"{self._rest.subscription}/{resource_group}/{workspace}".lower().encode())
        name = "kv" + derived_name(workspace, 14, "") + digest.hexdigest()[:8]
        path = f"{self._rest.group_path(resource_group)}/providers/Microsoft.KeyVault/vaults/{name}"
        subscription = await self._rest.arm(
            "GET",
            f"/subscriptions/{self._rest.subscription}",
            action="reading the subscription's tenant",
            api_version=RESOURCES_API,
        )
        tenant = str((subscription or {}).get("tenantId") or "")
        if not tenant:
            raise BaiError("reading the subscription's tenant failed: the answer has no tenantId; retry")
        body = {
            "location": location,
            "properties": {
                "tenantId": tenant,
                "sku": {"family": "A", "name": "standard"},
                "accessPolicies": [],
                "enableRbacAuthorization": True,
                "enableSoftDelete": True,
            },
        }
        await self._rest.arm("PUT", path, body, action=f"creating key vault {name}", api_version=KEYVAULT_API)
        return path

    async def create(
        self,
        resource_group: str,
        name: str,
        location: str | None = None,
        storage_account: str | None = None,
    ) -> Workspace:
        path = self._rest.workspace_path(resource_group, name)
        try:
            existing = await self._rest.arm("GET", path, action=f"reading workspace {name}")
        except NotFoundError as error:
            if "ResourceGroupNotFound" in str(error):
                raise
            existing = None
        if existing:  # as on ARM, creating what exists is fine: it is left as it is
            return convert.workspace(existing, resource_group)
        location = location or await self._group_location(resource_group)
        account = storage_account or self._rest.azure.storage_account
        storage_id = await self._storage_id(
            resource_group, account or derived_name(name), location, create=account is None
        )
        vault_id = await self._key_vault_id(resource_group, name, location)
        body = {
            "location": location,
            "identity": {"type": "SystemAssigned"},
            "properties": {"friendlyName": name, "storageAccount": storage_id, "keyVault": vault_id},
        }
        data = await self._rest.arm("PUT", path, body, action=f"creating workspace {name}")
        return convert.workspace(data or {}, resource_group)

    async def get(self, resource_group: str, name: str) -> Workspace:
        data = await self._rest.arm(
            "GET", self._rest.workspace_path(resource_group, name), action=f"reading workspace {name}"
        )
        return convert.workspace(data or {}, resource_group)

    async def list(self, resource_group: str | None = None) -> list[Workspace]:
        base = (
            self._rest.group_path(resource_group)
            if resource_group
            else f"/subscriptions/{self._rest.subscription}"
        )
        items = await self._rest.arm_list(
            f"{base}/providers/Microsoft.MachineLearningServices/workspaces", action="listing workspaces"
        )
        return [convert.workspace(item) for item in items]

    async def delete(self, resource_group: str, name: str) -> None:
        await self._rest.arm(
            "DELETE", self._rest.workspace_path(resource_group, name), action=f"deleting workspace {name}"
        )


class ExperimentBook:
    """The experiments users created, per workspace, in one JSON file under `$BAI_HOME`."""

    def __init__(self, home: str | None, subscription: str) -> None:
        if home:
            root = Path(home).expanduser()
        else:
            from tui.backends.local.home import default_home

            root = default_home()
        self._path = root / "azureml" / "experiments.json"
        self._subscription = subscription

    def _key(self, resource_group: str, workspace: str) -> str:
        return f"{self._subscription}/{resource_group}/{workspace}".lower()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self._path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(f".{time.monotonic_ns()}.tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
        temporary.replace(self._path)

    def names(self, resource_group: str, workspace: str) -> dict[str, str]:
        return dict(self._read().get(self._key(resource_group, workspace), {}))

    def add(self, ref: ExperimentRef) -> str:
        data = self._read()
        book = data.setdefault(self._key(ref.resource_group, ref.workspace), {})
        created = book.setdefault(ref.name, datetime.now(UTC).isoformat())
        self._write(data)
        return created

    def remove(self, ref: ExperimentRef) -> bool:
        data = self._read()
        book = data.get(self._key(ref.resource_group, ref.workspace), {})
        found = book.pop(ref.name, None) is not None
        if found:
            self._write(data)
        return found


class MLExperimentService:
    def __init__(self, rest: MLRest, jobs: Any) -> None:
        self._rest = rest
        self._jobs = jobs
        self._book: ExperimentBook = jobs.book

    def _experiment(self, ref: ExperimentRef, created: str | None) -> Experiment:
        return Experiment(
            name=ref.name,
            resource_group=ref.resource_group,
            workspace=ref.workspace,
            creation_time=convert.parse_time(created),
        )

    async def create(self, ref: ExperimentRef) -> Experiment:
        await self._rest.arm(
            "GET",
            self._rest.workspace_path(ref.resource_group, ref.workspace),
            action=f"reading workspace {ref.workspace}",
        )
        return self._experiment(ref, self._book.add(ref))

    async def _all(self, resource_group: str, workspace: str) -> dict[str, str | None]:
        found: dict[str, str | None] = dict(self._book.names(resource_group, workspace))
        for body in await self._jobs.list_bodies(resource_group, workspace):
            name = (body.get("properties") or {}).get("experimentName")
            if name and name not in found:
                found[name] = ((body.get("systemData") or {}).get("createdAt")) or None
        return found

    async def get(self, ref: ExperimentRef) -> Experiment:
        found = await self._all(ref.resource_group, ref.workspace)
        if ref.name not in found:
            raise NotFoundError(
                f"experiment {ref.name!r} was not found in workspace {ref.workspace}; "
                f"`bai experiment list -g {ref.resource_group} -w {ref.workspace}` shows what exists"
            )
        return self._experiment(ref, found[ref.name])

    async def list(self, resource_group: str, workspace: str) -> list[Experiment]:
        found = await self._all(resource_group, workspace)
        return [
            self._experiment(ExperimentRef(resource_group, workspace, name), created)
            for name, created in sorted(found.items())
        ]

    async def delete(self, ref: ExperimentRef) -> None:
        """Forget the experiment and delete its jobs (as Batch AI deleted an experiment's jobs with it)."""
        await self.get(ref)
        for job in await self._jobs.list(ref.resource_group, ref.workspace, ref.name):
            await self._jobs.delete(job.ref)
        self._book.remove(ref)


def _vm_priority(value: str) -> str:
    if value not in ("dedicated", "lowpriority"):
        raise BaiError(": use dedicated or lowpriority", argument="vm_priority", value=value)
    return "Dedicated" if value == "dedicated" else "LowPriority"


class MLClusterService:
    def __init__(self, rest: MLRest) -> None:
        self._rest = rest

    def _path(self, ref: ClusterRef) -> str:
        workspace = self._rest.workspace_path(ref.resource_group, ref.workspace)
        return f"{workspace}/computes/{quote(ref.name, safe='')}"

    def _cluster(self, body: Any, ref: ClusterRef) -> convert.AmlCluster:
        if not isinstance(body, dict):
            raise BaiError(f"reading cluster {ref.name} failed: the service answered no compute document")
        compute_type = str((body.get("properties") or {}).get("computeType") or "AmlCompute")
        if compute_type.lower() != "amlcompute":
            raise BaiError(
                f"compute {ref.name!r} is a {compute_type}, not a cluster (AmlCompute); "
                f"`bai cluster list -g {ref.resource_group} -w {ref.workspace}` shows the clusters"
            )
        return convert.cluster(body, ref.resource_group, ref.workspace)

    async def create(
        self,
        ref: ClusterRef,
        vm_size: str,
        target_node_count: int,
        vm_priority: str = "dedicated",
        admin_user_name: str | None = None,
        ssh_public_key: str | None = None,
    ) -> convert.AmlCluster:
        if target_node_count < 0:
            raise BaiError(": a cluster needs 0 or more nodes", argument="target", value=target_node_count)
        priority = _vm_priority(vm_priority)
        warnings = []
        newer = RETIRED_SIZES.get(vm_size.lower())
        if newer:
            warnings.append(
                f"--vm-size {vm_size} is retired on Azure and will likely be refused; its equivalent today "
                f"is {newer} (sent as given)"
            )
        workspace = await self._rest.arm(
            "GET",
            self._rest.workspace_path(ref.resource_group, ref.workspace),
            action=f"reading workspace {ref.workspace}",
        )
        inner: dict[str, Any] = {
            "vmSize": vm_size,
            "vmPriority": priority,
            "scaleSettings": {
                "minNodeCount": target_node_count,
                "maxNodeCount": target_node_count,
                "nodeIdleTimeBeforeScaleDown": SCALE_DOWN_IDLE,
            },
            "remoteLoginPortPublicAccess": "Enabled" if ssh_public_key else "NotSpecified",
        }
        if admin_user_name and ssh_public_key:
            inner["userAccountCredentials"] = {
                "adminUserName": admin_user_name,
                "adminUserSshPublicKey": ssh_public_key,
            }
        body = {
            "location": (workspace or {}).get("location"),
            "properties": {"computeType": "AmlCompute", "properties": inner},
        }
        data = await self._rest.arm("PUT", self._path(ref), body, action=f"creating cluster {ref.name}")
        cluster = self._cluster(data, ref)
        cluster.warnings = warnings
        return cluster

    async def get(self, ref: ClusterRef) -> convert.AmlCluster:
        data = await self._rest.arm("GET", self._path(ref), action=f"reading cluster {ref.name}")
        return self._cluster(data, ref)

    async def list(self, resource_group: str, workspace: str) -> list[convert.AmlCluster]:
        items = await self._rest.arm_list(
            f"{self._rest.workspace_path(resource_group, workspace)}/computes",
            action=f"listing clusters of workspace {workspace}",
        )
        return [
            convert.cluster(item, resource_group, workspace)
            for item in items
            if str((item.get("properties") or {}).get("computeType", "")).lower() == "amlcompute"
        ]

    async def resize(self, ref: ClusterRef, target_node_count: int) -> convert.AmlCluster:
        """min = max = N; N = 0 keeps the max (a new job can still scale it up) and lets idle nodes go
        within two minutes."""
        if target_node_count < 0:
            raise BaiError(": a cluster needs 0 or more nodes", argument="target", value=target_node_count)
        current = await self.get(ref)
        idle = current.node_idle_time_before_scale_down or SCALE_DOWN_IDLE
        if target_node_count == 0:
            seconds = iso_seconds(idle)
            if seconds is None or seconds > _SCALE_DOWN_SECONDS:
                idle = SCALE_DOWN_IDLE
            scale = {
                "minNodeCount": 0,
                "maxNodeCount": current.max_node_count,
                "nodeIdleTimeBeforeScaleDown": idle,
            }
        else:
            scale = {
                "minNodeCount": target_node_count,
                "maxNodeCount": target_node_count,
                "nodeIdleTimeBeforeScaleDown": idle,
            }
        body = {"properties": {"properties": {"scaleSettings": scale}}}
        await self._rest.arm("PATCH", self._path(ref), body, action=f"resizing cluster {ref.name}")
        return await self.get(ref)

    async def delete(self, ref: ClusterRef) -> None:
        await self._rest.arm(
            "DELETE",
            self._path(ref) + "?underlyingResourceAction=Delete",
            action=f"deleting cluster {ref.name}",
        )
