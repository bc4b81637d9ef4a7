"""The ssh backend: the tutorial's cluster as a set of real SSH hosts, jobs run across them by horovodrun.

For teams without a cloud: the state, queue and detached supervisors are the local backend's (on the jump
box, under `$BAI_HOME`); a cluster is a list of hosts (`--hosts a:4,b:4`), a job runs with the venv's
`horovodrun --gloo -H a:4,b:4` over the backend's own SSH settings, and the shares live on a storage root
mounted at the same path on every host.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.backends.ssh.backend import SshBackend


def open_ssh_backend(home: Path | str | None = None) -> SshBackend:
    """The ssh backend over `home` (default `$BAI_HOME`, else the user data folder)."""
    from tui.backends.ssh.backend import SshBackend

    return SshBackend(home)


__all__ = ["open_ssh_backend"]
