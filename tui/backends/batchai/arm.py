"""Resource groups, workspaces, experiments and clusters through the ARM management clients.

Long-running operations (`begin_*`) are awaited to completion with the SDK's ARM poller, which honours the
service's Retry-After and otherwise polls at `BAI_POLL_INTERVAL`.
"""

from __future__ import annotations

import getpass

from tui.backends.batchai import convert
from tui.backends.batchai.clients import AzureClients
from tui.backends.batchai.errors import azure_errors
from tui.core.errors import BaiError, Hint
from tui.core.model import Cluster, ClusterRef, Experiment, ExperimentRef, ResourceGroup, Workspace


class AzureGroupService:
    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    async def create(self, name: str, location: str) -> ResourceGroup:
        with azure_errors(f"creating resource group {name}"):
            group = await self._clients.resources.resource_groups.create_or_update(
                name, {"location": location}
            )
        return convert.resource_group(group)

    async def get(self, name: str) -> ResourceGroup:
        with azure_errors(f"reading resource group {name}"):
            return convert.resource_group(await self._clients.resources.resource_groups.get(name))

    async def list(self) -> list[ResourceGroup]:
        with azure_errors("listing resource groups"):
            return [
                convert.resource_group(item) async for item in self._clients.resources.resource_groups.list()
            ]

    async def delete(self, name: str) -> None:
        with azure_errors(f"deleting resource group {name}"):
            poller = await self._clients.resources.resource_groups.begin_delete(name)
            await poller.result()


class AzureWorkspaceService:
    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    async def create(self, resource_group: str, name: str, location: str | None = None) -> Workspace:
        from azure.mgmt.batchai.models import WorkspaceCreateParameters

        if location is None:  # as az did: the workspace goes where its group is
            with azure_errors(f"reading resource group {resource_group}"):
                location = (await self._clients.resources.resource_groups.get(resource_group)).location
        with azure_errors(f"creating workspace {name}"):
            poller = await self._clients.batchai.workspaces.begin_create(
                resource_group, name, WorkspaceCreateParameters(location=location)
            )
            return convert.workspace(await poller.result())

    async def get(self, resource_group: str, name: str) -> Workspace:
        with azure_errors(f"reading workspace {name}"):
            return convert.workspace(await self._clients.batchai.workspaces.get(resource_group, name))

    async def list(self, resource_group: str | None = None) -> list[Workspace]:
        operations = self._clients.batchai.workspaces
        with azure_errors("listing workspaces"):
            pages = operations.list_by_resource_group(resource_group) if resource_group else operations.list()
            return [convert.workspace(item) async for item in pages]

    async def delete(self, resource_group: str, name: str) -> None:
        with azure_errors(f"deleting workspace {name}"):
            poller = await self._clients.batchai.workspaces.begin_delete(resource_group, name)
            await poller.result()


class AzureExperimentService:
    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    async def create(self, ref: ExperimentRef) -> Experiment:
        with azure_errors(f"creating experiment {ref.name}"):
            poller = await self._clients.batchai.experiments.begin_create(
                ref.resource_group, ref.workspace, ref.name
            )
            return convert.experiment(await poller.result())

    async def get(self, ref: ExperimentRef) -> Experiment:
        with azure_errors(f"reading experiment {ref.name}"):
            return convert.experiment(
                await self._clients.batchai.experiments.get(ref.resource_group, ref.workspace, ref.name)
            )

    async def list(self, resource_group: str, workspace: str) -> list[Experiment]:
        with azure_errors(f"listing experiments of workspace {workspace}"):
            pages = self._clients.batchai.experiments.list_by_workspace(resource_group, workspace)
            return [convert.experiment(item) async for item in pages]

    async def delete(self, ref: ExperimentRef) -> None:
        with azure_errors(f"deleting experiment {ref.name}"):
            poller = await self._clients.batchai.experiments.begin_delete(
                ref.resource_group, ref.workspace, ref.name
            )
            await poller.result()


def _local_user_name() -> str:
    """The admin account az created on the nodes: the local user's name (or azureuser if there is none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "azureuser"


class AzureClusterService:
    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    async def create(
        self,
        ref: ClusterRef,
        vm_size: str,
        target_node_count: int,
        vm_priority: str = "dedicated",
        admin_user_name: str | None = None,
        ssh_public_key: str | None = None,
    ) -> Cluster:
        from azure.mgmt.batchai.models import (
            ClusterCreateParameters,
            ManualScaleSettings,
            ScaleSettings,
            UserAccountSettings,
        )

        if target_node_count < 0:
            raise BaiError(": a cluster needs 0 or more nodes", argument="target", value=target_node_count)
        if vm_priority not in ("dedicated", "lowpriority"):
            raise BaiError(": use dedicated or lowpriority", argument="vm_priority", value=vm_priority)
        if not ssh_public_key:
            # The service wants a key (or a password) for the nodes' admin account; which key is the
            # front end's choice, by az's one policy (tui.core.operations.ssh_public_key), never a guess here.
            raise BaiError(
                "is required: the nodes' admin account needs one",
                argument="ssh_key",
                hint=Hint("give", "ssh_key", {"generate": "yes"}),
            )
        parameters = ClusterCreateParameters(
            vm_size=vm_size,
            vm_priority=vm_priority,
            scale_settings=ScaleSettings(manual=ManualScaleSettings(target_node_count=target_node_count)),
            user_account_settings=UserAccountSettings(
                admin_user_name=admin_user_name or _local_user_name(),
                admin_user_ssh_public_key=ssh_public_key,
            ),
        )
        with azure_errors(f"creating cluster {ref.name}"):
            poller = await self._clients.batchai.clusters.begin_create(
                ref.resource_group, ref.workspace, ref.name, parameters
            )
            return convert.cluster(await poller.result(), ref.resource_group, ref.workspace)

    async def get(self, ref: ClusterRef) -> Cluster:
        with azure_errors(f"reading cluster {ref.name}"):
            return convert.cluster(
                await self._clients.batchai.clusters.get(ref.resource_group, ref.workspace, ref.name),
                ref.resource_group,
                ref.workspace,
            )

    async def list(self, resource_group: str, workspace: str) -> list[Cluster]:
        with azure_errors(f"listing clusters of workspace {workspace}"):
            pages = self._clients.batchai.clusters.list_by_workspace(resource_group, workspace)
            return [convert.cluster(item, resource_group, workspace) async for item in pages]

    async def resize(self, ref: ClusterRef, target_node_count: int) -> Cluster:
        from azure.mgmt.batchai.models import ClusterUpdateParameters, ManualScaleSettings, ScaleSettings

        if target_node_count < 0:
            raise BaiError(": a cluster needs 0 or more nodes", argument="target", value=target_node_count)
        parameters = ClusterUpdateParameters(
            scale_settings=ScaleSettings(manual=ManualScaleSettings(target_node_count=target_node_count))
        )
        with azure_errors(f"resizing cluster {ref.name}"):
            updated = await self._clients.batchai.clusters.update(
                ref.resource_group, ref.workspace, ref.name, parameters
            )
        return convert.cluster(updated, ref.resource_group, ref.workspace)

    async def delete(self, ref: ClusterRef) -> None:
        with azure_errors(f"deleting cluster {ref.name}"):
            poller = await self._clients.batchai.clusters.begin_delete(
                ref.resource_group, ref.workspace, ref.name
            )
            await poller.result()
