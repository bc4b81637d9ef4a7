"""Jobs through `BatchAI.jobs`: submit (with storage credentials filled in), show, list, wait, terminate,
delete, list output files and stream one of them (see `stream.py`)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tui.backends.base import JobSubmitOptions
from tui.backends.batchai import convert
from tui.backends.batchai.clients import AzureClients
from tui.backends.batchai.errors import azure_errors
from tui.backends.batchai.storage import AzureStorageService
from tui.backends.common import wait_until_final
from tui.core.errors import BaiError, Hint
from tui.core.model import FileEntry, Job, JobRef

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters


class AzureJobService:
    def __init__(self, clients: AzureClients, storage: AzureStorageService) -> None:
        self._clients = clients
        self._storage = storage

    def _cluster_id(self, ref: JobRef, cluster: str) -> str:
        return (
            f"/subscriptions/{self._clients.settings.subscription_id}/resourceGroups/{ref.resource_group}"
            f"/providers/Microsoft.BatchAI/workspaces/{ref.workspace}/clusters/{cluster}"
        )

    async def _fill_credentials(self, spec: JobCreateParameters) -> None:
        """Give every storage mount without credentials its account's key (as az did)."""
        from azure.mgmt.batchai.models import AzureStorageCredentialsInfo

        volumes = spec.mount_volumes
        if volumes is None:
            return
        for mount in [*(volumes.azure_file_shares or []), *(volumes.azure_blob_file_systems or [])]:
            credentials = mount.credentials
            if credentials is not None and (
                credentials.account_key or credentials.account_key_secret_reference
            ):
                continue
            if not mount.account_name:
                raise BaiError(
                    "a storage mount names no account: set accountName in job.json",
                    hint=Hint("give", "storage_account_name"),
                )
            key = await self._storage.account_key(mount.account_name)
            mount.credentials = AzureStorageCredentialsInfo(account_key=key)

    async def create(
        self,
        ref: JobRef,
        cluster: str,
        spec: JobCreateParameters,
        options: JobSubmitOptions | None = None,
    ) -> Job:
        from azure.mgmt.batchai.models import ResourceId

        from tui.core.errors import JobSpecError
        from tui.core.jobspec import apply_storage_account, validate_job_spec

        options = options or JobSubmitOptions()
        spec = copy.deepcopy(spec)  # the caller's object never receives the storage key
        errors = validate_job_spec(spec)
        if errors:
            raise JobSpecError(errors)
        account = options.storage_account_name or self._clients.settings.storage_account
        apply_storage_account(spec, account)
        await self._fill_credentials(spec)
        spec.cluster = ResourceId(id=self._cluster_id(ref, cluster))
        with azure_errors(f"creating job {ref.name}"):
            poller = await self._clients.batchai.jobs.begin_create(
                ref.resource_group, ref.workspace, ref.experiment, ref.name, spec
            )
            return convert.job(await poller.result(), ref.resource_group, ref.workspace, ref.experiment)

    async def get(self, ref: JobRef) -> Job:
        with azure_errors(f"reading job {ref.name}"):
            return convert.job(
                await self._clients.batchai.jobs.get(
                    ref.resource_group, ref.workspace, ref.experiment, ref.name
                ),
                ref.resource_group,
                ref.workspace,
                ref.experiment,
            )

    async def list(self, resource_group: str, workspace: str, experiment: str) -> list[Job]:
        with azure_errors(f"listing jobs of experiment {experiment}"):
            pages = self._clients.batchai.jobs.list_by_experiment(resource_group, workspace, experiment)
            return [convert.job(item, resource_group, workspace, experiment) async for item in pages]

    async def wait(self, ref: JobRef, poll_interval: float = 2.0, timeout: float | None = None) -> Job:
        def still_running(job: Job, timeout: float) -> str:
            return (
                f"job {ref.name} is still {job.execution_state.value} after {timeout:g} s; "
                "wait longer or check it with `bai job show`"
            )

        return await wait_until_final(
            lambda: self.get(ref), poll_interval, timeout, still_running, clamp_to_deadline=False
        )

    async def terminate(self, ref: JobRef) -> Job:
        with azure_errors(f"terminating job {ref.name}"):
            poller = await self._clients.batchai.jobs.begin_terminate(
                ref.resource_group, ref.workspace, ref.experiment, ref.name
            )
            await poller.result()
        return await self.get(ref)

    async def delete(self, ref: JobRef) -> None:
        with azure_errors(f"deleting job {ref.name}"):
            poller = await self._clients.batchai.jobs.begin_delete(
                ref.resource_group, ref.workspace, ref.experiment, ref.name
            )
            await poller.result()

    async def list_output_files(
        self, ref: JobRef, output_directory_id: str = "stdouterr", directory: str = "."
    ) -> list[FileEntry]:
        from azure.mgmt.batchai.models import JobsListOutputFilesOptions

        options = JobsListOutputFilesOptions(
            outputdirectoryid=output_directory_id,
            directory=directory or ".",
            linkexpiryinminutes=self._clients.settings.link_expiry_minutes,
        )
        with azure_errors(f"listing output files of job {ref.name}"):
            pages = self._clients.batchai.jobs.list_output_files(
                ref.resource_group, ref.workspace, ref.experiment, ref.name, options
            )
            return [convert.output_file(item, directory or ".") async for item in pages]

    def stream_file(
        self,
        ref: JobRef,
        name: str,
        output_directory_id: str = "stdouterr",
        offset: int = 0,
        follow: bool = True,
    ) -> AsyncIterator[bytes]:
        from tui.backends.batchai.stream import OutputFileStream

        return OutputFileStream(self, self._clients.settings, ref, name, output_directory_id).read(
            offset, follow
        )
