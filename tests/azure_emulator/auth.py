"""Azure Storage request authentication, verified the way the service does it (written from the REST docs,
not from the SDK, so a signing mistake on either side shows as a 403 like on Azure).

* SharedKey: `Authorization: SharedKey <account>:<base64 HMAC-SHA256(key, string-to-sign)>`.
* Service SAS for a file (`sr=f`): the query carries sv, sr, sp, st?, se, sig.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import unquote

from multidict import CIMultiDictProxy, MultiDictProxy
from yarl import URL

SAS_VERSION = "2019-02-02"

_SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def sign(key: str, text: str) -> str:
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def shared_key_string_to_sign(
    method: str, raw_path: str, headers: CIMultiDictProxy[str], query: MultiDictProxy[str], account: str
) -> str:
    """The string a SharedKey request signs (Blob/Queue/File services, version 2015-02-21 and later)."""
    lines = [method.upper()]
    for name in _SIGNED_HEADERS:
        value = headers.get(name, "")
        if name == "content-length" and value == "0":
            value = ""
        lines.append(value)
    canonical_headers = sorted(
        (name.lower(), value.strip()) for name, value in headers.items() if name.lower().startswith("x-ms-")
    )
    text = "\n".join(lines) + "\n"
    text += "".join(f"{name}:{value}\n" for name, value in canonical_headers)
    text += "/" + account + str(URL(raw_path.split("?", 1)[0]))
    params: dict[str, list[str]] = {}
    for name, value in query.items():
        params.setdefault(name.lower(), []).append(unquote(value))
    for name in sorted(params):
        text += f"\n{name}:{','.join(sorted(params[name]))}"
    return text


def verify_shared_key(
    method: str,
    raw_path: str,
    headers: CIMultiDictProxy[str],
    query: MultiDictProxy[str],
    account: str,
    keys: list[str],
) -> tuple[bool, str, str]:
    """(ok, signature sent, string to sign) for a SharedKey request to `account`."""
    authorization = headers.get("Authorization", "")
    scheme, _, credential = authorization.partition(" ")
    name, _, signature = credential.partition(":")
    text = shared_key_string_to_sign(method, raw_path, headers, query, account)
    if scheme != "SharedKey" or name != account:
        return False, signature, text
    ok = any(hmac.compare_digest(sign(key, text), signature) for key in keys)
    return ok, signature, text


def _sas_string_to_sign(params: dict[str, str], canonical_resource: str) -> str:
    fields = [
        params.get("sp", ""),
        params.get("st", ""),
        params.get("se", ""),
        canonical_resource,
        params.get("si", ""),
        params.get("sip", ""),
        params.get("spr", ""),
        params.get("sv", ""),
        params.get("rscc", ""),
        params.get("rscd", ""),
        params.get("rsce", ""),
        params.get("rscl", ""),
        params.get("rsct", ""),
    ]
    return "\n".join(fields)


def file_sas_query(account: str, share: str, path: str, key: str, expiry: datetime) -> str:
    """A read-only service SAS for one file, as Batch AI puts in listOutputFiles' download URLs."""
    params = {
        "sv": SAS_VERSION,
        "sr": "f",
        "sp": "r",
        "se": expiry.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    params["sig"] = sign(key, _sas_string_to_sign(params, f"/file/{account}/{share}/{path}"))
    from urllib.parse import urlencode

    return urlencode(params)


def verify_file_sas(
    query: MultiDictProxy[str], account: str, share: str, path: str, keys: list[str], now: datetime
) -> str | None:
    """None if the SAS grants reading this file now; else the reason it does not (the service's words)."""
    params = {name: query.get(name, "") for name in ("sv", "sr", "sp", "st", "se", "sig", "si", "sip", "spr")}
    if params["sr"] != "f" or "r" not in params["sp"]:
        return "Signature did not grant read access to this file."
    text = _sas_string_to_sign(params, f"/file/{account}/{share}/{path}")
    if not any(hmac.compare_digest(sign(key, text), params["sig"]) for key in keys):
        return "Signature fields not well formed or signature did not match."
    try:
        expiry = datetime.fromisoformat(params["se"].replace("Z", "+00:00"))
    except ValueError:
        return "Signed expiry time is not a valid date."
    if now >= expiry:
        return "Signed expiry time [{}] must be after signed start time [{}]".format(
            params["se"], now.strftime("%a, %d %b %Y %H:%M:%S GMT")
        )
    return None
