"""What to do about an error the services answered: the "  what to do:" line under it.

Kept apart from `errors` (which reads the answers) so each kind of advice is found in one place. The advice
names the setting that gets the user further, as az's own messages did; the command that lists or shows a
resource is a `Hint` the front end words (`bai cluster list ...` on the command line).
"""

from __future__ import annotations

import json
import re

from tui.core.errors import Hint

AUTH_ADVICE = (
    "sign in with `az login` (DefaultAzureCredential), or set BAI_ACCESS_TOKEN to a token for "
    "the ARM endpoint, and check AZURE_SUBSCRIPTION_ID"
)


# The kinds of resource a "not found" can be about; the front end names what lists each kind.
KINDS = (
    "resourcegroup",
    "workspace",
    "experiment",
    "cluster",
    "job",
    "storageaccount",
    "share",
    "file",
)


def _subject(code: str | None, action: str, from_files: bool) -> str:
    """The kind of resource an error is about: named by the service's code (ResourceGroupNotFound,
    ShareNotFound, JobNotFound), else by the action ("listing clusters of workspace w": the workspace; the
    last word is a name, never a kind); "" when neither says."""
    subject = (code or "").lower().removesuffix("notfound")
    if subject in KINDS:
        return subject
    if from_files:
        return "file"
    words = (
        action.lower().replace("resource group", "resourcegroup").replace("storage account", "storageaccount")
    )
    kinds = [word.removesuffix("s") for word in words.split()[1:-1]]
    kinds = [kind for kind in kinds if kind in KINDS]
    return kinds[-1] if kinds else ""


def not_found_advice(code: str | None, action: str, from_files: bool) -> tuple[str, Hint | None]:
    """What to do about a 404, and the hint that the list of what was missing shows what exists."""
    subject = _subject(code, action, from_files)
    if subject in KINDS:
        return "check the name and where it is", Hint("list", subject)
    return "check the names given and AZURE_SUBSCRIPTION_ID", None


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


def show_hint(action: str) -> Hint:
    """Seeing where the resource `action` was about stands ("creating cluster c": the cluster)."""
    return Hint("show", _subject(None, action, False) or "resource")


def what_to_do(
    status: int | None,
    code: str | None,
    message: str | None,
    body: str,
    action: str,
    *,
    from_files: bool,
    sign_in: bool,
) -> tuple[str | None, Hint | None]:
    """The advice for an HTTP error (None when there is nothing better than the service's own words), and
    the hint a front end words after it (for a 404: the list that shows what exists).

    `from_files`: the answer came from Azure Files; `sign_in`: the SDK raised ClientAuthenticationError."""
    where = _GROUP_IS_IN.search(message or "") if code == "InvalidResourceGroupLocation" else None
    if where:
        return f"give the location '{where.group(1)}' (where it is), or another group name", None
    namespace = _unregistered_namespace(code, body)
    if namespace:
        return f"register the resource provider: az provider register --namespace {namespace}", None
    if status == 401 or (sign_in and status != 403):
        return AUTH_ADVICE, None
    if status == 403:
        forbidden = _FORBIDDEN.get(
            code or "", "ask for access to the resource, or check the subscription and group"
        )
        return forbidden, None
    if status == 429:
        return "the service is throttling requests; wait a minute and retry", None
    if status is not None and status >= 500:
        return "the service failed after retries; retry later", None
    if status == 404:
        return not_found_advice(code, action, from_files)
    return None, None


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
