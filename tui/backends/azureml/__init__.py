"""The Azure Machine Learning backend: AmlCompute clusters and MPI command jobs over ARM REST (2025-12-01).

A thin async REST layer of our own on azure-core / azure-mgmt-core pipelines, not `azure-ai-ml` (sync-only,
about 2 s to import, and it hides node counts and every rank's log but rank 0). Import-light on purpose:
nothing here loads until `open_azureml_backend` is called, so the console and the other backends never pay.

Settings (environment): AZURE_SUBSCRIPTION_ID; BAI_ACCESS_TOKEN (sent to ARM and to run history), else
DefaultAzureCredential with the scopes https://management.azure.com/.default and https://ml.azure.com/.default;
BAI_ARM_ENDPOINT; BAI_FILE_ENDPOINT; AZURE_BATCHAI_STORAGE_ACCOUNT / AZURE_BATCHAI_STORAGE_KEY; and the
batchai backend's polling and retry settings. The run-history host is read from the workspace's discoveryUrl.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.backends.base import Backend


def open_azureml_backend(env: Mapping[str, str] | None = None) -> Backend:
    """Build the backend from the environment (or `env`); raises BaiError naming any bad setting."""
    from tui.backends.azureml.backend import AzureMLBackend
    from tui.backends.azureml.settings import AzureMLSettings

    return AzureMLBackend(AzureMLSettings.from_env(env))
