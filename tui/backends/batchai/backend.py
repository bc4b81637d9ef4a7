"""The Azure Batch AI backend: the six services over one set of SDK clients."""

from __future__ import annotations

from tui.backends.batchai.arm import (
    AzureClusterService,
    AzureExperimentService,
    AzureGroupService,
    AzureWorkspaceService,
)
from tui.backends.batchai.clients import AzureClients
from tui.backends.batchai.jobs import AzureJobService
from tui.backends.batchai.settings import BatchAISettings
from tui.backends.batchai.storage import AzureStorageService


class BatchAIBackend:
    """`Backend` on Azure: Batch AI (2018-05-01) for compute, Azure Files for shares."""

    name = "batchai"

    def __init__(self, settings: BatchAISettings) -> None:
        self.settings = settings
        self.clients = AzureClients(settings)
        self.groups = AzureGroupService(self.clients)
        self.storage = AzureStorageService(self.clients)
        self.workspaces = AzureWorkspaceService(self.clients)
        self.experiments = AzureExperimentService(self.clients)
        self.clusters = AzureClusterService(self.clients)
        self.jobs = AzureJobService(self.clients, self.storage)

    async def close(self) -> None:
        await self.clients.close()

    async def __aenter__(self) -> BatchAIBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
