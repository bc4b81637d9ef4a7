"""Resource groups, workspaces, experiments and clusters through the ARM management clients.

Long-running operations (`begin_*`) are awaited to completion with the SDK's ARM poller, which honours the
service's Retry-After and otherwise polls at `BAI_POLL_INTERVAL`.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from tui.backends.batchai import convert
from tui.backends.batchai.clients import AzureClients
from tui.backends.batchai.errors import azure_errors
from tui.core.errors import BaiError
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


def default_ssh_public_key() -> str:
    """The user's ~/.ssh public key, as `--generate-ssh-keys` would use; else a throwaway one.

    A throwaway key (its private half discarded) still satisfies the service's rule that an admin account has
    a key or a password; nobody can log in to the nodes then, which is what giving no key asks for.
    """
    for name in ("id_rsa.pub", "id_ed25519.pub", "id_ecdsa.pub"):
        path = Path.home() / ".ssh" / name
        if path.is_file():
            return path.read_text().strip()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


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
            raise BaiError(f"--target {target_node_count}: a cluster needs 0 or more nodes")
        if vm_priority not in ("dedicated", "lowpriority"):
            raise BaiError(f"--vm-priority {vm_priority!r}: use dedicated or lowpriority")
        parameters = ClusterCreateParameters(
            vm_size=vm_size,
            vm_priority=vm_priority,
            scale_settings=ScaleSettings(manual=ManualScaleSettings(target_node_count=target_node_count)),
            user_account_settings=UserAccountSettings(
                admin_user_name=admin_user_name or _local_user_name(),
                admin_user_ssh_public_key=ssh_public_key or default_ssh_public_key(),
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
            raise BaiError(f"--target {target_node_count}: a cluster needs 0 or more nodes")
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
