"""What the Azure ML backend reads from the environment: the batchai backend's settings (subscription,
endpoints, token, storage account and key, retries, polling) plus the run-history scope and api-version."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from tui.backends.batchai.settings import DEFAULT_ARM_ENDPOINT, BatchAISettings, is_loopback_host
from tui.core.errors import BaiError

API_VERSION = "2025-12-01"
ML_SCOPE = "https://ml.azure.com/.default"
DEFAULT_ARM_SCOPE = "https://management.azure.com/.default"
# The curated environment with Horovod 0.28.1 and Open MPI 4.1 (as of 2025).
CURATED_ENVIRONMENT = "azureml://registries/azureml/environments/tensorflow-2.16-cuda12/labels/latest"


@dataclass(frozen=True, repr=False)  # BatchAISettings' own repr: never the token or the key
class SharedAzureSettings(BatchAISettings):
    """The batchai backend's settings, with ARM's token scope as Azure ML's sign-in names it."""

    @property
    def arm_scope(self) -> str:
        """https://management.azure.com/.default, also for an emulator on loopback (it stands in for Azure's
        ARM); another cloud's endpoint (BAI_ARM_ENDPOINT) gets its own `/.default`."""
        endpoint = self.arm_endpoint
        if endpoint == DEFAULT_ARM_ENDPOINT or is_loopback_host(urlsplit(endpoint).hostname):
            return DEFAULT_ARM_SCOPE
        return endpoint + "/.default"


@dataclass(frozen=True)
class AzureMLSettings:
    """The shared Azure settings and where the Azure ML backend keeps its own small state."""

    azure: BatchAISettings
    home: str | None = None  # $BAI_HOME: where created experiments are remembered

    def __repr__(self) -> str:  # never the token or key
        return f"AzureMLSettings({self.azure!r})"

    @property
    def arm_scope(self) -> str:
        return self.azure.arm_scope

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AzureMLSettings:
        env = os.environ if env is None else env
        if not (env.get("AZURE_SUBSCRIPTION_ID") or "").strip():
            raise BaiError(
                "AZURE_SUBSCRIPTION_ID is not set: the azureml backend needs the subscription to work in "
                "(az account show --query id -o tsv prints it)"
            )
        shared = BatchAISettings.from_env(env)
        azure = SharedAzureSettings(**{item.name: getattr(shared, item.name) for item in fields(shared)})
        return cls(azure=azure, home=(env.get("BAI_HOME") or "").strip() or None)
