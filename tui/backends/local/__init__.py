"""The embedded local backend, the default: the whole Batch AI workflow on this machine, no cloud account.

State is one SQLite database under `$BAI_HOME` (default: the platform's user data folder), file shares are
folders, a cluster is N local worker slots, and every running job has its own detached supervisor process
that runs `horovodrun` (or mpirun, or bash), records how it ended and starts the next queued job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.backends.local.backend import LocalBackend


def open_local_backend(home: Path | str | None = None) -> LocalBackend:
    """The local backend over `home` (default `$BAI_HOME`, else the user data folder)."""
    from tui.backends.local.backend import LocalBackend

    return LocalBackend(home)


__all__ = ["open_local_backend"]
