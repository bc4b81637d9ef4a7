"""Command jobs: submit (datastores and environment first), show, list, wait, cancel, delete, and their
log files from run history (`runs/{job}/details` -> `logFiles`, one SAS URL per file, one file per rank)."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tui.backends.azureml import convert
from tui.backends.azureml.jobspec import CommandJob, to_command_job
from tui.backends.azureml.rest import MLRest
from tui.backends.azureml.settings import CURATED_ENVIRONMENT
from tui.backends.base import JobSubmitOptions
from tui.backends.batchai.redact import SECRETS
from tui.backends.common import wait_until_final
from tui.core.errors import BaiError, ConflictError, Hint, JobSpecError, NotFoundError
from tui.core.model import BatchAIError, FileEntry, Job, JobRef

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters

    from tui.backends.batchai.storage import AzureStorageService

# The merged view of every rank's user log, written as horovodrun wrote its stdout.
MERGED_STDOUT = "stdout.txt"
_RANK_LOG = re.compile(r"^user_logs/std_log_process_(\d+)\.txt$")


def rank_of(name: str) -> int | None:
    """The rank of a per-rank user log (`user_logs/std_log_process_03.txt` -> 3), else None."""
    match = _RANK_LOG.fullmatch(name)
    return int(match.group(1)) if match else None


class MLJobService:
    def __init__(self, rest: MLRest, storage: AzureStorageService) -> None:
        from tui.backends.azureml.services import ExperimentBook

        self._rest = rest
        self._storage = storage
        # The experiments users created (Azure ML makes one for any experimentName a job names).
        self.book = ExperimentBook(rest.settings.home, rest.subscription)

    # ---- paths ----

    def _jobs_path(self, resource_group: str, workspace: str) -> str:
        return f"{self._rest.workspace_path(resource_group, workspace)}/jobs"

    def _path(self, ref: JobRef) -> str:
        return f"{self._jobs_path(ref.resource_group, ref.workspace)}/{quote(ref.name, safe='')}"

    # ---- submitting ----

    async def _datastore(self, ref: JobRef, mount: Any) -> None:
        """Register the mount's share (or container) as a datastore, keyed by the account's key."""
        if not mount.account or not mount.container:
            raise BaiError(
                f"the mount {mount.relative_path!r} names no storage account or share: set accountName and "
                "azureFileUrl in job.json",
                hint=Hint("give", "storage_account_name"),
            )
        key = mount.key or await self._storage.account_key(mount.account)
        SECRETS.add(key)
        properties: dict[str, Any] = {
            "datastoreType": mount.kind,
            "accountName": mount.account,
            "endpoint": "core.windows.net",
            "protocol": "https",
            "credentials": {
                "credentialsType": "AccountKey",
                "secrets": {"secretsType": "AccountKey", "key": key},
            },
            "description": f"{mount.kind} {mount.account}/{mount.container}, registered by bai",
        }
        if mount.kind == "AzureFile":
            properties["fileShareName"] = mount.container
        else:
            properties["containerName"] = mount.container
        path = f"{self._rest.workspace_path(ref.resource_group, ref.workspace)}/datastores/{mount.datastore}"
        await self._rest.arm(
            "PUT", path, {"properties": properties}, action=f"registering datastore {mount.datastore}"
        )

    async def _environment(self, ref: JobRef, image: str | None) -> str:
        """The curated Horovod environment, or an environment version of bai's own with `image`."""
        if not image:
            return CURATED_ENVIRONMENT
        slug = re.sub(r"[^A-Za-z0-9_-]", "-", image).strip("-")[:200]
        name = f"bai-{slug}-{hashlib.sha256(image.encode()).hexdigest()[:8]}"
        path = (
            f"{self._rest.workspace_path(ref.resource_group, ref.workspace)}/environments/{name}/versions/1"
        )
        body = {
            "properties": {
                "image": image,
                "osType": "Linux",
                "description": f"containerSettings image {image} of a bai job",
            }
        }
        await self._rest.arm("PUT", path, body, action=f"registering environment {name}")
        return path

    def _body(self, ref: JobRef, cluster: str, job: CommandJob, environment: str) -> dict[str, Any]:
        compute = f"{self._rest.workspace_path(ref.resource_group, ref.workspace)}/computes/{cluster}"
        properties: dict[str, Any] = {
            "jobType": "Command",
            "displayName": ref.name,
            "experimentName": ref.experiment,
            "computeId": compute,
            "command": job.command,
            "environmentId": environment,
            "environmentVariables": job.environment_variables,
            "resources": {"instanceCount": job.node_count},
            "outputs": {
                mount.output: {
                    "jobOutputType": "uri_folder",
                    "mode": "ReadWriteMount",
                    "uri": f"azureml://datastores/{mount.datastore}/paths/",
                }
                for mount in job.mounts
            },
            "tags": {"bai.warnings": "\n".join(job.warnings)} if job.warnings else {},
        }
        if job.process_count_per_instance is not None:
            properties["distribution"] = {
                "distributionType": "Mpi",
                "processCountPerInstance": job.process_count_per_instance,
            }
        if job.timeout:
            properties["limits"] = {"jobLimitsType": "Command", "timeout": job.timeout}
        return {"properties": properties}

    async def create(
        self,
        ref: JobRef,
        cluster: str,
        spec: JobCreateParameters,
        options: JobSubmitOptions | None = None,
    ) -> Job:
        from tui.core.jobspec import apply_storage_account, validate_job_spec

        options = options or JobSubmitOptions()
        spec = copy.deepcopy(spec)
        errors = validate_job_spec(spec)
        if errors:
            raise JobSpecError(errors)
        apply_storage_account(spec, options.storage_account_name or self._rest.azure.storage_account)
        job = to_command_job(spec)
        try:
            await self._rest.arm("GET", self._path(ref), action=f"reading job {ref.name}")
        except NotFoundError:
            pass  # as it should be; a missing workspace or cluster is named by the calls below
        else:
            raise ConflictError(
                f"job {ref.name!r} already exists in workspace {ref.workspace} (job names are unique per "
                "workspace in Azure ML): give another name, or delete it with `bai job delete`"
            )
        for mount in job.mounts:
            await self._datastore(ref, mount)
        environment = await self._environment(ref, job.image)
        body = self._body(ref, cluster, job, environment)
        data = await self._rest.arm("PUT", self._path(ref), body, action=f"creating job {ref.name}")
        created = convert.job(
            data or {"name": ref.name, "properties": body["properties"]}, ref.resource_group, ref.workspace
        )
        self.book.add(ref.experiment_ref)  # as Azure ML does: the job's experiment now exists
        created.experiment = created.experiment or ref.experiment
        created.warnings = list(job.warnings)
        return created

    # ---- reading ----

    async def run_details(self, ref: JobRef) -> dict[str, Any] | None:
        """The run's history record (`logFiles`, `error`, times); None while the run has none yet."""
        try:
            data = await self._rest.history(
                ref.resource_group,
                ref.workspace,
                f"/runs/{quote(ref.name, safe='')}/details",
                action=f"reading the run history of job {ref.name}",
            )
        except NotFoundError:
            return None
        return data if isinstance(data, dict) else None

    async def _why_waiting(self, job: Job, body: dict[str, Any]) -> list[str]:
        """Why a queued job has not started: its cluster's allocation, node counts and errors (quota)."""
        compute = (body.get("properties") or {}).get("computeId")
        if not compute:
            return []
        try:
            data = await self._rest.arm("GET", str(compute), action=f"reading cluster {job.cluster}")
        except BaiError:
            return []
        cluster = convert.cluster(data or {}, job.resource_group, job.workspace)
        counts = cluster.node_state_counts
        lines = [
            f"waiting for cluster {cluster.name}: {cluster.allocation_state.value}, needs {job.node_count} "
            f"node(s), {counts.idle_node_count} idle, {counts.preparing_node_count} preparing, "
            f"{counts.running_node_count} running (target {cluster.target_node_count})"
        ]
        if cluster.max_node_count < job.node_count:
            lines.append(
                f"cluster {cluster.name} grows to at most {cluster.max_node_count} node(s), fewer than "
                f"the job needs: `bai cluster resize -g {job.resource_group} -w {job.workspace} "
                f"-n {cluster.name} "
                f"--target {job.node_count}`"
            )
        lines += [f"cluster {cluster.name}: {error.code}: {error.message}" for error in cluster.errors]
        return lines

    async def _job(self, ref: JobRef, body: dict[str, Any], explain: bool) -> Job:
        job = convert.job(body, ref.resource_group, ref.workspace)
        job.experiment = job.experiment or ref.experiment
        if explain and job.execution_state.is_final:
            # Run history knows what ARM does not: when the run started and ended, and why it failed.
            details = await self.run_details(ref) or {}
            error = (details.get("error") or {}).get("error") or details.get("error") or {}
            if isinstance(error, dict) and (error.get("code") or error.get("message")):
                job.errors = [BatchAIError(str(error.get("code") or ""), str(error.get("message") or ""))]
            job.start_time = convert.parse_time(details.get("startTimeUtc"))
            job.end_time = convert.parse_time(details.get("endTimeUtc"))
        elif explain and str((body.get("properties") or {}).get("status")) in ("NotStarted", "Queued"):
            job.warnings = job.warnings + await self._why_waiting(job, body)
        return job

    async def get(self, ref: JobRef) -> Job:
        data = await self._rest.arm("GET", self._path(ref), action=f"reading job {ref.name}")
        job = await self._job(ref, data or {}, explain=True)
        if ref.experiment and job.experiment and job.experiment != ref.experiment:
            raise NotFoundError(
                f"job {ref.name!r} is in experiment {job.experiment!r}, not {ref.experiment!r}; "
                f"check it with `bai job show -e {job.experiment}`"
            )
        return job

    async def list_bodies(self, resource_group: str, workspace: str) -> list[dict[str, Any]]:
        return await self._rest.arm_list(
            f"{self._jobs_path(resource_group, workspace)}?jobType=Command",
            action=f"listing jobs of workspace {workspace}",
        )

    async def list(self, resource_group: str, workspace: str, experiment: str) -> list[Job]:
        ref = JobRef(resource_group, workspace, experiment, "")
        jobs = [
            await self._job(ref, body, explain=False)
            for body in await self.list_bodies(resource_group, workspace)
            if (body.get("properties") or {}).get("experimentName") == experiment
        ]
        if not jobs and experiment not in self.book.names(resource_group, workspace):
            raise NotFoundError(
                f"experiment {experiment!r} was not found in workspace {workspace}; "
                f"`bai experiment list -g {resource_group} -w {workspace}` shows what exists"
            )
        return jobs

    async def wait(self, ref: JobRef, poll_interval: float = 2.0, timeout: float | None = None) -> Job:
        def still_running(job: Job, timeout: float) -> str:
            return (
                f"job {ref.name} is still {job.execution_state.value} after {timeout:g} s; "
                "wait longer or check it with `bai job show`"
            )

        return await wait_until_final(lambda: self.get(ref), poll_interval, timeout, still_running)

    async def terminate(self, ref: JobRef) -> Job:
        await self.get(ref)
        await self._rest.arm(
            "POST", self._path(ref) + "/cancel", action=f"canceling job {ref.name}", wait=False
        )
        return await self.get(ref)

    async def delete(self, ref: JobRef) -> None:
        await self.get(ref)
        await self._rest.arm("DELETE", self._path(ref), action=f"deleting job {ref.name}")

    # ---- log files ----

    async def log_links(self, ref: JobRef) -> dict[str, str]:
        """{name: SAS URL} of the run's log files (empty before the run has any)."""
        details = await self.run_details(ref)
        files = (details or {}).get("logFiles")
        return {str(k): str(v) for k, v in files.items() if v} if isinstance(files, dict) else {}

    async def list_output_files(
        self, ref: JobRef, output_directory_id: str = "stdouterr", directory: str = "."
    ) -> list[FileEntry]:
        await self.get(ref)
        links = await self.log_links(ref)
        prefix = directory.strip("/").removeprefix(".").strip("/")
        names = [name for name in sorted(links) if not prefix or name.startswith(prefix + "/")]
        sizes = await asyncio.gather(*(self._size(links[name]) for name in names))
        entries = [
            FileEntry(name=name, is_directory=False, size=size, path=name, download_url=links[name])
            for name, size in zip(names, sizes, strict=True)
        ]
        if not prefix:  # every rank's user log, merged as horovodrun prints it (its size is not known)
            entries.insert(0, FileEntry(name=MERGED_STDOUT, is_directory=False, path=MERGED_STDOUT))
        return entries

    async def _size(self, url: str) -> int | None:
        """A log file's size (a HEAD of its SAS URL); None when the blob does not answer it."""
        from tui.backends.batchai.settings import check_endpoint

        try:
            response = await self._rest.send(
                self._rest.plain_client, "HEAD", check_endpoint(url, "a log link")
            )
            return int(response.headers.get("Content-Length", ""))
        except Exception:  # the size is a courtesy: the listing stands without it
            return None

    def stream_file(
        self,
        ref: JobRef,
        name: str,
        output_directory_id: str = "stdouterr",
        offset: int = 0,
        follow: bool = True,
    ) -> AsyncIterator[bytes]:
        from tui.backends.azureml.stream import RunLogStream

        return RunLogStream(self, self._rest, ref, name.strip("/")).read(offset, follow)
