"""Reading the hosts a user describes: `--hosts a:4,b:4` and horovodrun's hostfile format (`a slots=4`).

The hostfile accepts comments (`#` to the end of the line) and blank lines, which horovodrun itself rejects,
so a file kept for horovodrun works here and a commented one works too. Every bad entry is one error naming
where it is and what is expected.
"""

from __future__ import annotations

import re
from pathlib import Path

from tui.backends.ssh.remote import HostSpec
from tui.core.errors import BaiError

MAX_SLOTS = 1024
_HOST = re.compile(r"^[A-Za-z0-9_.\-\[\]]+$")


def _slots(text: str, where: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_SLOTS:
        raise BaiError(f"{where}: slots {text!r} is not valid: give a whole number from 1 to {MAX_SLOTS}")
    return int(text)


def _host(name: str, where: str) -> str:
    if not _HOST.fullmatch(name):
        raise BaiError(f"{where}: {name!r} is not a host name or address")
    return name


def parse_hosts(text: str) -> list[HostSpec]:
    """`HOST[:SLOTS][,HOST[:SLOTS]...]`; SLOTS defaults to 1."""
    found = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise BaiError(f"--hosts {text!r}: an empty entry: give HOST[:SLOTS][,HOST[:SLOTS]...]")
        name, _, slots = item.partition(":")
        where = f"--hosts entry {item!r}"
        found.append(HostSpec(_host(name.strip(), where), _slots(slots.strip(), where) if slots else 1))
    return found


def parse_hostfile(path: Path) -> list[HostSpec]:
    """horovodrun's hostfile: `HOST slots=N` (or just `HOST`) per line, with comments and blank lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BaiError(
            f"--hostfile {str(path)!r} cannot be read ({error.strerror}): give a readable file"
        ) from None
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"--hostfile {path.name} line {number}"
        parts = line.split()
        slots = 1
        if len(parts) == 2 and parts[1].startswith("slots="):
            slots = _slots(parts[1][len("slots=") :], where)
        elif len(parts) != 1:
            raise BaiError(f"{where}: {line!r} is not `HOST slots=N`")
        found.append(HostSpec(_host(parts[0], where), slots))
    if not found:
        raise BaiError(f"--hostfile {path.name} lists no host: write one `HOST slots=N` per line")
    return found


def describe_hosts(hosts: str | None, hostfile: str | None) -> list[HostSpec]:
    """The cluster's hosts in order: --hosts first, then --hostfile; each host once."""
    found: list[HostSpec] = []
    if hosts:
        found += parse_hosts(hosts)
    if hostfile:
        found += parse_hostfile(Path(hostfile).expanduser())
    if not found:
        raise BaiError(
            "the ssh backend needs the cluster's hosts: give --hosts HOST[:SLOTS],... or --hostfile FILE"
        )
    seen: set[str] = set()
    for host in found:
        if host.name in seen:
            raise BaiError(f"host {host.name!r} is listed twice: list each host once, with all its slots")
        seen.add(host.name)
    return found
