"""Where the ssh backend keeps things: its state on the jump box, its jobs on the storage root all hosts see.

The database (`$BAI_HOME/ssh-state.sqlite3`), the backend's own ssh config and known_hosts (`$BAI_HOME/ssh/`)
stay on the jump box. The shares and every job's work folder (launcher, mount links, temp folder, the 0600
environment file the workers read) live under the storage root, `$BAI_SSH_STORAGE_ROOT` or
`$BAI_HOME/storage`, which must be mounted at the same path on every host (NFS), as Batch AI mounted its
Azure file shares on every node.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from tui.backends.local.home import Layout, default_home

STORAGE_ROOT_VARIABLE = "BAI_SSH_STORAGE_ROOT"
# Below the storage root: a name no storage account can have (account names are lower-case letters/digits).
WORK_FOLDER = ".bai"


def storage_root(home: Path) -> Path:
    explicit = os.environ.get(STORAGE_ROOT_VARIABLE, "").strip()
    return Path(explicit).expanduser().resolve() if explicit else home / "storage"


@dataclass(frozen=True)
class SshLayout(Layout):
    """The local layout with the storage root moved where every host sees it, and remote job stops."""

    storage_root: Path = Path()
    supervisor_module: ClassVar[str] = "tui.backends.ssh.supervisor"

    @classmethod
    def from_env(cls, home: Path | str | None = None) -> SshLayout:
        root = Path(home).expanduser().resolve() if home is not None else default_home()
        return cls(root, storage_root(root))

    def supervisor_env(self) -> dict[str, str]:
        return {"BAI_HOME": str(self.root), STORAGE_ROOT_VARIABLE: str(self.storage_root)}

    @property
    def database(self) -> Path:
        return self.root / "ssh-state.sqlite3"

    @property
    def storage(self) -> Path:
        return self.storage_root

    @property
    def work(self) -> Path:
        return self.storage_root / WORK_FOLDER

    @property
    def jobs(self) -> Path:
        return self.work / "jobs"

    @property
    def cluster_mount_root(self) -> Path:
        return self.work / "mounts"

    @property
    def probes(self) -> Path:
        """Token files a host must read back to prove it sees the same storage root."""
        return self.work / "probes"

    @property
    def ssh_folder(self) -> Path:
        return self.root / "ssh"

    @property
    def ssh_config(self) -> Path:
        return self.ssh_folder / "config"

    @property
    def known_hosts(self) -> Path:
        return self.ssh_folder / "known_hosts"

    def ensure(self) -> None:
        super().ensure()
        for folder in (self.work, self.probes):
            folder.mkdir(parents=True, exist_ok=True)
        from tui.backends.ssh import remote

        remote.write_config(self)

    def stop_job(self, job_uuid: str, pgid: int | None, grace: float, record: Path | None = None) -> None:
        """Stop the job here (horovodrun, its ssh clients) and its workers on every host (over SSH)."""
        from tui.backends.local import procs
        from tui.backends.ssh import remote

        procs.stop_job(job_uuid, pgid, grace=grace, record=record, settle=procs.SETTLE_SECONDS)
        remote.stop_workers(self, self.job_dir(job_uuid), grace)
