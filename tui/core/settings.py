"""Every environment variable bai reads (BAI_* and the AZURE_* ones az users already set), in one place.

Each is read when asked, not cached at import, so a test or a console that changes the environment sees the
new value; every reader takes an optional `env` mapping for the same reason. `VARIABLES` is the list the
README's settings table is kept true against.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tui.core.errors import BaiError

# Name -> what it sets (for docs and `bai --help` readers; the functions below are the readers).
VARIABLES: dict[str, str] = {
    "BAI_BACKEND": "local or batchai (default local)",
    "BAI_HOME": "the local backend's folder and the console's settings (default: the user data folder)",
    "BAI_OUTPUT": "default output format of the verbs (json, table, tsv, ...)",
    "BAI_DEBUG": "1: show tracebacks of unexpected errors",
    "BAI_CONSOLE_DEBUG": "1: the console prints its crash report on exit",
    "BAI_TERMINATE_GRACE_SECONDS": "seconds between SIGTERM and SIGKILL when a local job is terminated",
    "BAI_RUN_JOB_PREPARATION": "1: the local backend always runs jobPreparation",
    "BAI_NO_CGROUP": "1: the local backend tracks a job's processes without a cgroup",
    "BAI_SSH_STORAGE_ROOT": "the ssh backend's shared storage folder on every host",
    "AZURE_SUBSCRIPTION_ID": "the subscription the batchai backend works in",
    "AZURE_BATCHAI_STORAGE_ACCOUNT": "fills <AZURE_BATCHAI_STORAGE_ACCOUNT> in job.json",
    "AZURE_BATCHAI_STORAGE_KEY": "that account's key (else it is looked up)",
    "AZURE_STORAGE_ACCOUNT": "default --account-name of `bai storage ...`",
    "BAI_ACCESS_TOKEN": "an ARM token (else DefaultAzureCredential)",
    "BAI_ARM_ENDPOINT": "the ARM endpoint (default https://management.azure.com)",
    "BAI_FILE_ENDPOINT": "the Files endpoint, with {account}",
    "BAI_POLL_INTERVAL": "seconds between polls of a long-running operation",
    "BAI_RETRY_TOTAL": "retries of throttled or failed requests",
    "BAI_RETRY_BACKOFF": "their exponential backoff factor",
    "BAI_LINK_EXPIRY_MINUTES": "lifetime of output-file download links (5..600)",
    "BAI_LINK_REFRESH_MARGIN": "seconds before expiry a link is refreshed",
    "BAI_STREAM_POLL_INTERVAL": "seconds between reads of a growing output file",
}

_TRUE = ("1", "true", "yes", "on")


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def raw(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The variable's value exactly as set (None when unset)."""
    return _env(env).get(name)


def text(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The variable's value stripped, or None when unset or blank."""
    value = (_env(env).get(name) or "").strip()
    return value or None


def flag(name: str, env: Mapping[str, str] | None = None) -> bool:
    """A yes/no variable: 1, true, yes or on."""
    return (_env(env).get(name) or "").strip().lower() in _TRUE


def number(name: str, default: float, minimum: float = 0.0, env: Mapping[str, str] | None = None) -> float:
    """A number of seconds; a bad value is refused naming the variable."""
    raw = _env(env).get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BaiError(f"{name}={raw!r} is not a number; give seconds such as {default}") from None
    if value < minimum:
        raise BaiError(f"{name}={raw!r} must be at least {minimum}")
    return value


def whole_number(name: str, default: int, minimum: int = 0, env: Mapping[str, str] | None = None) -> int:
    raw = _env(env).get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BaiError(f"{name}={raw!r} is not a whole number; give one such as {default}") from None
    if value < minimum:
        raise BaiError(f"{name}={raw!r} must be at least {minimum}")
    return value


# ------------------------------------------------------------------------------------------- the readers


def backend(env: Mapping[str, str] | None = None) -> str | None:
    return text("BAI_BACKEND", env)


def bai_home(env: Mapping[str, str] | None = None) -> Path | None:
    """`$BAI_HOME` as given (expanded), or None."""
    value = text("BAI_HOME", env)
    return Path(value).expanduser() if value else None


def output_format(env: Mapping[str, str] | None = None) -> str | None:
    return text("BAI_OUTPUT", env)


def debug(env: Mapping[str, str] | None = None) -> bool:
    return bool(text("BAI_DEBUG", env))


def no_cgroup(env: Mapping[str, str] | None = None) -> bool:
    return bool(text("BAI_NO_CGROUP", env))


def console_debug(env: Mapping[str, str] | None = None) -> bool:
    return bool(text("BAI_CONSOLE_DEBUG", env))


def terminate_grace_seconds(env: Mapping[str, str] | None = None) -> float:
    """Seconds between SIGTERM and SIGKILL on terminate (default 10; a bad value is the default)."""
    try:
        return max(0.0, float(_env(env).get("BAI_TERMINATE_GRACE_SECONDS", "10")))
    except ValueError:
        return 10.0


def run_job_preparation(env: Mapping[str, str] | None = None) -> bool:
    return flag("BAI_RUN_JOB_PREPARATION", env)


def batchai_storage_account(env: Mapping[str, str] | None = None) -> str | None:
    """AZURE_BATCHAI_STORAGE_ACCOUNT: what az filled job.json's storage placeholder with."""
    return text("AZURE_BATCHAI_STORAGE_ACCOUNT", env)


def storage_account(env: Mapping[str, str] | None = None) -> str | None:
    """AZURE_STORAGE_ACCOUNT: az storage's default --account-name."""
    return text("AZURE_STORAGE_ACCOUNT", env)
