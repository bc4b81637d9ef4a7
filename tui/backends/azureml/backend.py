"""The Azure ML backend: the six services over one REST layer (and the batchai backend's storage)."""

from __future__ import annotations

from tui.backends.azureml.jobs import MLJobService
from tui.backends.azureml.rest import MLRest
from tui.backends.azureml.services import MLClusterService, MLExperimentService, MLWorkspaceService
from tui.backends.azureml.settings import AzureMLSettings
from tui.backends.batchai.arm import AzureGroupService
from tui.backends.batchai.clients import AzureClients
from tui.backends.batchai.storage import AzureStorageService


class AzureMLBackend:
    """`Backend` on Azure Machine Learning: AmlCompute clusters, MPI command jobs, Azure Files shares."""

    name = "azureml"

    def __init__(self, settings: AzureMLSettings) -> None:
        self.settings = settings
        # Groups and storage are plain ARM + Azure Files: the batchai backend's services serve them, and
        # its credential (BAI_ACCESS_TOKEN, else DefaultAzureCredential) signs both of our scopes.
        self.clients = AzureClients(settings.azure)
        self.rest = MLRest(settings, self.clients.credential)
        self.groups = AzureGroupService(self.clients)
        self.storage = AzureStorageService(self.clients)
        self.workspaces = MLWorkspaceService(self.rest)
        self.jobs = MLJobService(self.rest, self.storage)
        self.experiments = MLExperimentService(self.rest, self.jobs)
        self.clusters = MLClusterService(self.rest)

    async def close(self) -> None:
        await self.rest.close()
        await self.clients.close()

    async def __aenter__(self) -> AzureMLBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
