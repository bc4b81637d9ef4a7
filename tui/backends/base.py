"""The one async protocol both backends implement (the embedded local one and Azure Batch AI).

The console and the `bai` command talk only to `Backend`; nothing above this layer knows which backend is
behind it. Every method is async so the console's workers never block the event loop, and every failure is a
`BaiError` whose message says what was wrong and what to do, never a traceback or a secret.

The job spec is the SDK's own `azure.mgmt.batchai.models.JobCreateParameters` (read from job.json by
`tui.core.jobspec`), so both backends take the very same object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from tui.core.errors import (  # noqa: F401 (re-exported for the backends)
    BaiError,
    ConflictError,
    FieldError,
    JobSpecError,
    NotFoundError,
    UnsupportedError,
)
from tui.core.model import (
    Cluster,
    ClusterRef,
    Experiment,
    ExperimentRef,
    FileEntry,
    FileShare,
    Job,
    JobRef,
    JobSubmitOptions,  # noqa: F401 (re-exported for the backends)
    ProgressCallback,
    ResourceGroup,
    StorageAccount,
    Workspace,
)
from tui.core.operations import FolderStorage, JobSubmitter


class GroupService(Protocol):
    async def create(self, name: str, location: str) -> ResourceGroup: ...
    async def get(self, name: str) -> ResourceGroup: ...
    async def list(self) -> list[ResourceGroup]: ...
    async def delete(self, name: str) -> None:
        """Delete the group and everything in it (workspaces, clusters, jobs, storage accounts)."""
        ...


class StorageService(FolderStorage, Protocol):
    """Accounts, shares and files; the folder and upload part is `tui.core.operations.FolderStorage`."""

    async def create_account(
        self, resource_group: str, name: str, location: str, sku: str = "Standard_LRS"
    ) -> StorageAccount: ...
    async def get_account(self, name: str) -> StorageAccount: ...
    async def list_accounts(self, resource_group: str | None = None) -> list[StorageAccount]: ...
    async def delete_account(self, name: str) -> None: ...

    async def create_share(self, account: str, share: str, quota_gb: int | None = None) -> FileShare: ...
    async def list_shares(self, account: str) -> list[FileShare]: ...
    async def delete_share(self, account: str, share: str) -> None: ...

    async def download_file(
        self,
        account: str,
        share: str,
        path: str,
        destination: Path,
        progress: ProgressCallback | None = None,
    ) -> Path: ...
    async def delete_file(self, account: str, share: str, path: str) -> None: ...


class WorkspaceService(Protocol):
    async def create(self, resource_group: str, name: str, location: str | None = None) -> Workspace: ...
    async def get(self, resource_group: str, name: str) -> Workspace: ...
    async def list(self, resource_group: str | None = None) -> list[Workspace]: ...
    async def delete(self, resource_group: str, name: str) -> None: ...


class ExperimentService(Protocol):
    async def create(self, ref: ExperimentRef) -> Experiment: ...
    async def get(self, ref: ExperimentRef) -> Experiment: ...
    async def list(self, resource_group: str, workspace: str) -> list[Experiment]: ...
    async def delete(self, ref: ExperimentRef) -> None: ...


class ClusterService(Protocol):
    async def create(
        self,
        ref: ClusterRef,
        vm_size: str,
        target_node_count: int,
        vm_priority: str = "dedicated",
        admin_user_name: str | None = None,
        ssh_public_key: str | None = None,
    ) -> Cluster: ...
    async def get(self, ref: ClusterRef) -> Cluster: ...
    async def list(self, resource_group: str, workspace: str) -> list[Cluster]: ...
    async def resize(self, ref: ClusterRef, target_node_count: int) -> Cluster: ...
    async def delete(self, ref: ClusterRef) -> None: ...


class JobService(JobSubmitter, Protocol):
    """Jobs; submitting is `tui.core.operations.JobSubmitter`."""

    async def get(self, ref: JobRef) -> Job: ...
    async def list(self, resource_group: str, workspace: str, experiment: str) -> list[Job]: ...
    async def wait(self, ref: JobRef, poll_interval: float = 2.0, timeout: float | None = None) -> Job:
        """Return once the job reaches succeeded or failed."""
        ...

    async def terminate(self, ref: JobRef) -> Job: ...
    async def delete(self, ref: JobRef) -> None: ...
    async def list_output_files(
        self, ref: JobRef, output_directory_id: str = "stdouterr", directory: str = "."
    ) -> list[FileEntry]: ...
    def stream_file(
        self,
        ref: JobRef,
        name: str,
        output_directory_id: str = "stdouterr",
        offset: int = 0,
        follow: bool = True,
    ) -> AsyncIterator[bytes]:
        """The file's bytes from `offset`, unchanged; with `follow`, keeps yielding until the job has ended
        and every byte written before the end has been yielded."""
        ...


@runtime_checkable
class Backend(Protocol):
    """One backend: the six services and a way to release connections."""

    name: str
    groups: GroupService
    storage: StorageService
    workspaces: WorkspaceService
    experiments: ExperimentService
    clusters: ClusterService
    jobs: JobService

    async def close(self) -> None: ...
