"""Who we are to Azure: DefaultAzureCredential, or a fixed bearer token from BAI_ACCESS_TOKEN.

The static token is for scripted use (CI, a jump box where `az account get-access-token` was run once) and
for the emulator. azure-core refuses bearer tokens over plain http; the policies here relax that for loopback
hosts only, which `settings.check_endpoint` already guarantees are the only http hosts we talk to.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken
from azure.mgmt.core.policies import AsyncARMChallengeAuthenticationPolicy

from tui.backends.batchai.redact import SECRETS
from tui.backends.batchai.settings import BatchAISettings, is_loopback_host


def _jwt_expiry(token: str) -> int | None:
    """The `exp` claim of a JWT, if the token is one (Azure AD tokens are)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return int(payload["exp"])
    except (ValueError, KeyError, TypeError):
        return None


class StaticTokenCredential:
    """An AsyncTokenCredential that always returns the one token it was given."""

    def __init__(self, token: str) -> None:
        SECRETS.add(token)
        self._token = token
        self._expires_on = _jwt_expiry(token) or int(time.time()) + 3600

    def __repr__(self) -> str:
        return "StaticTokenCredential(***)"

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        expires_on = self._expires_on
        if expires_on <= time.time():
            # An expired JWT: hand it over anyway so the service answers with its own clear 401.
            expires_on = int(time.time()) + 60
        return AccessToken(self._token, expires_on)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def make_credential(settings: BatchAISettings) -> Any:
    """The credential the ARM clients use: the static token if one is set, else DefaultAzureCredential."""
    if settings.access_token:
        return StaticTokenCredential(settings.access_token)
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential()


def _allow_loopback_http(request: Any) -> None:
    url = request.http_request.url
    if url.lower().startswith("http:") and is_loopback_host(urlsplit(url).hostname):
        request.context["enforce_https"] = False


class LoopbackARMAuthenticationPolicy(AsyncARMChallengeAuthenticationPolicy):
    """ARM bearer-token policy that accepts plain http only on loopback (the emulator)."""

    async def on_request(self, request: Any) -> None:
        _allow_loopback_http(request)
        await super().on_request(request)
