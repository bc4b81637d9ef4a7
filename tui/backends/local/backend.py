"""`LocalBackend`: the six local services over one `$BAI_HOME`, satisfying `tui.backends.base.Backend`."""

from __future__ import annotations

from pathlib import Path

from tui.backends.local.clusters import LocalClusters
from tui.backends.local.context import LocalContext
from tui.backends.local.groups import LocalGroups
from tui.backends.local.home import Layout, default_home
from tui.backends.local.jobs import LocalJobs
from tui.backends.local.storage import LocalStorage
from tui.backends.local.workspaces import LocalExperiments, LocalWorkspaces


class LocalBackend:
    name = "local"

    def __init__(self, home: Path | str | None = None):
        root = Path(home).expanduser().resolve() if home is not None else default_home()
        self.context = LocalContext(Layout(root))
        self.home = root
        self.groups = LocalGroups(self.context)
        self.storage = LocalStorage(self.context)
        self.workspaces = LocalWorkspaces(self.context)
        self.experiments = LocalExperiments(self.context)
        self.clusters = LocalClusters(self.context)
        self.jobs = LocalJobs(self.context)

    async def close(self) -> None:
        """Nothing to release: connections live only for one call, and jobs outlive this object by design."""
