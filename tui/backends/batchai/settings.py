"""Where the Azure backend connects and how patiently: read once from the environment (through
`tui.core.settings`, where every variable bai reads is listed).

Endpoints are checked here, before any request is built, so a plain-http endpoint on a non-loopback host is
refused before a token or a storage key could travel over it unencrypted.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tui.core import settings
from tui.core.errors import BaiError

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_FILE_ENDPOINT = "https://{account}.file.core.windows.net"


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http may reach."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, source: str) -> str:
    """Return `url` without a trailing slash if it is https, or http on a loopback host; else raise.

    `source` names where the URL came from (an environment variable, a service response) for the message.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise BaiError(
            f"{source}: {_shown(url)!r} is not an http(s) URL; give one like {DEFAULT_ARM_ENDPOINT}"
        )
    if scheme == "http" and not is_loopback_host(parts.hostname):
        raise BaiError(
            f"{source}: refusing plain http to {parts.hostname} (credentials would travel unencrypted); "
            "use https, or run the emulator on 127.0.0.1, ::1 or localhost"
        )
    return url.rstrip("/")


def _shown(url: str) -> str:
    """The URL without its query (a query may carry a SAS signature)."""
    return url.split("?", 1)[0]


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    return settings.number(name, default, minimum, env)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    return settings.whole_number(name, default, minimum, env)


@dataclass(frozen=True)
class BatchAISettings:
    """Everything the backend reads from the environment (never printed: it holds the token and key)."""

    subscription_id: str
    arm_endpoint: str = DEFAULT_ARM_ENDPOINT
    file_endpoint: str = DEFAULT_FILE_ENDPOINT
    access_token: str | None = None
    storage_account: str | None = None
    storage_key: str | None = None
    # Seconds between polls of a long-running operation when the service sends no Retry-After.
    poll_interval: float = 5.0
    # Retries of throttled (429), failed (5xx) or dropped requests, and the exponential backoff factor.
    retry_total: int = 5
    retry_backoff: float = 0.8
    # Lifetime asked for output-file download links (5..600 minutes) and how early to refresh them.
    link_expiry_minutes: int = 60
    link_refresh_margin: float = 120.0
    # Seconds between reads of a growing output file that had no new bytes.
    stream_poll_interval: float = 2.0

    def __repr__(self) -> str:  # keep the token and key out of any accidental print
        return (
            f"BatchAISettings(subscription_id={self.subscription_id!r}, arm_endpoint={self.arm_endpoint!r})"
        )

    @property
    def arm_scope(self) -> str:
        return self.arm_endpoint + "/.default"

    def file_account_url(self, account: str) -> str:
        """The Files endpoint of `account` (BAI_FILE_ENDPOINT with {account} filled)."""
        return check_endpoint(self.file_endpoint.replace("{account}", account), "BAI_FILE_ENDPOINT")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BatchAISettings:
        env = os.environ if env is None else env
        subscription = settings.text("AZURE_SUBSCRIPTION_ID", env) or ""
        if not subscription:
            raise BaiError(
                "AZURE_SUBSCRIPTION_ID is not set: the batchai backend needs the subscription to work in "
                "(az account show --query id -o tsv prints it)"
            )
        arm = check_endpoint(
            settings.raw("BAI_ARM_ENDPOINT", env) or DEFAULT_ARM_ENDPOINT, "BAI_ARM_ENDPOINT"
        )
        file_template = settings.raw("BAI_FILE_ENDPOINT", env) or DEFAULT_FILE_ENDPOINT
        if "{account}" not in file_template:
            raise BaiError(
                f"BAI_FILE_ENDPOINT={file_template!r} has no {{account}} placeholder; "
                f"use e.g. {DEFAULT_FILE_ENDPOINT} or http://127.0.0.1:PORT/{{account}}"
            )
        check_endpoint(file_template.replace("{account}", "account"), "BAI_FILE_ENDPOINT")
        account = settings.batchai_storage_account(env)
        key = settings.text("AZURE_BATCHAI_STORAGE_KEY", env)
        if key and not account:
            raise BaiError("AZURE_BATCHAI_STORAGE_KEY is set without AZURE_BATCHAI_STORAGE_ACCOUNT: set both")
        token = settings.text("BAI_ACCESS_TOKEN", env)
        for name, secret in (("BAI_ACCESS_TOKEN", token), ("AZURE_BATCHAI_STORAGE_KEY", key)):
            if secret and any(ord(char) < 0x20 or ord(char) == 0x7F for char in secret):
                # It would go into an HTTP header: a line break there could inject one. The value is secret:
                # the message never quotes it.
                raise BaiError(
                    f"{name} contains a line break or another control character: set it to the value alone"
                )
        link_minutes = _int(env, "BAI_LINK_EXPIRY_MINUTES", 60, minimum=5)
        if link_minutes > 600:
            raise BaiError(f"BAI_LINK_EXPIRY_MINUTES={link_minutes} is above the service's limit of 600")
        return cls(
            subscription_id=subscription,
            arm_endpoint=arm,
            file_endpoint=file_template.rstrip("/"),
            access_token=token,
            storage_account=account,
            storage_key=key,
            poll_interval=_float(env, "BAI_POLL_INTERVAL", 5.0),
            retry_total=_int(env, "BAI_RETRY_TOTAL", 5),
            retry_backoff=_float(env, "BAI_RETRY_BACKOFF", 0.8),
            link_expiry_minutes=link_minutes,
            link_refresh_margin=_float(env, "BAI_LINK_REFRESH_MARGIN", 120.0),
            stream_poll_interval=_float(env, "BAI_STREAM_POLL_INTERVAL", 2.0, minimum=0.01),
        )
