"""Turn a submitted `JobCreateParameters` into the launch plan the job's supervisor follows.

Everything that can be checked is checked here, at submission, so a job that would fail to start is refused
with a message naming its field and nothing is created: the toolkit must be one this machine can run, every
mounted share must exist, every `$AZ_BATCHAI_*` variable in a path must be one the service defined.

Paths are expanded as Batch AI expanded them: `$AZ_BATCHAI_JOB_MOUNT_ROOT`, `$AZ_BATCHAI_JOB_TEMP`,
`$AZ_BATCHAI_INPUT_<ID>`, ... are replaced in stdOutErrPathPrefix, directory paths, the script and
interpreter paths, the arguments and command lines, and the values of environmentVariables; anything else in
the arguments (`$HOME`, quoting) is left to the shell, as on a node.

Output directories land at `<pathPrefix>/<jobOutputDirectoryPathSegment>/outputs/<pathSuffix>` and
stdout/stderr at `<stdOutErrPathPrefix>/<jobOutputDirectoryPathSegment>/stdouterr/`, the layout Batch AI used
on the share. A path under the job's mount root is also recorded as the real share folder behind it, so
listing and streaming files never depend on the (per-job) mount links.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tui.backends.local.home import Layout
from tui.core.errors import FieldError, Hint, JobSpecError, UnsupportedError

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters

DEFAULT_MAX_WALL_CLOCK = timedelta(days=7)
TOOL_TYPES = {"horovod": "horovod", "customMpi": "custommpi", "customToolkit": "custom"}
_VARIABLE = re.compile(r"\$(?:\{(AZ_BATCHAI_[A-Za-z0-9_]+)\}|(AZ_BATCHAI_[A-Za-z0-9_]+))")
_UNSUPPORTED_VOLUMES = {
    "azure_blob_file_systems": "azureBlobFileSystems",
    "file_servers": "fileServers",
    "unmanaged_file_systems": "unmanagedFileSystems",
}


@dataclass
class Mount:
    relative_mount_path: str
    target: str  # the local share folder


@dataclass
class LaunchPlan:
    """All the supervisor needs, as plain JSON (no SDK import in the supervisor, no secret values)."""

    job_uuid: str
    toolkit: str  # horovod | custommpi | custom (Batch AI's toolType)
    node_count: int
    process_count: int
    job_dir: str
    mount_root: str
    job_temp: str
    stdouterr_dir: str  # as the job sees it (under the mount root)
    stdouterr_real: str  # the folder where the files really are
    python: str = ""
    script: str = ""
    script_args: str = ""
    command_line: str = ""
    launcher_tool: str = ""  # horovodrun or mpirun
    mounts: list[Mount] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    secret_names: list[str] = field(default_factory=list)
    output_dirs: dict[str, str] = field(default_factory=dict)  # id -> real folder
    input_dirs: dict[str, str] = field(default_factory=dict)
    job_preparation: str | None = None
    run_job_preparation: bool = False
    max_wall_clock_seconds: float = DEFAULT_MAX_WALL_CLOCK.total_seconds()
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LaunchPlan:
        data = dict(data)
        data["mounts"] = [Mount(**mount) for mount in data.get("mounts", [])]
        return cls(**data)


@dataclass
class PlanInput:
    job_uuid: str
    segment: str
    spec: Any  # JobCreateParameters
    run_job_preparation: bool


def tool_type(toolkit: str, field_name: str = "properties") -> str:
    if toolkit not in TOOL_TYPES:
        raise UnsupportedError(
            f"{field_name}.{toolkit}Settings: the {toolkit} toolkit is not supported by the local backend; "
            "use horovodSettings, customMpiSettings or customToolkitSettings (or the batchai backend)"
        )
    return TOOL_TYPES[toolkit]


class _Expander:
    """Replaces the service's `$AZ_BATCHAI_*` variables; unknown ones are errors naming the field."""

    def __init__(self, variables: dict[str, str], errors: list[FieldError]):
        self.variables = variables
        self.errors = errors

    def __call__(self, text: str, path: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name in self.variables:
                return self.variables[name]
            self.errors.append(
                FieldError(
                    path,
                    f"${name} is not a variable the service defines for this job; known: "
                    + ", ".join(f"${known}" for known in sorted(self.variables)),
                )
            )
            return match.group(0)

        return _VARIABLE.sub(replace, text)


def build_plan(layout: Layout, request: PlanInput, accounts_with_shares: dict[str, set[str]]) -> LaunchPlan:
    """The job's launch plan, or JobSpecError/UnsupportedError naming every field that cannot work here."""
    from tui.core import jobspec

    spec: JobCreateParameters = request.spec
    errors: list[FieldError] = []
    toolkit = tool_type(jobspec.toolkit_of(spec))
    job_dir = layout.job_dir(request.job_uuid)
    mount_root = job_dir / "mounts"
    job_temp = job_dir / "temp"
    warnings: list[str] = []

    mounts = _mounts(spec, accounts_with_shares, layout, errors)
    variables = {
        "AZ_BATCHAI_MOUNT_ROOT": str(layout.cluster_mount_root),
        "AZ_BATCHAI_JOB_MOUNT_ROOT": str(mount_root),
        "AZ_BATCHAI_JOB_TEMP": str(job_temp),
        "AZ_BATCHAI_JOB_TEMP_DIR": str(layout.jobs),
        "AZ_BATCHAI_SHARED_JOB_TEMP": str(job_dir / "shared"),
        "AZ_BATCHAI_MPI_HOST_FILE": str(job_dir / "hostfile"),
        "AZ_BATCHAI_NUM_GPUS": "0",
    }
    expand = _Expander(variables, errors)

    def real(seen: str) -> str:
        """The folder behind a path the job sees: mount links resolved to their share folders."""
        path = PurePosixPath(seen)
        for mount in mounts:
            base = PurePosixPath(mount_root) / mount.relative_mount_path
            if path == base or base in path.parents:
                return str(Path(mount.target) / path.relative_to(base))
        return seen

    input_dirs: dict[str, str] = {}
    for index, directory in enumerate(spec.input_directories or []):
        seen = expand(directory.path or "", f"properties.inputDirectories[{index}].path")
        variables[f"AZ_BATCHAI_INPUT_{directory.id}"] = seen
        input_dirs[directory.id] = real(seen)

    output_dirs: dict[str, str] = {}
    for index, directory in enumerate(spec.output_directories or []):
        field_path = f"properties.outputDirectories[{index}].pathPrefix"
        prefix = expand(directory.path_prefix or "", field_path)
        if not PurePosixPath(prefix).is_absolute():
            errors.append(
                FieldError(
                    field_path,
                    "must be an absolute path (e.g. $AZ_BATCHAI_JOB_MOUNT_ROOT/<share>/outputs), "
                    f"got {directory.path_prefix!r}",
                )
            )
        seen = str(PurePosixPath(prefix) / request.segment / "outputs" / (directory.path_suffix or ""))
        variables[f"AZ_BATCHAI_OUTPUT_{directory.id}"] = seen.rstrip("/")
        output_dirs[directory.id] = real(seen)

    prefix_text = spec.std_out_err_path_prefix or "$AZ_BATCHAI_JOB_TEMP"
    prefix = expand(prefix_text, "properties.stdOutErrPathPrefix")
    if not PurePosixPath(prefix).is_absolute():
        errors.append(
            FieldError("properties.stdOutErrPathPrefix", f"must be an absolute path, got {prefix_text!r}")
        )
    stdouterr_seen = str(PurePosixPath(prefix) / request.segment / "stdouterr")
    variables["AZ_BATCHAI_STDOUTERR_DIR"] = stdouterr_seen

    plan = LaunchPlan(
        job_uuid=request.job_uuid,
        toolkit=toolkit,
        node_count=spec.node_count,
        process_count=spec.node_count,
        job_dir=str(job_dir),
        mount_root=str(mount_root),
        job_temp=str(job_temp),
        stdouterr_dir=stdouterr_seen,
        stdouterr_real=real(stdouterr_seen),
        mounts=mounts,
        output_dirs=output_dirs,
        input_dirs=input_dirs,
        run_job_preparation=request.run_job_preparation,
    )
    _toolkit_settings(spec, toolkit, plan, expand, errors)

    # Batch AI's guide: its variables may be used in user environment variables too. Secrets are passed on
    # untouched (their values never enter the plan).
    for index, variable in enumerate(spec.environment_variables or []):
        plan.environment[variable.name] = expand(
            variable.value or "", f"properties.environmentVariables[{index}].value"
        )
    for index, secret in enumerate(spec.secrets or []):
        if secret.value_secret_reference is not None:
            errors.append(
                FieldError(
                    f"properties.secrets[{index}].valueSecretReference",
                    "Key Vault references are not supported by the local backend: give the value instead",
                )
            )
        plan.secret_names.append(secret.name)
    # The service's variables win over user ones of the same name, as on a node.
    plan.environment.update(variables)

    if spec.job_preparation is not None and spec.job_preparation.command_line:
        plan.job_preparation = spec.job_preparation.command_line
        if not request.run_job_preparation:
            warnings.append(
                "jobPreparation skipped: the local backend runs it only when asked (at submission, or with "
                "BAI_RUN_JOB_PREPARATION=1), because it may install packages here"
            )
    if spec.container_settings is not None:
        image = getattr(getattr(spec.container_settings, "image_source_registry", None), "image", None)
        warnings.append(
            "containerSettings ignored: the local backend runs jobs directly on this machine"
            + (f" (image {image} not used)" if image else "")
        )
    if spec.constraints is not None and spec.constraints.max_wall_clock_time is not None:
        value = spec.constraints.max_wall_clock_time
        if isinstance(value, str):
            value = jobspec.parse_max_wall_clock_time(value)
        plan.max_wall_clock_seconds = value.total_seconds()
    plan.warnings = warnings

    if errors:
        raise JobSpecError(errors)
    return plan


def _mounts(
    spec: Any, accounts_with_shares: dict[str, set[str]], layout: Layout, errors: list[FieldError]
) -> list[Mount]:
    from tui.core import jobspec

    volumes = spec.mount_volumes
    if volumes is None:
        return []
    for attribute, key in _UNSUPPORTED_VOLUMES.items():
        if getattr(volumes, attribute, None):
            errors.append(
                FieldError(
                    f"properties.mountVolumes.{key}",
                    "not supported by the local backend: mount Azure file shares (azureFileShares) instead",
                )
            )
    mounts = []
    for index, share in enumerate(volumes.azure_file_shares or []):
        path = f"properties.mountVolumes.azureFileShares[{index}]"
        account, share_name = jobspec.share_of(share.azure_file_url or "")
        if account is None or share_name is None:
            errors.append(
                FieldError(f"{path}.azureFileUrl", "must be https://ACCOUNT.file.core.windows.net/SHARE")
            )
            continue
        if account not in accounts_with_shares:
            errors.append(
                FieldError(
                    f"{path}.azureFileUrl",
                    f"storage account {account!r} does not exist here",
                    Hint("create", "storageaccount", {"name": account}),
                )
            )
            continue
        if share_name not in accounts_with_shares[account]:
            errors.append(
                FieldError(
                    f"{path}.azureFileUrl",
                    f"storage account {account!r} has no share {share_name!r}",
                    Hint("create", "share", {"name": share_name, "account": account}),
                )
            )
            continue
        relative = (share.relative_mount_path or "").strip("/")
        if not relative or ".." in relative.split("/"):
            errors.append(
                FieldError(f"{path}.relativeMountPath", "required: a folder name such as 'myshare'")
            )
            continue
        mounts.append(Mount(relative, str(layout.share_dir(account, share_name))))
    return mounts


def _toolkit_settings(
    spec: Any, toolkit: str, plan: LaunchPlan, expand: _Expander, errors: list[FieldError]
) -> None:
    venv_bin = Path(sys.executable).parent
    if toolkit == "horovod":
        settings = spec.horovod_settings
        field_path = "properties.horovodSettings"
        horovodrun = venv_bin / "horovodrun"
        if not horovodrun.exists():
            found = shutil.which("horovodrun")
            if not found:
                raise UnsupportedError(
                    f"{field_path}: horovodrun is not installed next to {sys.executable}: "
                    "run scripts/setup.sh to build Horovod, or use customToolkitSettings"
                )
            horovodrun = Path(found)
        plan.launcher_tool = str(horovodrun)
        plan.process_count = settings.process_count or spec.node_count
        plan.python = (
            expand(settings.python_interpreter_path, f"{field_path}.pythonInterpreterPath")
            if settings.python_interpreter_path
            else sys.executable
        )
        plan.script = expand(settings.python_script_file_path or "", f"{field_path}.pythonScriptFilePath")
        plan.script_args = expand(settings.command_line_args or "", f"{field_path}.commandLineArgs")
    elif toolkit == "custommpi":
        settings = spec.custom_mpi_settings
        mpirun = shutil.which("mpirun")
        if not mpirun:
            raise UnsupportedError(
                "properties.customMpiSettings: mpirun is not installed on this machine: install Open MPI "
                "(e.g. apt install openmpi-bin) or use horovodSettings / customToolkitSettings"
            )
        plan.launcher_tool = mpirun
        plan.process_count = settings.process_count or spec.node_count
        plan.command_line = expand(settings.command_line or "", "properties.customMpiSettings.commandLine")
    else:
        settings = spec.custom_toolkit_settings
        plan.process_count = 1
        plan.command_line = expand(
            settings.command_line or "", "properties.customToolkitSettings.commandLine"
        )
