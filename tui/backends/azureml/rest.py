"""The REST layer: three azure-core async pipelines and the ARM conventions on top of them.

* ARM (`AsyncARMPipelineClient`): bearer token for the ARM scope, retries (429 with Retry-After, 5xx, dropped
  connections), long-running operations (`Azure-AsyncOperation` status documents, else `Location` polled until
  it stops answering 202) and lists paged by `nextLink`.
* Run history (`AsyncPipelineClient`): bearer token for https://ml.azure.com/.default, at the host the
  workspace's `discoveryUrl` names (`api`).
* Plain (no credential): the discovery document and the SAS-signed log blobs, whose URLs carry their own
  signature; a bearer token must never travel to them.

Every URL, whoever handed it out (an environment variable, a nextLink, an operation header, discovery, run
history), is checked before use: https, or plain http only to 127.0.0.1, ::1 or localhost.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

from tui.backends.azureml.errors import ml_errors, operation_failed
from tui.backends.azureml.settings import API_VERSION, ML_SCOPE, AzureMLSettings
from tui.backends.batchai.redact import guard_azure_loggers
from tui.backends.batchai.settings import check_endpoint
from tui.core.errors import BaiError

_FINAL = ("succeeded", "failed", "canceled", "cancelled")


def _json_body(response: Any) -> Any:
    text = response.text()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _retry_after(response: Any, default: float) -> float:
    raw = response.headers.get("Retry-After")
    try:
        return min(max(float(raw), 0.0), 60.0) if raw is not None else default
    except ValueError:
        return default


class MLRest:
    """Owner of the pipelines; `close` releases their connections."""

    def __init__(self, settings: AzureMLSettings, credential: Any) -> None:
        self.settings = settings
        self.azure = settings.azure
        self.credential = credential
        self._arm: Any = None
        self._history: Any = None
        self._plain: Any = None
        self._api_hosts: dict[tuple[str, str], str] = {}
        guard_azure_loggers()

    # ---- pipelines ----

    def _retry(self) -> Any:
        from azure.core.pipeline.policies import AsyncRetryPolicy

        total = self.azure.retry_total
        return AsyncRetryPolicy(
            retry_total=total,
            retry_status=total,
            retry_connect=total,
            retry_read=total,
            retry_backoff_factor=self.azure.retry_backoff,
            retry_backoff_max=60,
        )

    @property
    def arm_client(self) -> Any:
        if self._arm is None:
            from azure.core.pipeline.policies import UserAgentPolicy
            from azure.mgmt.core import AsyncARMPipelineClient

            from tui.backends.batchai.credentials import LoopbackARMAuthenticationPolicy

            self._arm = AsyncARMPipelineClient(
                base_url=self.azure.arm_endpoint,
                policies=[
                    UserAgentPolicy(sdk_moniker="bai-azureml"),
                    self._retry(),
                    LoopbackARMAuthenticationPolicy(self.credential, self.settings.arm_scope),
                ],
            )
        return self._arm

    @property
    def history_client(self) -> Any:
        if self._history is None:
            from azure.core import AsyncPipelineClient
            from azure.core.pipeline.policies import UserAgentPolicy

            from tui.backends.azureml.credentials import LoopbackBearerPolicy

            self._history = AsyncPipelineClient(
                base_url="",
                policies=[
                    UserAgentPolicy(sdk_moniker="bai-azureml"),
                    self._retry(),
                    LoopbackBearerPolicy(self.credential, ML_SCOPE),
                ],
            )
        return self._history

    @property
    def plain_client(self) -> Any:
        """No credential: discovery answers anyone, and a SAS URL carries its own signature."""
        if self._plain is None:
            from azure.core import AsyncPipelineClient
            from azure.core.pipeline.policies import HeadersPolicy, UserAgentPolicy

            self._plain = AsyncPipelineClient(
                base_url="",
                policies=[
                    HeadersPolicy({"x-ms-version": "2023-11-03"}),
                    UserAgentPolicy(sdk_moniker="bai-azureml"),
                    self._retry(),
                ],
            )
        return self._plain

    async def close(self) -> None:
        for client in (self._arm, self._history, self._plain):
            if client is not None:
                await client.close()
        self._arm = self._history = self._plain = None

    # ---- paths ----

    @property
    def subscription(self) -> str:
        return self.azure.subscription_id

    def group_path(self, resource_group: str) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{quote(resource_group, safe='')}"

    def workspace_path(self, resource_group: str, workspace: str) -> str:
        return (
            f"{self.group_path(resource_group)}/providers/Microsoft.MachineLearningServices"
            f"/workspaces/{quote(workspace, safe='')}"
        )

    def arm_url(self, path: str, api_version: str = API_VERSION) -> str:
        joiner = "&" if "?" in path else "?"
        return f"{self.azure.arm_endpoint}{path}{joiner}api-version={api_version}"

    # ---- sending ----

    async def send(
        self, client: Any, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        """One request; an HTTP error (4xx/5xx after retries) raises azure-core's HttpResponseError."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest

        request = HttpRequest(method, url, json=body, headers=headers)
        response = await client.send_request(request)
        if response.status_code >= 400:
            raise HttpResponseError(response=response)
        return response

    async def arm(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        action: str,
        api_version: str = API_VERSION,
        wait: bool = True,
    ) -> Any:
        """An ARM call; long-running ones are followed to their end (unless `wait` is false); returns the
        resource (PUT/PATCH: read again once done), the action's result, or None."""
        url = self.arm_url(path, api_version)
        with ml_errors(action):
            response = await self.send(self.arm_client, method, url, body)
            data = _json_body(response)
            operation = response.headers.get("Azure-AsyncOperation")
            location = response.headers.get("Location")
            # Azure ML also answers 200 with an operation to follow (a compute's PATCH: "Updating").
            pending = response.status_code in (201, 202) or (operation and method != "GET")
            if not wait or not pending:
                return data
            if operation:
                await self._poll_status(operation, response, action)
            elif location:
                result = await self._poll_location(location, response, action)
                if method in ("POST", "DELETE"):
                    return result
            elif response.status_code == 201 or method != "PUT":
                return data
            if method in ("PUT", "PATCH"):
                return _json_body(await self.send(self.arm_client, "GET", url))
            return None

    async def _poll_status(self, url: str, first: Any, action: str) -> None:
        url = check_endpoint(url, "the service's Azure-AsyncOperation URL")
        delay = _retry_after(first, self.azure.poll_interval)
        while True:
            await asyncio.sleep(delay)
            response = await self.send(self.arm_client, "GET", url)
            document = _json_body(response) or {}
            status = str(document.get("status", "")).lower()
            if status in _FINAL:
                if status != "succeeded":
                    raise operation_failed(action, document)
                return
            delay = _retry_after(response, self.azure.poll_interval)

    async def _poll_location(self, url: str, first: Any, action: str) -> Any:
        url = check_endpoint(url, "the service's Location URL")
        delay = _retry_after(first, self.azure.poll_interval)
        while True:
            await asyncio.sleep(delay)
            response = await self.send(self.arm_client, "GET", url)
            if response.status_code != 202:
                return _json_body(response)
            delay = _retry_after(response, self.azure.poll_interval)

    async def arm_list(
        self, path: str, *, action: str, api_version: str = API_VERSION
    ) -> list[dict[str, Any]]:
        """Every item of an ARM list, following `nextLink` page after page."""
        items: list[dict[str, Any]] = []
        url = self.arm_url(path, api_version)
        with ml_errors(action):
            for _page in range(10_000):
                data = _json_body(await self.send(self.arm_client, "GET", url)) or {}
                if not isinstance(data, dict):
                    raise BaiError(f"{action} failed: the service answered something other than a list")
                items += [item for item in data.get("value") or [] if isinstance(item, dict)]
                next_link = data.get("nextLink")
                if not next_link:
                    break
                url = check_endpoint(next_link, "the service's nextLink")
        return items

    # ---- discovery and run history ----

    async def api_host(self, resource_group: str, workspace: str) -> str:
        """The run-history host of a workspace: its discoveryUrl's `api` (asked once, then remembered)."""
        key = (resource_group.lower(), workspace.lower())
        cached = self._api_hosts.get(key)
        if cached:
            return cached
        data = await self.arm(
            "GET", self.workspace_path(resource_group, workspace), action=f"reading workspace {workspace}"
        )
        discovery = ((data or {}).get("properties") or {}).get("discoveryUrl")
        if not discovery:
            raise BaiError(
                f"workspace {workspace} has no discoveryUrl, so its run history cannot be found; "
                "check it with `bai workspace show`"
            )
        discovery = check_endpoint(discovery, f"the discoveryUrl of workspace {workspace}")
        with ml_errors(f"reading the discovery document of workspace {workspace}"):
            document = _json_body(await self.send(self.plain_client, "GET", discovery)) or {}
        api = document.get("api") if isinstance(document, dict) else None
        if not isinstance(api, str) or not api:
            raise BaiError(
                f"the discovery document of workspace {workspace} names no `api` host; "
                "its run history cannot be read"
            )
        api = check_endpoint(api, f"the run-history host of workspace {workspace}")
        self._api_hosts[key] = api
        return api

    async def history(self, resource_group: str, workspace: str, tail: str, *, action: str) -> Any:
        """GET `{api}/history/v1.0/<workspace's ARM path><tail>` with the run-history token."""
        api = await self.api_host(resource_group, workspace)
        url = f"{api}/history/v1.0{self.workspace_path(resource_group, workspace)}{tail}"
        with ml_errors(action):
            return _json_body(await self.send(self.history_client, "GET", url))
