"""Name rules for local resources, the same ones Azure enforced, checked before anything is created.

Names become folder names under `$BAI_HOME`, so the rules also keep every path inside its parent.
"""

from __future__ import annotations

import re

from tui.core.errors import BaiError

# Azure Files: a name is at most 255 characters and a path 2048; the local file system counts 255 bytes.
MAX_NAME_BYTES = 255
MAX_SHARE_PATH = 2048
_RESOURCE = re.compile(r"^[A-Za-z0-9_][-A-Za-z0-9_.]{0,63}$")
_GROUP = re.compile(r"^[-\w._()]{1,90}$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_SHARE = re.compile(r"^[a-z0-9](?!.*--)[-a-z0-9]{1,61}[a-z0-9]$")


def check_group(name: str) -> str:
    if not _GROUP.fullmatch(name or "") or name.endswith("."):
        raise BaiError(
            f"resource group name {name!r} is not valid: use 1-90 letters, digits, '.', '_', '-', '(', ')', "
            "not ending in '.'"
        )
    return name


def check_resource(kind: str, name: str) -> str:
    """Workspace, experiment, cluster and job names (Batch AI: 1-64 letters, digits, '-', '_', '.')."""
    if not _RESOURCE.fullmatch(name or ""):
        raise BaiError(
            f"{kind} name {name!r} is not valid: use 1-64 letters, digits, '-', '_' or '.', "
            "starting with a letter, digit or '_'"
        )
    return name


def check_account(name: str) -> str:
    if not _ACCOUNT.fullmatch(name or ""):
        raise BaiError(
            f"storage account name {name!r} is not valid: use 3-24 lowercase letters and digits only"
        )
    return name


def check_share(name: str) -> str:
    if not _SHARE.fullmatch(name or ""):
        raise BaiError(
            f"share name {name!r} is not valid: use 3-63 lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit"
        )
    return name


def share_path_parts(path: str) -> list[str]:
    """A path inside a share split into parts; refuses anything that would leave the share."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if len(path) > MAX_SHARE_PATH:
        raise BaiError(
            f"path {_clip(path)!r} is {len(path)} characters long; Azure Files allows {MAX_SHARE_PATH}: "
            "give a shorter path"
        )
    for part in parts:
        if len(part.encode()) > MAX_NAME_BYTES:
            raise BaiError(
                f"name {_clip(part)!r} in path is {len(part.encode())} bytes long; a file or folder name "
                f"is at most {MAX_NAME_BYTES} bytes (255 characters in Azure Files): give a shorter name"
            )
        if part == "..":
            raise BaiError(
                f"path {path!r} leaves the share ('..' is not allowed): give a path inside the share"
            )
    return parts


def _clip(text: str, keep: int = 40) -> str:
    """A long name shortened for an error line: its start, '...', and its length is said beside it."""
    return text if len(text) <= keep else text[:keep] + "..."
