"""The Azure Batch AI backend (azure-mgmt-batchai aio, azure-storage-file-share aio, azure-identity aio).

Import-light on purpose: the SDKs load only when `open_batchai_backend` is called, so the console and
`bai --backend local` never pay for them.

Settings (environment): AZURE_SUBSCRIPTION_ID; BAI_ACCESS_TOKEN (else DefaultAzureCredential);
BAI_ARM_ENDPOINT (https://management.azure.com); BAI_FILE_ENDPOINT (https://{account}.file.core.windows.net);
AZURE_BATCHAI_STORAGE_ACCOUNT / AZURE_BATCHAI_STORAGE_KEY; BAI_POLL_INTERVAL, BAI_RETRY_TOTAL,
BAI_RETRY_BACKOFF, BAI_LINK_EXPIRY_MINUTES, BAI_LINK_REFRESH_MARGIN, BAI_STREAM_POLL_INTERVAL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.backends.base import Backend


def open_batchai_backend(env: Mapping[str, str] | None = None) -> Backend:
    """Build the backend from the environment (or `env`); raises BaiError naming any bad setting."""
    from tui.backends.batchai.backend import BatchAIBackend
    from tui.backends.batchai.settings import BatchAISettings

    return BatchAIBackend(BatchAISettings.from_env(env))
