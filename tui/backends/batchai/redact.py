"""Keep storage keys, tokens and SAS signatures out of every message, log line and error.

Secrets are scrubbed in two ways: the exact values this process holds (the account keys it was given or
looked up, the bearer token) are replaced wherever they appear, and anything shaped like a secret (a `sig=`
query value, an `Authorization` header, a SharedKey signature the service echoes back in an
AuthenticationErrorDetail) is replaced by pattern, so even a secret we never held is not shown.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"

_PATTERNS = (
    # "The MAC signature found in the HTTP request '<sig>' is not the same as any computed signature".
    (re.compile(r"(?i)(signature found in the HTTP request ')[^']*(')"), r"\1" + MASK + r"\2"),
    (re.compile(r"(?i)(Server used following string to sign: ')[^']*(')"), r"\1" + MASK + r"\2"),
    # SAS signature and other signed query values in URLs.
    (re.compile(r"(?i)([?&](?:sig|signature|se_sig|skoid_sig)=)[^&\s'\"<>]+"), r"\1" + MASK),
    # Bearer tokens and SharedKey signatures (in Authorization headers or anywhere else).
    (re.compile(r"(?i)\b(Bearer|SharedKey(?:Lite)?)\s+[^\s'\",]+"), r"\1 " + MASK),
    (
        re.compile(r"(?i)(['\"]?authorization['\"]?\s*[:=]\s*['\"]?)(?!Bearer\b|SharedKey)[^\s'\",]+"),
        r"\1" + MASK,
    ),
    # Account keys in connection strings or JSON bodies.
    (re.compile(r"(?i)(AccountKey=)[^;\s'\"]+"), r"\1" + MASK),
    (
        re.compile(r"(?i)(['\"](?:accountKey|key1|key2|value)['\"]\s*:\s*['\"])[A-Za-z0-9+/=]{40,}(['\"])"),
        r"\1" + MASK + r"\2",
    ),
)


class SecretRegistry:
    """The secret values this process holds; thread-safe because the SDK may log from worker threads."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        if value and len(value) >= 8:
            with self._lock:
                self._values.add(value)

    def scrub(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


SECRETS = SecretRegistry()


def scrub(text: str) -> str:
    """`text` with every known or secret-shaped value masked."""
    return SECRETS.scrub(text)


class ScrubFilter(logging.Filter):
    """Rewrites a record's message with secrets masked (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler
            return True
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = ScrubFilter()


def guard_azure_loggers() -> None:
    """Attach the scrub filter to every `azure.*` logger that exists (the SDK makes them at import time).

    Filters on a logger do not see records of its children, so each one gets its own.
    """
    azure = logging.getLogger("azure")
    if not logging.getLogger().handlers and not any(
        isinstance(h, logging.NullHandler) for h in azure.handlers
    ):
        # With no logging configured, Python prints WARNING records to stderr (logging.lastResort), and
        # DefaultAzureCredential warns a dozen lines per failed sign-in: errors reach the user as one
        # BaiError instead. A configured root handler still receives every record.
        azure.addHandler(logging.NullHandler())
    names = [
        name
        for name in list(logging.Logger.manager.loggerDict)
        if name == "azure" or name.startswith("azure.")
    ]
    for name in [*names, "azure"]:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
