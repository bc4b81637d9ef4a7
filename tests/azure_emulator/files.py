"""Azure Files REST (path style: /<account>/<share>/<path>): shares, directories, files, ranges, listings.

Requests are authenticated like the service does it: SharedKey signatures are recomputed from the request
(a wrong key answers 403 AuthenticationFailed, with the AuthenticationErrorDetail Azure sends), and a
download URL's SAS is checked for its signature and expiry.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote
from xml.sax.saxutils import escape

from aiohttp import web

from .auth import verify_file_sas, verify_shared_key
from .world import Account, Share, now_dt

if TYPE_CHECKING:
    from .server import AzureEmulator

VERSION = "2025-11-05"
# Set by the fault middleware: cut the connection after this many body bytes of a file GET.
DROP_AFTER = web.RequestKey("drop_after", int)
AUTH_FAILED = (
    "Server failed to authenticate the request. "
    "Make sure the value of Authorization header is formed correctly including the signature."
)


def _http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _etag(moment: datetime) -> str:
    return '"0x' + hashlib.md5(moment.isoformat().encode()).hexdigest()[:15].upper() + '"'


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-version": VERSION, "Date": _http_date(now_dt())}
    headers.update(extra or {})
    return headers


def storage_error(
    status: int, code: str, message: str, detail: str | None = None, method: str = "GET"
) -> web.Response:
    request_id = str(uuid.uuid4())
    text = f"{message}\nRequestId:{request_id}\nTime:{now_dt():%Y-%m-%dT%H:%M:%S.%f}0Z"
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{escape(text)}</Message>'
    )
    if detail:
        body += f"<AuthenticationErrorDetail>{escape(detail)}</AuthenticationErrorDetail>"
    body += "</Error>"
    headers = _headers({"x-ms-error-code": code, "x-ms-request-id": request_id})
    if method == "HEAD":
        return web.Response(status=status, headers=headers)
    return web.Response(status=status, body=body.encode(), content_type="application/xml", headers=headers)


def _props_headers(moment: datetime, extra: dict[str, str] | None = None) -> dict[str, str]:
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    headers = {
        "ETag": _etag(moment),
        "Last-Modified": _http_date(moment),
        "x-ms-file-attributes": "Archive",
        "x-ms-file-creation-time": stamp,
        "x-ms-file-last-write-time": stamp,
        "x-ms-file-change-time": stamp,
        "x-ms-file-permission-key": "4066528134148476695*1",
        "x-ms-file-id": "13835128424026341376",
        "x-ms-file-parent-id": "0",
        "x-ms-request-server-encrypted": "true",
    }
    headers.update(extra or {})
    return _headers(headers)


_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def _parse_range(value: str | None) -> tuple[int, int | None] | None:
    if not value:
        return None
    match = _RANGE.fullmatch(value.strip())
    if not match:
        return None
    return int(match[1]), (int(match[2]) if match[2] else None)


def _listing(emu: AzureEmulator, account: Account, share: Share, directory: str, request: web.Request) -> str:
    """List Directories and Files as the service answers it: files and folders in one name order, a
    page of `maxresults` (or the emulator's `page_size`) entries, and `NextMarker` naming the next one."""
    prefix = f"{directory}/" if directory else ""
    include = (request.query.get("include") or "").lower()
    name_prefix = request.query.get("prefix") or ""
    starts = prefix + name_prefix  # name_starts_with
    marker = request.query.get("marker") or ""
    named: list[tuple[str, str]] = []
    for path in share.directories:
        if path and path.startswith(starts) and "/" not in path[len(prefix) :]:
            named.append(
                (
                    path[len(prefix) :],
                    f"<Directory><Name>{escape(path[len(prefix) :])}</Name><Properties /></Directory>",
                )
            )
    for path, item in share.files.items():
        if path.startswith(starts) and "/" not in path[len(prefix) :]:
            props = f"<Content-Length>{len(item.data)}</Content-Length>"
            if "timestamps" in include:
                stamp = item.modified.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
                props += (
                    f"<CreationTime>{stamp}</CreationTime><LastAccessTime>{stamp}</LastAccessTime>"
                    f"<LastWriteTime>{stamp}</LastWriteTime><ChangeTime>{stamp}</ChangeTime>"
                    f"<Last-Modified>{_http_date(item.modified)}</Last-Modified>"
                )
            name = path[len(prefix) :]
            named.append((name, f"<File><Name>{escape(name)}</Name><Properties>{props}</Properties></File>"))
    named.sort()
    if marker:
        named = [entry for entry in named if entry[0] >= marker]
    try:
        size = int(request.query.get("maxresults") or 0) or emu.page_size or 5000
    except ValueError:
        size = 5000
    page, rest = named[:size], named[size:]
    head = "".join(
        f"<{tag}>{escape(value)}</{tag}>"
        for tag, value in (
            ("Marker", marker),
            ("Prefix", name_prefix),
            ("MaxResults", request.query.get("maxresults") or ""),
        )
        if value
    )
    next_marker = f"<NextMarker>{escape(rest[0][0])}</NextMarker>" if rest else "<NextMarker />"
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<EnumerationResults ServiceEndpoint="{emu.base_url}/{account.name}/" ShareName="{share.name}" '
        f'DirectoryPath="{escape(directory)}">{head}<Entries>{"".join(xml for _name, xml in page)}</Entries>'
        f"{next_marker}</EnumerationResults>"
    )


def _share_listing(emu: AzureEmulator, account: Account) -> str:
    items = "".join(
        f"<Share><Name>{escape(share.name)}</Name><Properties><Last-Modified>{_http_date(share.created)}"
        f"</Last-Modified><Etag>{_etag(share.created)}</Etag><Quota>{share.quota}</Quota></Properties></Share>"
        for share in sorted(account.shares.values(), key=lambda s: s.name)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<EnumerationResults ServiceEndpoint="{emu.base_url}/{account.name}/"><Shares>{items}</Shares>'
        "<NextMarker /></EnumerationResults>"
    )


def _xml(body: str, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body.encode(), content_type="application/xml", headers=_headers())


async def _send_file(
    emu: AzureEmulator, request: web.Request, data: bytes, moment: datetime
) -> web.StreamResponse:
    wanted = _parse_range(request.headers.get("x-ms-range") or request.headers.get("Range"))
    size = len(data)
    headers = _props_headers(
        moment, {"x-ms-type": "File", "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
    )
    if wanted is not None:
        start, end = wanted
        if start >= size:
            # As Azure Files answers: 416 InvalidRange with `Content-Range: bytes */<size>`.
            refused = storage_error(
                416,
                "InvalidRange",
                "The range specified is invalid for the current size of the resource.",
                method=request.method,
            )
            refused.headers["Content-Range"] = f"bytes */{size}"
            return refused
        end = size - 1 if end is None else min(end, size - 1)
        body = data[start : end + 1]
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = 206
    else:
        body = data
        status = 200
    if request.method == "HEAD":
        headers["Content-Length"] = str(size)
        return web.Response(status=200, headers=headers)
    drop_after = request.get(DROP_AFTER)
    if drop_after is None:
        return web.Response(status=status, body=body, headers=headers)
    # A connection that dies mid-body: announce the full length, send part of it, then cut the socket.
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: min(drop_after, len(body))])
    transport = request.transport
    if transport is not None:
        transport.close()
    return response


async def handle(emu: AzureEmulator, request: web.Request) -> web.StreamResponse:
    world = emu.world
    method = request.method
    parts = [unquote(part) for part in request.raw_path.split("?", 1)[0].split("/") if part]
    account_name, share_name, path = parts[0], (parts[1] if len(parts) > 1 else None), "/".join(parts[2:])
    account = world.accounts.get(account_name)
    if account is None:
        return storage_error(404, "ResourceNotFound", "The specified resource does not exist.", method=method)
    query = request.query
    if "sig" in query:
        if method not in ("GET", "HEAD") or share_name is None:
            return storage_error(
                403,
                "AuthorizationPermissionMismatch",
                "This request is not authorized to perform this operation using this permission.",
                method=method,
            )
        reason = verify_file_sas(query, account.name, share_name, path, account.keys, now_dt())
        if reason is None and emu.link_revoked(query.get("se", "")):
            reason = "Signed expiry time has passed."
        if reason is not None:
            emu.sas_refused += 1
            return storage_error(
                403,
                "AuthenticationFailed",
                AUTH_FAILED,
                detail=reason,
                method=method,
            )
    else:
        ok, signature, text = verify_shared_key(
            method, request.raw_path, request.headers, query, account.name, account.keys
        )
        if not ok:
            return storage_error(
                403,
                "AuthenticationFailed",
                AUTH_FAILED,
                detail=f"The MAC signature found in the HTTP request '{signature}' "
                "is not the same as any computed signature. "
                f"Server used following string to sign: '{text}'.",
                method=method,
            )
    restype = query.get("restype")
    comp = query.get("comp")
    if share_name is None:
        if comp == "list":
            return _xml(_share_listing(emu, account))
        return storage_error(
            400,
            "InvalidQueryParameterValue",
            "Value for one of the query parameters specified in the request URI is invalid.",
            method=method,
        )
    share = account.shares.get(share_name)
    if restype == "share" and not path:
        if method == "PUT":
            if share is not None:
                return storage_error(409, "ShareAlreadyExists", "The specified share already exists.")
            if not re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}", share_name):
                return storage_error(
                    400, "InvalidResourceName", "The specified resource name contains invalid characters."
                )
            quota = int(request.headers.get("x-ms-share-quota") or 5120)
            account.shares[share_name] = Share(name=share_name, quota=quota)
            return web.Response(status=201, headers=_props_headers(account.shares[share_name].created))
        if share is None:
            return storage_error(404, "ShareNotFound", "The specified share does not exist.", method=method)
        if method == "DELETE":
            del account.shares[share_name]
            return web.Response(status=202, headers=_headers())
        if method in ("GET", "HEAD"):
            return web.Response(
                status=200, headers=_props_headers(share.created, {"x-ms-share-quota": str(share.quota)})
            )
    if share is None:
        return storage_error(404, "ShareNotFound", "The specified share does not exist.", method=method)
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    if restype == "directory":
        if method == "GET" and comp == "list":
            if path not in share.directories:
                return storage_error(404, "ResourceNotFound", "The specified resource does not exist.")
            return _xml(_listing(emu, account, share, path, request))
        if method == "PUT":
            if path in share.directories or path in share.files:
                return storage_error(409, "ResourceAlreadyExists", "The specified resource already exists.")
            if parent not in share.directories:
                return storage_error(404, "ParentNotFound", "The specified parent path does not exist.")
            share.directories.add(path)
            return web.Response(status=201, headers=_props_headers(now_dt()))
        if path not in share.directories:
            return storage_error(
                404, "ResourceNotFound", "The specified resource does not exist.", method=method
            )
        if method in ("GET", "HEAD"):
            return web.Response(status=200, headers=_props_headers(share.created))
        if method == "DELETE":
            inside = path + "/"
            if any(p.startswith(inside) for p in share.files) or any(
                d.startswith(inside) for d in share.directories
            ):
                return storage_error(409, "DirectoryNotEmpty", "The specified directory is not empty.")
            share.directories.discard(path)
            return web.Response(status=202, headers=_headers())
    if method == "PUT" and comp == "range":
        entry = share.files.get(path)
        if entry is None:
            return storage_error(404, "ResourceNotFound", "The specified resource does not exist.")
        wanted = _parse_range(request.headers.get("x-ms-range") or request.headers.get("Range"))
        if wanted is None or wanted[1] is None:
            return storage_error(
                400,
                "InvalidHeaderValue",
                "The value for one of the HTTP headers is not in the correct format.",
            )
        start, end = wanted
        if end >= len(entry.data):
            return storage_error(
                416, "InvalidRange", "The range specified is invalid for the current size of the resource."
            )
        body = await request.read()
        if request.headers.get("x-ms-write", "update") == "clear":
            body = bytes(end - start + 1)
        elif len(body) != end - start + 1:
            return storage_error(
                400, "InvalidHeaderValue", "The range does not match the length of the body."
            )
        entry.data[start : end + 1] = body
        entry.modified = now_dt()
        return web.Response(status=201, headers=_props_headers(entry.modified))
    if method == "PUT" and comp is None:
        if request.headers.get("x-ms-type", "").lower() != "file":
            return storage_error(
                400,
                "MissingRequiredHeader",
                "An HTTP header that's mandatory for this request is not specified.",
            )
        if parent not in share.directories:
            return storage_error(404, "ParentNotFound", "The specified parent path does not exist.")
        if path in share.directories:
            return storage_error(409, "ResourceAlreadyExists", "The specified resource already exists.")
        size = int(request.headers.get("x-ms-content-length") or 0)
        share.write(path, bytes(size))
        return web.Response(status=201, headers=_props_headers(share.files[path].modified))
    if method in ("GET", "HEAD") and comp is None:
        entry = share.files.get(path)
        if entry is None:
            return storage_error(
                404, "ResourceNotFound", "The specified resource does not exist.", method=method
            )
        return await _send_file(emu, request, bytes(entry.data), entry.modified)
    if method == "DELETE" and comp is None:
        if share.files.pop(path, None) is None:
            return storage_error(404, "ResourceNotFound", "The specified resource does not exist.")
        return web.Response(status=202, headers=_headers())
    return storage_error(
        400, "UnsupportedHttpVerb", f"The resource doesn't support {method} here.", method=method
    )
