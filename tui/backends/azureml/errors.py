"""Azure ML errors as `BaiError`s: the batchai backend's translation (service code, message, details and a
`what to do:` line, secrets scrubbed) plus what is particular to Azure ML: quota errors name the quota and
how to ask for more, and a long-running operation that ended Failed shows the error it ended with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tui.backends.batchai.advice import what_to_do
from tui.backends.batchai.errors import azure_errors, service_error_parts
from tui.backends.batchai.redact import scrub
from tui.core.errors import BaiError, ConflictError, NotFoundError

QUOTA_ADVICE = (
    "the subscription's quota for this VM family (or its total regional vCPUs) in the workspace's region is "
    "too small: ask for more under Azure portal > Quotas > Machine learning (choose the region and the VM "
    "family), or use a smaller VM size or fewer nodes"
)
RETIRED_SIZES = {
    # Retired sizes and what replaces them today (NC6: 2023-09-06; NCv3: 2025-09-30).
    "standard_nc6": "Standard_NC4as_T4_v3",
    "standard_nc12": "Standard_NC8as_T4_v3",
    "standard_nc24": "Standard_NC24ads_A100_v4",
    "standard_nc24r": "Standard_NC24ads_A100_v4",
    "standard_nc6s_v3": "Standard_NC4as_T4_v3",
    "standard_nc12s_v3": "Standard_NC24ads_A100_v4",
    "standard_nc24s_v3": "Standard_NC48ads_A100_v4",
    "standard_nc24rs_v3": "Standard_NC48ads_A100_v4",
}


def is_quota(code: str | None, message: str | None = None) -> bool:
    text = f"{code or ''} {message or ''}".lower()
    return "quota" in text


def _with_quota_advice(error: BaiError) -> BaiError:
    text = str(error)
    first = text.split("\n", 1)[0]
    if not is_quota(first) or QUOTA_ADVICE in text:
        return error
    lines = [line for line in text.split("\n") if not line.lstrip().startswith("what to do:")]
    lines.append(f"  what to do: {QUOTA_ADVICE}")
    return type(error)("\n".join(lines))


@contextmanager
def ml_errors(action: str) -> Iterator[None]:
    """Re-raise any Azure or transport error inside the block as one clean BaiError."""
    try:
        with azure_errors(action):
            yield
    except BaiError as error:
        raise _with_quota_advice(error) from None


def operation_failed(action: str, document: dict[str, Any]) -> BaiError:
    """The error for a long-running operation whose status document ended Failed or Canceled."""
    status = str(document.get("status") or "Failed")
    code, message, details = service_error_parts(json.dumps(document))
    if code is None and message is None:
        head = f"{action} failed: the service ended the operation {status}"
    else:
        head = f"{action} failed: {code}: {message}" if code else f"{action} failed: {message}"
    lines = [head, *(f"  - {line.strip()}" for line in details)]
    advice = (
        QUOTA_ADVICE
        if is_quota(code, message)
        else what_to_do(None, code, message, "", action, from_files=False, sign_in=False)
    )
    lines.append(f"  what to do: {advice or 'see where it stands with `bai ... show`, then retry'}")
    return BaiError(scrub("\n".join(lines)))


def refuse_existing(kind: str, name: str, advice: str) -> ConflictError:
    return ConflictError(f"{kind} {name!r} already exists; {advice}")


__all__ = ["QUOTA_ADVICE", "RETIRED_SIZES", "NotFoundError", "ml_errors", "operation_failed"]
