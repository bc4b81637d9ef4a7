"""Pieces of the batchai backend that need no server: secret scrubbing, the static token, link expiry."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time

from tui.backends.batchai.credentials import StaticTokenCredential
from tui.backends.batchai.errors import service_error_parts
from tui.backends.batchai.redact import SECRETS, ScrubFilter, scrub
from tui.backends.batchai.stream import link_expiry


def test_scrub_masks_signatures_headers_and_known_values() -> None:
    text = (
        "GET https://a.file.core.windows.net/s/stdout.txt?sv=2019-02-02&sr=f&sp=r&se=2026-01-01T00%3A00%3A00Z"
        "&sig=abc%2Bdef%3D HTTP/1.1 Authorization: SharedKey acct:c2lnbmF0dXJl Bearer eyJ0eXAi.abc.def "
        "The MAC signature found in the HTTP request 'c2lnbmF0dXJl' is not the same as any computed "
        "signature. "
        "Server used following string to sign: 'GET\n\n/acct/s'. AccountKey=bm90LWEta2V5;"
    )
    cleaned = scrub(text)
    for secret in ("abc%2Bdef%3D", "c2lnbmF0dXJl", "eyJ0eXAi", "GET\n\n/acct/s", "bm90LWEta2V5"):
        assert secret not in cleaned
    assert scrub("authorization: opaque-value-123") == "authorization: ***"
    assert "sig=***" in cleaned and "se=2026-01-01" in cleaned  # the expiry is not a secret


def test_registered_secrets_are_masked_anywhere_and_in_log_records() -> None:
    key = base64.b64encode(b"k" * 64).decode()
    SECRETS.add(key)
    assert scrub(f"the key is {key}!") == "the key is ***!"
    record = logging.LogRecord("azure.test", logging.INFO, __file__, 1, "sending %s", (key,), None)
    assert ScrubFilter().filter(record) and record.getMessage() == "sending ***"


def test_static_token_uses_the_jwt_expiry_and_hides_itself() -> None:
    exp = int(time.time()) + 600
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    token = f"eyJhbGciOiJub25lIn0.{payload}.c2ln"
    credential = StaticTokenCredential(token)
    access = asyncio.run(credential.get_token("https://management.azure.com/.default"))
    assert (access.token, access.expires_on) == (token, exp)
    assert token not in repr(credential) and scrub(token) == "***"
    plain = asyncio.run(StaticTokenCredential("opaque-token-12345").get_token("scope"))
    assert plain.expires_on > time.time() + 3000


def test_link_expiry_reads_se() -> None:
    assert link_expiry("https://x/f?sv=1&se=2030-01-02T03:04:05Z&sig=s") == 1893553445.0
    assert link_expiry("https://x/f?sv=1") is None and link_expiry("https://x/f?se=soon") is None


def test_service_error_parts_reads_arm_and_batch_ai_details() -> None:
    body = {
        "error": {
            "code": "BadRequest",
            "message": "The job definition is invalid.",
            "details": [
                {
                    "code": "InvalidNodeCount",
                    "target": "properties.nodeCount",
                    "message": "must be 1 or more",
                },
                {"name": "AzureFileUrl", "value": "https://a.file.core.windows.net/s"},
            ],
        }
    }
    code, message, details = service_error_parts(json.dumps(body))
    assert (code, message) == ("BadRequest", "The job definition is invalid.")
    assert details == [
        "properties.nodeCount: must be 1 or more (InvalidNodeCount)",
        "AzureFileUrl: https://a.file.core.windows.net/s",
    ]
    assert service_error_parts("<html>502</html>") == (None, None, [])


def test_only_the_sdk_failing_on_an_answer_is_called_an_unreadable_answer() -> None:
    import pytest
    from azure.storage.fileshare._shared.response_handlers import process_storage_error

    from tui.backends.batchai.errors import azure_errors
    from tui.core.errors import BaiError

    owner: object = None
    with pytest.raises(AttributeError), azure_errors("reading cluster c"):
        print(owner.name)  # type: ignore[attr-defined]  # bai's own bug: its traceback is kept
    with (
        pytest.raises(BaiError, match=r"^reading c failed: the answer could not be read \(AttributeError"),
        azure_errors("reading c"),
    ):
        process_storage_error(object())  # the SDK reading something that is not an answer


def test_a_not_found_names_the_list_that_shows_what_exists() -> None:
    from tui.backends.batchai.advice import not_found_advice
    from tui.cli.wording import hint_text

    def _not_found_advice(code: str | None, action: str, from_files: bool) -> str:
        advice, hint = not_found_advice(code, action, from_files)
        return advice + (hint_text(hint) if hint else "")

    assert "`bai group list`" in _not_found_advice("ResourceGroupNotFound", "reading cluster c", False)
    assert "`bai job list " in _not_found_advice("JobNotFound", "reading job j", False)
    # A generic code: the kind named last before the name; a resource named like a kind is still a name.
    assert "`bai cluster list " in _not_found_advice("ResourceNotFound", "reading cluster job", False)
    assert "`bai workspace list`" in _not_found_advice("NotFound", "listing clusters of workspace w", False)
    assert "`bai storage account list`" in _not_found_advice(
        None, "reading the keys of storage account a", False
    )
    assert "`bai storage file list " in _not_found_advice("ResourceNotFound", "listing myshare/cifar", True)
    assert "AZURE_SUBSCRIPTION_ID" in _not_found_advice(None, "listing resource groups", False)
