"""Where the local backend keeps its state: one folder, `$BAI_HOME`, shared by every console and supervisor.

Everything lives under that folder so a test (or a second user profile) can point `BAI_HOME` somewhere else
and get a completely separate world: the SQLite database, the storage accounts' share folders, and one work
folder per job (mount root, temp folder, launcher).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


def default_home() -> Path:
    """`$BAI_HOME`, else the platform's user data folder for `bai` (created on first use)."""
    from tui.core import settings

    explicit = settings.bai_home()
    if explicit is not None:
        return explicit.resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("bai")).resolve()


@dataclass(frozen=True)
class Layout:
    """The folders under one `$BAI_HOME`."""

    root: Path
    # Run as `python -m MODULE --detach JOB_UUID` to supervise one job (the ssh backend has its own).
    supervisor_module: ClassVar[str] = "tui.backends.local.supervisor"

    def supervisor_env(self) -> dict[str, str]:
        """What a spawned supervisor needs in its environment to find this same layout again."""
        return {"BAI_HOME": str(self.root)}

    def stop_job(self, job_uuid: str, pgid: int | None, grace: float, record: Path | None = None) -> None:
        """Stop every process of a job whose supervisor is gone or being removed (the ssh backend also
        ends its workers on the remote hosts)."""
        from tui.backends.local import procs

        procs.stop_job(job_uuid, pgid, grace=grace, record=record, settle=procs.SETTLE_SECONDS)

    @property
    def database(self) -> Path:
        return self.root / "state.sqlite3"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    def account_dir(self, account: str) -> Path:
        return self.storage / account

    def share_dir(self, account: str, share: str) -> Path:
        return self.storage / account / share

    @property
    def jobs(self) -> Path:
        return self.root / "jobs"

    def job_dir(self, job_uuid: str) -> Path:
        return self.jobs / job_uuid

    @property
    def cluster_mount_root(self) -> Path:
        """`$AZ_BATCHAI_MOUNT_ROOT`: where cluster-level file systems would be mounted (none locally)."""
        return self.root / "mounts"

    def ensure(self) -> None:
        for folder in (self.root, self.storage, self.jobs, self.cluster_mount_root):
            folder.mkdir(parents=True, exist_ok=True)
