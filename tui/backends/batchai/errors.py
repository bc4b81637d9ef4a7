"""Turn azure-core / SDK exceptions into `BaiError`s that show the service's code, message and details.

The SDK's own messages can carry request URLs (with a SAS query) or echo signatures; everything shown here
goes through `redact.scrub`, and the original exception is dropped (`from None`) so no traceback prints it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from tui.backends.batchai.advice import AUTH_ADVICE, show_hint, what_to_do
from tui.backends.batchai.redact import scrub
from tui.core.errors import BaiError, ConflictError, NotFoundError

_UNREADABLE_ADVICE = (
    "something other than the Azure service may have answered (a proxy's page, a cut-off answer, a wrong "
    "endpoint): check BAI_ARM_ENDPOINT / BAI_FILE_ENDPOINT and any proxy setting, then retry"
)

_ENDED = ("canceled", "cancelled", "failed")


def _operation_ended(body: str) -> tuple[str, list[str]] | None:
    """How a long-running operation ended and the reasons given, when `body` is the last thing it polled
    and that ended Failed or Canceled: an ARM operation status (`status`), or the resource itself when the
    SDK polled it (`properties.provisioningState`, the reasons in Batch AI's `properties.errors`)."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    status = data.get("status")
    if isinstance(status, str) and status.lower() in _ENDED:
        return status, []
    properties = data.get("properties")
    state = properties.get("provisioningState") if isinstance(properties, dict) else None
    if not (isinstance(state, str) and state.lower() in _ENDED):
        return None
    assert isinstance(properties, dict)
    errors = properties.get("errors")
    reasons = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            code, message = error.get("code") or "", error.get("message") or ""
            reasons.append(f"{code}: {message}" if code else str(message))
            reasons += ["  " + line for line in _detail_lines(error.get("details"))]
    return state.capitalize(), reasons


def _detail_text(detail: Any) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    if "name" in detail and "code" not in detail:  # Batch AI's NameValuePair details
        value = detail.get("value")
        return f"{detail['name']}: {'' if value is None else value}"
    code = detail.get("code") or ""
    target = detail.get("target")
    message = detail.get("message") or detail.get("Message") or ""
    head = f"{target}: " if target else ""
    return f"{head}{message} ({code})" if code else f"{head}{message}"


def _detail_lines(details: Any, depth: int = 0) -> list[str]:
    """Each detail as a line, its own details (ARM nests them) below it, indented two spaces a level."""
    if not isinstance(details, list):
        return []
    lines = []
    for item in details:
        lines.append("  " * depth + _detail_text(item))
        if isinstance(item, dict) and depth < 5:
            lines += _detail_lines(item.get("details"), depth + 1)
    return lines


def service_error_parts(body: str) -> tuple[str | None, str | None, list[str]]:
    """(code, message, details) of a service error body; Nones when the body is not one.

    The forms seen: ARM's `{"error": {code, message, target, details: [...]}}` with details nested to any
    depth (or Batch AI's name/value pairs), the same without the `error` wrapper, ASP.NET's `{"Message": ...}`
    from the gateway, and OAuth's `{"error": "<code>", "error_description": ...}` from a token endpoint.
    """
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None, None, []
    if not isinstance(data, dict):
        return None, None, []
    error = data.get("error", data)
    if isinstance(error, str):
        description = data.get("error_description")
        return (
            error,
            (description.splitlines()[0] if isinstance(description, str) and description else None),
            [],
        )
    if not isinstance(error, dict):
        return None, None, []
    code = error.get("code", error.get("Code"))
    message = error.get("message", error.get("Message"))
    return (
        None if code is None else str(code),
        None if message is None else str(message),
        _detail_lines(error.get("details", error.get("Details"))),
    )


def _response_text(exc: Any) -> str:
    response = getattr(exc, "response", None)
    if response is None:
        return ""
    try:
        return response.text()
    except Exception:  # a streamed body that was not read
        return ""


def _bullet(line: str) -> str:
    text = line.lstrip(" ")
    return f"  {' ' * (len(line) - len(text))}- {text}"


def unreadable_answer(action: str, detail: str) -> BaiError:
    """The error for an answer the SDK could not read as the service's (one line, as az printed)."""
    first = " ".join(detail.split("\n", 1)[0].split()) or "no details"
    return BaiError(scrub(f"{action} failed: the answer could not be read ({first}); {_UNREADABLE_ADVICE}"))


def _raised_by_sdk(exc: BaseException) -> bool:
    """Whether `exc` was raised inside the Azure SDK (reading an answer), not in bai's own code."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.startswith(("azure.", "msrest."))


class ServiceUnreachableError(BaiError):
    """The service could not be reached (connection refused or dropped) after the SDK's own retries: a
    caller that can wait longer (a stream) may try again."""


def translate(exc: Exception, action: str) -> BaiError:
    """A BaiError for `exc`, raised while doing `action` ("creating cluster nc6cluster")."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        DecodeError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(exc, BaiError):
        return exc
    if isinstance(exc, ClientAuthenticationError) and exc.status_code is None:
        # Raised by the credential itself (no HTTP answer): DefaultAzureCredential found no sign-in.
        first = (str(exc) or type(exc).__name__).split("\n", 1)[0]
        return BaiError(scrub(f"{action} failed: no usable Azure credential ({first}); {AUTH_ADVICE}"))
    if isinstance(exc, DecodeError) and exc.status_code is not None and 200 <= exc.status_code < 300:
        # A success status whose body the SDK could not decode: "failed (HTTP 200): OK" says nothing; the body
        # is the problem. (A failed long-running operation also ends on a 200, with the service's error: that
        # one is an HttpResponseError read below.)
        return unreadable_answer(action, f"HTTP {exc.status_code}: {exc.message or exc}")
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        body = _response_text(exc)
        code, message, details = service_error_parts(body)
        ended = (
            _operation_ended(body) if code is None and status is not None and 200 <= status < 300 else None
        )
        if ended is not None:
            # A long-running operation that ended Canceled (the resource was deleted or changed meanwhile), or
            # Failed with no `error`: its 200 status document has no code or message to show.
            state, reasons = ended
            lines = [f"{action} failed: the service ended the operation {state}", *map(_bullet, reasons)]
            lines.append("  what to do")  # the front end words the hint: see where it stands, then retry
            return BaiError(scrub("\n".join(lines)), hint=show_hint(action))
        storage_code = getattr(exc, "error_code", None)
        if code is None and storage_code:
            code = str(getattr(storage_code, "value", storage_code))
            message = (exc.message or "").split("\n", 1)[0]
        if message is None:
            message = (getattr(exc, "reason", None) or str(exc)).split("\n", 1)[0]
        head = (
            f"{action} failed: {code}: {message}" if code else f"{action} failed (HTTP {status}): {message}"
        )
        lines = [head, *(_bullet(item) for item in details)]
        advice, hint = what_to_do(
            status,
            code,
            message,
            body,
            action,
            from_files=storage_code is not None,
            sign_in=isinstance(exc, ClientAuthenticationError),
        )
        if advice:
            lines.append(f"  what to do: {advice}")
        text = scrub("\n".join(lines))
        if isinstance(exc, ResourceNotFoundError) or status == 404:
            return NotFoundError(text, hint=hint)
        if isinstance(exc, ResourceExistsError) or status == 409:
            return ConflictError(text, hint=hint)
        return BaiError(text, hint=hint)
    if isinstance(exc, ClientAuthenticationError):
        first = (str(exc) or type(exc).__name__).split("\n", 1)[0]
        return BaiError(scrub(f"{action} failed: no usable Azure credential ({first}); {AUTH_ADVICE}"))
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return ServiceUnreachableError(
            scrub(
                f"{action} failed: the service could not be reached or dropped the connection after retries "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); check BAI_ARM_ENDPOINT / "
                "BAI_FILE_ENDPOINT and the network, then retry"
            )
        )
    return BaiError(scrub(f"{action} failed: {type(exc).__name__}: {exc}".split("\n", 1)[0]))


@contextmanager
def azure_errors(action: str) -> Iterator[None]:
    """Re-raise any Azure SDK or transport error inside the block as a clean BaiError."""
    from azure.core.exceptions import AzureError, DeserializationError
    from msrest.exceptions import ClientException

    try:
        yield
    except BaiError:
        raise
    except (AzureError, ClientException, OSError) as exc:
        raise translate(exc, action) from None
    except DeserializationError as exc:  # a ValueError: a 200 whose body is not the resource (a web page)
        raise unreadable_answer(action, str(exc.args[0] if exc.args else exc)) from None
    except (AttributeError, TypeError, KeyError) as exc:
        # The SDK reading an empty or foreign body (a list answer with no `value`, a share listing that is
        # HTML) fails on it this way; the same error in bai's own code is a bug and keeps its traceback.
        if not _raised_by_sdk(exc):
            raise
        raise unreadable_answer(action, f"{type(exc).__name__}: {exc}") from None


def host_of(url: str) -> str:
    return urlsplit(url).hostname or url
