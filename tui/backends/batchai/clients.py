"""The SDK clients the backend uses, built once each, lazily, with one retry and polling configuration.

Every ARM client gets the same credential, the loopback-aware bearer policy, the SDK's AsyncRetryPolicy
(429 with Retry-After, 5xx and dropped connections are retried) and the configured LRO polling interval.
The Files clients use the storage SDK's own exponential retry with the same budget.
"""

from __future__ import annotations

from typing import Any

from tui.backends.batchai.redact import SECRETS, guard_azure_loggers
from tui.backends.batchai.settings import BatchAISettings


class AzureClients:
    """Owner of the credential and the management clients; `close` releases their connections."""

    def __init__(self, settings: BatchAISettings) -> None:
        from tui.backends.batchai.credentials import make_credential

        self.settings = settings
        self.credential = make_credential(settings)
        self._batchai: Any = None
        self._resources: Any = None
        self._storage: Any = None
        self._share_services: dict[str, Any] = {}
        guard_azure_loggers()

    def _arm_kwargs(self) -> dict[str, Any]:
        from azure.core.pipeline.policies import AsyncRetryPolicy

        from tui.backends.batchai.credentials import LoopbackARMAuthenticationPolicy

        settings = self.settings
        return {
            "base_url": settings.arm_endpoint,
            "credential_scopes": [settings.arm_scope],
            "authentication_policy": LoopbackARMAuthenticationPolicy(self.credential, settings.arm_scope),
            "retry_policy": AsyncRetryPolicy(
                retry_total=settings.retry_total,
                retry_status=settings.retry_total,
                retry_connect=settings.retry_total,
                retry_read=settings.retry_total,
                retry_backoff_factor=settings.retry_backoff,
                retry_backoff_max=60,
            ),
            "polling_interval": settings.poll_interval,
        }

    @property
    def batchai(self) -> Any:
        if self._batchai is None:
            from azure.mgmt.batchai.aio import BatchAI

            self._batchai = BatchAI(self.credential, self.settings.subscription_id, **self._arm_kwargs())
            guard_azure_loggers()
        return self._batchai

    @property
    def resources(self) -> Any:
        if self._resources is None:
            from azure.mgmt.resource.resources.aio import ResourceManagementClient

            self._resources = ResourceManagementClient(
                self.credential, self.settings.subscription_id, **self._arm_kwargs()
            )
            guard_azure_loggers()
        return self._resources

    @property
    def storage(self) -> Any:
        if self._storage is None:
            from azure.mgmt.storage.aio import StorageManagementClient

            self._storage = StorageManagementClient(
                self.credential, self.settings.subscription_id, **self._arm_kwargs()
            )
            guard_azure_loggers()
        return self._storage

    def share_service(self, account: str, key: str) -> Any:
        """A ShareServiceClient for `account`, signing with its key (SharedKey)."""
        cached = self._share_services.get(account)
        if cached is not None and cached[0] == key:
            return cached[1]
        from azure.storage.fileshare.aio import ShareServiceClient

        SECRETS.add(key)
        backoff = max(self.settings.retry_backoff, 0.01)
        client = ShareServiceClient(
            account_url=self.settings.file_account_url(account),
            credential={"account_name": account, "account_key": key},
            # Keywords of the storage SDK's default async ExponentialRetry.
            initial_backoff=backoff,
            increment_base=2 * backoff,
            retry_total=self.settings.retry_total,
            random_jitter_range=0,
        )
        guard_azure_loggers()
        self._share_services[account] = (key, client)
        return client

    async def close(self) -> None:
        for client in (self._batchai, self._resources, self._storage):
            if client is not None:
                await client.close()
        for _key, client in self._share_services.values():
            await client.close()
        self._share_services.clear()
        close = getattr(self.credential, "close", None)
        if close is not None:
            await close()
