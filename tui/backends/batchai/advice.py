"""What to do about an error the services answered: the "  what to do:" line under it.

Kept apart from `errors` (which reads the answers) so each kind of advice is found in one place; the
advice names the bai command or setting that gets the user further, as az's own messages did.
"""

from __future__ import annotations

import json
import re

AUTH_ADVICE = (
    "sign in with `az login` (DefaultAzureCredential), or set BAI_ACCESS_TOKEN to a token for "
    "the ARM endpoint, and check AZURE_SUBSCRIPTION_ID"
)


# What lists the resources of each kind, so a "not found" can say where to look.
_LIST_COMMANDS = {
    "resourcegroup": "bai group list",
    "workspace": "bai workspace list",
    "experiment": "bai experiment list -g GROUP -w WORKSPACE",
    "cluster": "bai cluster list -g GROUP -w WORKSPACE",
    "job": "bai job list -g GROUP -w WORKSPACE -e EXPERIMENT",
    "storageaccount": "bai storage account list",
    "share": "bai storage share list --account-name ACCOUNT",
    "file": "bai storage file list --share-name SHARE --account-name ACCOUNT --path FOLDER",
}


# What shows one resource of each kind (shares and files have none: their list shows them).
_SHOW_COMMANDS = {
    "resourcegroup": "bai group show",
    "workspace": "bai workspace show",
    "experiment": "bai experiment show",
    "cluster": "bai cluster show",
    "job": "bai job show",
    "storageaccount": "bai storage account show",
}


def _subject(code: str | None, action: str, from_files: bool) -> str:
    """The kind of resource an error is about: named by the service's code (ResourceGroupNotFound,
    ShareNotFound, JobNotFound), else by the action ("listing clusters of workspace w": the workspace; the
    last word is a name, never a kind); "" when neither says."""
    subject = (code or "").lower().removesuffix("notfound")
    if subject in _LIST_COMMANDS:
        return subject
    if from_files:
        return "file"
    words = (
        action.lower().replace("resource group", "resourcegroup").replace("storage account", "storageaccount")
    )
    kinds = [word.removesuffix("s") for word in words.split()[1:-1]]
    kinds = [kind for kind in kinds if kind in _LIST_COMMANDS]
    return kinds[-1] if kinds else ""


def not_found_advice(code: str | None, action: str, from_files: bool) -> str:
    """What to do about a 404: the list command of what was missing."""
    subject = _subject(code, action, from_files)
    if subject in _LIST_COMMANDS:
        return f"check the name and where it is (`{_LIST_COMMANDS[subject]}` shows what exists)"
    return "check the names given and AZURE_SUBSCRIPTION_ID"


_GROUP_IS_IN = re.compile(r"already exists in location '([^']+)'")
_NAMESPACE_IN_MESSAGE = re.compile(r"namespace '([A-Za-z0-9.]+)'")


def _unregistered_namespace(code: str | None, body: str) -> str | None:
    """The resource provider a MissingSubscriptionRegistration names (its detail's `target`, else the
    namespace quoted in its message)."""
    if code != "MissingSubscriptionRegistration":
        return None
    try:
        error = json.loads(body).get("error", {})
    except (ValueError, TypeError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and isinstance(detail.get("target"), str) and detail["target"]:
            return detail["target"]
    match = _NAMESPACE_IN_MESSAGE.search(str(error.get("message", "")))
    return match.group(1) if match else None


def show_command(action: str) -> str:
    """The command showing what `action` was about ("bai cluster show" for "creating cluster c")."""
    return _SHOW_COMMANDS.get(_subject(None, action, False), "bai ... show")


def what_to_do(
    status: int | None,
    code: str | None,
    message: str | None,
    body: str,
    action: str,
    *,
    from_files: bool,
    sign_in: bool,
) -> str | None:
    """The advice for an HTTP error (None when there is nothing better than the service's own words).

    `from_files`: the answer came from Azure Files; `sign_in`: the SDK raised ClientAuthenticationError."""
    where = _GROUP_IS_IN.search(message or "") if code == "InvalidResourceGroupLocation" else None
    if where:
        return f"give --location '{where.group(1)}' (where it is), or another group name"
    namespace = _unregistered_namespace(code, body)
    if namespace:
        return f"register the resource provider: az provider register --namespace {namespace}"
    if status == 401 or (sign_in and status != 403):
        return AUTH_ADVICE
    if status == 403:
        return _FORBIDDEN.get(
            code or "", "ask for access to the resource, or check the subscription and group"
        )
    if status == 429:
        return "the service is throttling requests; wait a minute and retry"
    if status is not None and status >= 500:
        return "the service failed after retries; retry later"
    if status == 404:
        return not_found_advice(code, action, from_files)
    return None


# 403s whose code says more than "no access".
_FORBIDDEN = {
    "AuthenticationFailed": "check AZURE_BATCHAI_STORAGE_KEY (or unset it to look the key up)",
    # Accounts made today often have key access off; Batch AI mounts shares with the key.
    "KeyBasedAuthenticationNotPermitted": (
        "the storage account has key access turned off, and Batch AI mounts shares with the key: allow "
        "storage account key access on the account (its Configuration settings)"
    ),
    # What the account's firewall (network rules) answers for a request from elsewhere.
    "AuthorizationFailure": (
        "the storage account refuses requests from this network; allow it in the account's firewall "
        "(Networking) settings, or run bai from an allowed network"
    ),
}
