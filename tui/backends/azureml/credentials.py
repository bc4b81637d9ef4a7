"""The run-history bearer policy: the ml.azure.com scope, plain http accepted on loopback hosts only.

The credential itself is the batchai backend's (BAI_ACCESS_TOKEN as a static token, else
DefaultAzureCredential), so both scopes are asked of the same sign-in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy

from tui.backends.batchai.settings import is_loopback_host


class LoopbackBearerPolicy(AsyncBearerTokenCredentialPolicy):
    """Bearer token for one scope; azure-core refuses tokens over http, except here on loopback."""

    async def on_request(self, request: Any) -> None:
        url = request.http_request.url
        if url.lower().startswith("http:") and is_loopback_host(urlsplit(url).hostname):
            request.context["enforce_https"] = False
        await super().on_request(request)
