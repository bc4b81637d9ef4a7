"""A Batch AI job.json (2018-05-01, read by `tui.core.jobspec`) as an Azure ML command job (2025-12-01).

* each `azureFileShares` mount becomes an AzureFile datastore `<account>_<share>` and an output
  `outputs.<mount>` (`uri_folder`, `ReadWriteMount`), and `$AZ_BATCHAI_JOB_MOUNT_ROOT/<mount>` in the command
  becomes `${{outputs.<mount>}}`, where Azure ML mounts it;
* horovodSettings / customMpiSettings become an MPI distribution with processCount / nodeCount processes on
  each node, customToolkitSettings a plain command;
* fields with no Azure ML meaning are named in warnings, never dropped silently.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from tui.backends.azureml.durations import iso_duration
from tui.core.errors import BaiError, FieldError, JobSpecError

_MOUNT_ROOT = ("$AZ_BATCHAI_JOB_MOUNT_ROOT", "${AZ_BATCHAI_JOB_MOUNT_ROOT}")
_UNSUPPORTED_TOOLKITS = (
    ("cntk_settings", "cntkSettings"),
    ("tensor_flow_settings", "tensorFlowSettings"),
    ("py_torch_settings", "pyTorchSettings"),
    ("caffe_settings", "caffeSettings"),
    ("caffe2_settings", "caffe2Settings"),
    ("chainer_settings", "chainerSettings"),
)


def mount_key(relative_mount_path: str) -> str:
    """`outputs.<key>`: the relativeMountPath with every character but letters, digits and _ made _."""
    return re.sub(r"[^A-Za-z0-9_]", "_", relative_mount_path)


def datastore_name(account: str, share: str) -> str:
    """`<account>_<share>` in lower case, letters, digits and _ only (what Azure ML accepts)."""
    return re.sub(r"[^a-z0-9_]", "_", f"{account}_{share}".lower())


@dataclass
class Mount:
    """One storage mount of job.json: where it goes, and the datastore that serves it."""

    relative_path: str
    account: str
    container: str  # the share (AzureFile) or the container (AzureBlob)
    kind: str  # AzureFile | AzureBlob
    key: str | None  # an account key given in job.json

    @property
    def datastore(self) -> str:
        return datastore_name(self.account, self.container)

    @property
    def output(self) -> str:
        return mount_key(self.relative_path)


@dataclass
class CommandJob:
    """What `job create` sends, before the ids only the service knows are filled in."""

    command: str
    node_count: int
    process_count_per_instance: int | None
    mounts: list[Mount]
    environment_variables: dict[str, str]
    image: str | None
    timeout: str | None
    warnings: list[str] = field(default_factory=list)


def _share_of(url: str | None) -> tuple[str | None, str | None]:
    """(account, share) of an Azure Files URL (either form job.json accepts)."""
    if not url:
        return None, None
    from tui.core.jobspec import share_of

    return share_of(url)


def mounts_of(spec: Any) -> list[Mount]:
    volumes = spec.mount_volumes
    if volumes is None:
        return []
    mounts = []
    for share in volumes.azure_file_shares or []:
        credentials = share.credentials
        mounts.append(
            Mount(
                relative_path=share.relative_mount_path,
                account=share.account_name or _share_of(share.azure_file_url)[0] or "",
                container=_share_of(share.azure_file_url)[1] or "",
                kind="AzureFile",
                key=getattr(credentials, "account_key", None) if credentials is not None else None,
            )
        )
    for blob in volumes.azure_blob_file_systems or []:
        credentials = blob.credentials
        mounts.append(
            Mount(
                relative_path=blob.relative_mount_path,
                account=blob.account_name or "",
                container=blob.container_name or "",
                kind="AzureBlob",
                key=getattr(credentials, "account_key", None) if credentials is not None else None,
            )
        )
    return mounts


def substitute_mounts(text: str, mounts: list[Mount]) -> str:
    """`$AZ_BATCHAI_JOB_MOUNT_ROOT/<mount>` -> `${{outputs.<key>}}` (longest mount first)."""
    for mount in sorted(mounts, key=lambda m: len(m.relative_path), reverse=True):
        for root in _MOUNT_ROOT:
            pattern = re.escape(f"{root}/{mount.relative_path}") + r"(?=/|\s|$|[\"'])"
            text = re.sub(pattern, lambda _m, key=mount.output: "${{outputs." + key + "}}", text)
    return text


def _process_count(settings: Any, node_count: int, path: str) -> int:
    count = getattr(settings, "process_count", None)
    if count is None:
        return 1  # Batch AI's default processCount is nodeCount: one process on each node
    if count < 1 or count % node_count:
        raise BaiError(
            f"{path}.processCount {count} does not divide by properties.nodeCount {node_count}: Azure ML "
            "starts the same number of processes on every node; give a multiple of nodeCount"
        )
    return count // node_count


def to_command_job(spec: Any) -> CommandJob:
    """The command job for `spec` (already validated); raises BaiError / JobSpecError naming the field."""
    for attribute, name in _UNSUPPORTED_TOOLKITS:
        if getattr(spec, attribute, None) is not None:
            raise JobSpecError(
                [
                    FieldError(
                        f"properties.{name}",
                        "the azureml backend runs horovodSettings, customMpiSettings or "
                        "customToolkitSettings jobs; rewrite it as customMpiSettings (mpirun)",
                    )
                ]
            )
    node_count = spec.node_count or 1
    mounts = mounts_of(spec)
    warnings: list[str] = []
    per_instance: int | None = None
    if spec.horovod_settings is not None:
        horovod = spec.horovod_settings
        python = getattr(horovod, "python_interpreter_path", None) or "python"
        command = " ".join(
            part
            for part in (
                shlex.quote(python),
                horovod.python_script_file_path,
                horovod.command_line_args or "",
            )
            if part
        )
        per_instance = _process_count(horovod, node_count, "properties.horovodSettings")
    elif spec.custom_mpi_settings is not None:
        command = spec.custom_mpi_settings.command_line
        per_instance = _process_count(spec.custom_mpi_settings, node_count, "properties.customMpiSettings")
    elif spec.custom_toolkit_settings is not None and spec.custom_toolkit_settings.command_line:
        command = spec.custom_toolkit_settings.command_line
    else:
        raise JobSpecError(
            [FieldError("properties", "no command to run: give horovodSettings or customMpiSettings")]
        )
    command = substitute_mounts(command, mounts)
    if "AZ_BATCHAI_" in command:
        warnings.append(
            "the command still names an AZ_BATCHAI_ variable that Azure ML does not set (only "
            "$AZ_BATCHAI_JOB_MOUNT_ROOT/<mount> is translated, to ${{outputs.<mount>}})"
        )
    variables = {item.name: item.value or "" for item in spec.environment_variables or []}
    secrets = spec.secrets or []
    for secret in secrets:
        if getattr(secret, "value", None) is not None:
            variables[secret.name] = secret.value
    if secrets:
        warnings.append(
            "properties.secrets: Azure ML command jobs have no secret variables; they are sent as "
            "environment variables (readable by whoever can read the job)"
        )
    if spec.job_preparation is not None:
        warnings.append(
            "properties.jobPreparation has no Azure ML meaning and is not run: put the setup in the "
            "environment's image or at the start of the command"
        )
    if spec.std_out_err_path_prefix:
        warnings.append(
            "properties.stdOutErrPathPrefix has no Azure ML meaning: the logs are in the run's history "
            "(`bai job file list`, `bai job file stream -f stdout.txt`)"
        )
    for attribute, name in (
        ("input_directories", "inputDirectories"),
        ("output_directories", "outputDirectories"),
    ):
        if getattr(spec, attribute, None):
            warnings.append(
                f"properties.{name} has no Azure ML meaning and is ignored: use the mounts' paths"
            )
    image = None
    container = spec.container_settings
    if container is not None and container.image_source_registry is not None:
        image = container.image_source_registry.image
        if container.image_source_registry.credentials is not None:
            warnings.append(
                "properties.containerSettings.imageSourceRegistry.credentials are not sent: give the "
                "workspace access to the registry instead"
            )
    timeout = None
    if spec.constraints is not None and spec.constraints.max_wall_clock_time is not None:
        value = spec.constraints.max_wall_clock_time
        if isinstance(value, str):
            from tui.core.jobspec import parse_max_wall_clock_time

            value = parse_max_wall_clock_time(value)
        timeout = iso_duration(value)
    return CommandJob(
        command=command,
        node_count=node_count,
        process_count_per_instance=per_instance,
        mounts=mounts,
        environment_variables=variables,
        image=image,
        timeout=timeout,
        warnings=warnings,
    )
