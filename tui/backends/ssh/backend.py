"""`SshBackend`: the local backend's services over the ssh layout, with clusters of hosts and remote jobs."""

from __future__ import annotations

from pathlib import Path

from tui.backends.local.context import LocalContext
from tui.backends.local.groups import LocalGroups
from tui.backends.local.storage import LocalStorage
from tui.backends.local.workspaces import LocalExperiments, LocalWorkspaces
from tui.backends.ssh.clusters import SshClusters, ensure_schema
from tui.backends.ssh.jobs import SshJobs
from tui.backends.ssh.layout import SshLayout


class SshContext(LocalContext):
    """The local context on the ssh layout, with the ssh tables created once."""

    def __init__(self, layout: SshLayout):
        super().__init__(layout)
        with self.connection() as conn:
            ensure_schema(conn)


class SshBackend:
    name = "ssh"

    def __init__(self, home: Path | str | None = None):
        layout = SshLayout.from_env(home)
        self.context = SshContext(layout)
        self.home = layout.root
        self.groups = LocalGroups(self.context)
        self.storage = LocalStorage(self.context)
        self.workspaces = LocalWorkspaces(self.context)
        self.experiments = LocalExperiments(self.context)
        self.clusters = SshClusters(self.context)
        self.jobs = SshJobs(self.context)

    async def close(self) -> None:
        """Nothing to release: every ssh connection lives for one call, and jobs outlive this object."""
