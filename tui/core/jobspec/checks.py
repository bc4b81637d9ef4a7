"""Pass 3 of reading a job.json: the checks the SDK does not make (required fields from the models'
`_validation`, exactly one toolkit, counts >= 1, mount paths, the storage URL, names and ids), every problem
reported with its JSON path."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tui.core.errors import FieldError, Hint
from tui.core.jobspec.read import parse_max_wall_clock_time
from tui.core.jobspec.schema import (
    _ACCOUNT_NAME,
    _AZURE_FILE_URL,
    _DIRECTORY_ID,
    _ENV_NAME,
    _LOOPBACK_FILE_URL,
    _PLACEHOLDER,
    _SHARE_NAME,
    SCHEDULING_PRIORITIES,
    STORAGE_ACCOUNT_PLACEHOLDER,
    STORAGE_KEY_PLACEHOLDER,
    TOOLKITS,
)

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters

# ----------------------------------------------------------------------------------------------- checks


# Required by the SDK's models but filled in at submission: the account name comes from the share's URL and
# the key from the storage account (az did the same).
_FILLED_AT_SUBMISSION = {
    ("AzureFileShareReference", "account_name"),
    ("AzureFileShareReference", "credentials"),
    ("AzureBlobFileSystemReference", "credentials"),
}


# An environment variable may be set to the empty string (the service passed it on as such); paths and command
# lines may not.
_MAY_BE_EMPTY = {("EnvironmentVariable", "value"), ("EnvironmentVariableWithSecretValue", "value")}


def validate_job_spec(spec: JobCreateParameters) -> list[FieldError]:
    """Every check the SDK does not make, each naming the field's JSON path. Empty list: the spec is fine."""
    errors: list[FieldError] = []
    _check_required(spec, "properties", errors, top=True)

    present = [name for name, attribute in TOOLKITS.items() if getattr(spec, attribute) is not None]
    if not present:
        errors.append(
            FieldError(
                "properties",
                "no toolkit: give exactly one of "
                + ", ".join(f"{name}Settings" for name in TOOLKITS)
                + " (the tutorial uses horovodSettings)",
            )
        )
    elif len(present) > 1:
        errors.append(
            FieldError(
                "properties",
                "more than one toolkit ("
                + ", ".join(f"{name}Settings" for name in present)
                + "): keep exactly one",
            )
        )

    if spec.node_count is None:
        errors.append(FieldError("properties.nodeCount", "required: the number of nodes to run the job on"))
    elif spec.node_count < 1:
        errors.append(FieldError("properties.nodeCount", f"must be 1 or more, got {spec.node_count}"))
    if not (spec.std_out_err_path_prefix or "").strip():
        errors.append(
            FieldError(
                "properties.stdOutErrPathPrefix",
                "required: where stdout.txt and stderr.txt go, e.g. $AZ_BATCHAI_JOB_MOUNT_ROOT/<share>/logs",
            )
        )
    if (
        spec.scheduling_priority is not None
        and str(spec.scheduling_priority).lower() not in SCHEDULING_PRIORITIES
    ):
        errors.append(
            FieldError(
                "properties.schedulingPriority",
                f"must be one of {', '.join(SCHEDULING_PRIORITIES)}, got {spec.scheduling_priority!r}",
            )
        )

    _check_toolkits(spec, errors)
    _check_mount_volumes(spec, errors)
    _check_names(spec, errors)
    _check_constraints(spec, errors)
    return _dedupe(errors)


def _check_required(model: Any, path: str, errors: list[FieldError], top: bool = False) -> None:
    """The `required` rules of the SDK models' `_validation`, recursively (empty strings count as missing)."""
    for attribute, spec in type(model)._attribute_map.items():
        key = spec["key"].split(".", 1)[1] if top else spec["key"]
        value = getattr(model, attribute, None)
        field_path = f"{path}.{key}"
        rules = getattr(type(model), "_validation", {}).get(attribute, {})
        blank = isinstance(value, str) and not value.strip()
        missing = value is None or (blank and (type(model).__name__, attribute) not in _MAY_BE_EMPTY)
        if missing:
            if rules.get("required") and (type(model).__name__, attribute) not in _FILLED_AT_SUBMISSION:
                errors.append(FieldError(field_path, "required"))
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                if hasattr(type(item), "_attribute_map"):
                    _check_required(item, f"{field_path}[{index}]", errors)
        elif hasattr(type(value), "_attribute_map"):
            _check_required(value, field_path, errors)


def _check_count(value: int | None, path: str, errors: list[FieldError], minimum: int = 1) -> None:
    if value is not None and value < minimum:
        errors.append(FieldError(path, f"must be {minimum} or more, got {value}"))


def _check_toolkits(spec: JobCreateParameters, errors: list[FieldError]) -> None:
    base = "properties"
    for name, attribute in TOOLKITS.items():
        settings = getattr(spec, attribute)
        if settings is None:
            continue
        path = f"{base}.{name}Settings"
        _check_count(getattr(settings, "process_count", None), f"{path}.processCount", errors)
        if name == "tensorFlow":
            _check_count(settings.worker_count, f"{path}.workerCount", errors)
            _check_count(settings.parameter_server_count, f"{path}.parameterServerCount", errors, minimum=0)
        if name == "customToolkit" and not (settings.command_line or "").strip():
            errors.append(
                FieldError(
                    f"{path}.commandLine", "required: the command line the job runs (on its first node)"
                )
            )
        if name == "cntk":
            language = settings.language_type or _cntk_language(settings)
            if language is None:
                errors.append(
                    FieldError(path, "give pythonScriptFilePath (Python) or configFilePath (BrainScript)")
                )
            elif str(language).lower() not in ("python", "brainscript"):
                errors.append(
                    FieldError(f"{path}.languageType", f"must be Python or BrainScript, got {language!r}")
                )
            elif str(language).lower() == "python" and not settings.python_script_file_path:
                errors.append(
                    FieldError(f"{path}.pythonScriptFilePath", "required when languageType is Python")
                )
            elif str(language).lower() == "brainscript" and not settings.config_file_path:
                errors.append(
                    FieldError(f"{path}.configFilePath", "required when languageType is BrainScript")
                )
        if name == "caffe" and bool(settings.config_file_path) == bool(settings.python_script_file_path):
            errors.append(FieldError(path, "give exactly one of configFilePath and pythonScriptFilePath"))


def _cntk_language(settings: Any) -> str | None:
    """languageType when the file leaves it out: the BrainScript recipes give only configFilePath, and the
    service ran them as BrainScript; a Python script means Python."""
    if settings.python_script_file_path:
        return "Python"
    if settings.config_file_path:
        return "BrainScript"
    return None


def _mount_entries(spec: JobCreateParameters) -> list[tuple[str, Any]]:
    volumes = spec.mount_volumes
    if volumes is None:
        return []
    entries = []
    for key, attribute in (
        ("azureFileShares", "azure_file_shares"),
        ("azureBlobFileSystems", "azure_blob_file_systems"),
        ("fileServers", "file_servers"),
        ("unmanagedFileSystems", "unmanaged_file_systems"),
    ):
        for index, entry in enumerate(getattr(volumes, attribute) or []):
            entries.append((f"properties.mountVolumes.{key}[{index}]", entry))
    return entries


def _placeholder(text: str | None) -> str | None:
    """A `<...>` placeholder other than the ones `az` (and bai) fill in, e.g. the quickstart's
    `<YOUR_STORAGE_ACCOUNT>`, which its readers had to replace by hand."""
    for found in _PLACEHOLDER.findall(text or ""):
        if found not in (STORAGE_ACCOUNT_PLACEHOLDER, STORAGE_KEY_PLACEHOLDER):
            return found
    return None


def _placeholder_errors(path: str, entry: Any) -> list[FieldError]:
    """One error per field of a mount that still holds a placeholder to be replaced by hand."""
    account = (
        f"is a placeholder: write your storage account's name in its place, or write "
        f"{STORAGE_ACCOUNT_PLACEHOLDER}"
    )
    give = Hint("give", "storage_account_name", {"inline": "yes"})  # "... and give --storage-account-name"
    errors = []
    url = getattr(entry, "azure_file_url", None) or ""
    found = _placeholder(url)
    if found:
        host = url.split("://", 1)[-1].split("/", 1)[0]
        where = account if found in host else "is a placeholder: write the share's name in its place"
        hint = give if found in host else None
        errors.append(FieldError(f"{path}.azureFileUrl", f"{found!r} {where}", hint))
    for key, attribute, what in (
        ("accountName", "account_name", None),
        ("containerName", "container_name", "the blob container's name"),
        ("relativeMountPath", "relative_mount_path", "a folder name (e.g. the share's name)"),
    ):
        found = _placeholder(getattr(entry, attribute, None))
        if found:
            message = account if what is None else f"is a placeholder: write {what} in its place"
            errors.append(FieldError(f"{path}.{key}", f"{found!r} {message}", give if what is None else None))
    return errors


def _check_mount_volumes(spec: JobCreateParameters, errors: list[FieldError]) -> None:
    seen: dict[str, str] = {}
    for path, entry in _mount_entries(spec):
        placeholders = _placeholder_errors(path, entry)
        errors.extend(placeholders)
        held = {error.path.rsplit(".", 1)[1] for error in placeholders}  # checked no further
        mount = None if "relativeMountPath" in held else entry.relative_mount_path
        if mount is not None and mount.strip():
            problem = _relative_mount_problem(mount)
            if problem:
                errors.append(FieldError(f"{path}.relativeMountPath", problem))
            elif mount in seen:
                errors.append(
                    FieldError(
                        f"{path}.relativeMountPath",
                        f"{mount!r} is already used by {seen[mount]}: use another",
                    )
                )
            else:
                seen[mount] = path
        url = None if "azureFileUrl" in held else getattr(entry, "azure_file_url", None)
        if (
            url is not None
            and url.strip()
            and not (_AZURE_FILE_URL.fullmatch(url) or _LOOPBACK_FILE_URL.fullmatch(url))
        ):
            errors.append(
                FieldError(
                    f"{path}.azureFileUrl",
                    f"{url!r} is not an Azure Files share URL: use "
                    "https://ACCOUNT.file.core.windows.net/SHARE "
                    f"(ACCOUNT may be {STORAGE_ACCOUNT_PLACEHOLDER})",
                )
            )
        elif url:
            share = _share_of_url(url)
            if share and not _SHARE_NAME.fullmatch(share):
                errors.append(
                    FieldError(
                        f"{path}.azureFileUrl",
                        f"share name {share!r} is not valid: 3-63 lowercase letters, digits and "
                        "single hyphens",
                    )
                )
        account = None if "accountName" in held else getattr(entry, "account_name", None)
        if account and account != STORAGE_ACCOUNT_PLACEHOLDER and not _ACCOUNT_NAME.fullmatch(account):
            errors.append(
                FieldError(
                    f"{path}.accountName",
                    f"{account!r} is not a storage account name: 3-24 lowercase letters and digits",
                )
            )


def _relative_mount_problem(mount: str) -> str | None:
    if "/" in mount or "\\" in mount:
        return f"{mount!r} must be a single folder name, without slashes"
    if mount in (".", ".."):
        return f"{mount!r} is not allowed: give a folder name such as the share's name"
    if mount.strip() != mount:
        return f"{mount!r} has leading or trailing spaces"
    return None


def _share_of_url(url: str) -> str | None:
    match = _AZURE_FILE_URL.fullmatch(url) or _LOOPBACK_FILE_URL.fullmatch(url)
    return match["share"] if match else None


def _check_names(spec: JobCreateParameters, errors: list[FieldError]) -> None:
    seen: dict[str, str] = {}
    for key, items in (("environmentVariables", spec.environment_variables), ("secrets", spec.secrets)):
        for index, item in enumerate(items or []):
            path = f"properties.{key}[{index}]"
            if item.name is not None and item.name.strip():
                if not _ENV_NAME.fullmatch(item.name):
                    errors.append(
                        FieldError(
                            f"{path}.name",
                            f"{item.name!r} is not a valid variable name: letters, digits "
                            "and _, not starting with a digit",
                        )
                    )
                elif item.name in seen:
                    errors.append(
                        FieldError(f"{path}.name", f"{item.name!r} is already set by {seen[item.name]}")
                    )
                else:
                    seen[item.name] = path
            if key == "secrets" and item.value is None and item.value_secret_reference is None:
                errors.append(FieldError(path, "give value or valueSecretReference"))
    for key, items in (
        ("inputDirectories", spec.input_directories),
        ("outputDirectories", spec.output_directories),
    ):
        ids: dict[str, str] = {}
        for index, item in enumerate(items or []):
            path = f"properties.{key}[{index}].id"
            if item.id is None or not item.id.strip():
                continue
            if not _DIRECTORY_ID.fullmatch(item.id):
                errors.append(
                    FieldError(
                        path,
                        f"{item.id!r}: use letters, digits and _ only (it becomes "
                        f"$AZ_BATCHAI_{'INPUT' if key.startswith('input') else 'OUTPUT'}_<id>)",
                    )
                )
            elif item.id.upper() in ids:
                errors.append(FieldError(path, f"{item.id!r} is already used by {ids[item.id.upper()]}"))
            else:
                ids[item.id.upper()] = path


def _check_constraints(spec: JobCreateParameters, errors: list[FieldError]) -> None:
    if spec.constraints is None:
        return
    value = spec.constraints.max_wall_clock_time
    path = "properties.constraints.maxWallClockTime"
    if isinstance(value, str):  # the SDK's own default is the string "7.00:00:00"
        try:
            value = parse_max_wall_clock_time(value)
        except ValueError as error:
            errors.append(FieldError(path, str(error)))
            return
        spec.constraints.max_wall_clock_time = value
    if isinstance(value, timedelta) and value <= timedelta(0):
        errors.append(FieldError(path, "must be longer than zero"))


def _dedupe(errors: list[FieldError]) -> list[FieldError]:
    seen: set[tuple[str, str]] = set()
    out = []
    for error in errors:
        if (error.path, error.message) not in seen:
            seen.add((error.path, error.message))
            out.append(error)
    # a path that is 'required' and also has a specific message: keep the specific one
    specific = {error.path for error in out if error.message != "required"}
    return [error for error in out if not (error.message == "required" and error.path in specific)]
