"""The use cases, written once for both front ends: submit a job, ensure a folder, upload, the SSH-key policy.

The console's actions and the `bai` verbs are thin adapters: they gather inputs (arguments, form fields),
call one of these, and present the result or the typed error in their own words. Where the two front ends
used to disagree, these do what `az` did. A backend is taken as a parameter, typed by the small protocols
below (the slice of `tui.backends.base` each use case needs), so the core imports nothing above it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tui.core import settings
from tui.core.errors import BaiError, ConflictError, Hint, JobSpecError, NotFoundError
from tui.core.model import FileEntry, Job, JobRef, JobSubmitOptions, ProgressCallback

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters


class FolderStorage(Protocol):
    """What the storage use cases need of a backend's storage service."""

    async def create_directory(self, account: str, share: str, path: str) -> FileEntry: ...
    async def list_files(self, account: str, share: str, path: str = "") -> list[FileEntry]:
        """Entries directly inside `path` ("" is the share's root)."""
        ...

    async def upload_file(
        self,
        account: str,
        share: str,
        directory: str,
        source: Path,
        name: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> FileEntry: ...
    async def upload_directory(
        self,
        account: str,
        share: str,
        directory: str,
        source: Path,
        progress: ProgressCallback | None = None,
    ) -> list[FileEntry]:
        """Upload every file under `source` into `directory`, keeping the relative layout (upload-batch)."""
        ...


class JobSubmitter(Protocol):
    """What submitting needs of a backend's job service."""

    async def create(
        self, ref: JobRef, cluster: str, spec: JobCreateParameters, options: JobSubmitOptions | None = None
    ) -> Job:
        """Submit a job; `spec.cluster` is filled from `cluster`. Nothing is created when this raises."""
        ...


# ------------------------------------------------------------------------------------------- storage account


def default_storage_account(explicit: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The storage account a job.json's `<AZURE_BATCHAI_STORAGE_ACCOUNT>` stands for, as az chose it: the
    one given (`--storage-account-name`, the form's field), else `AZURE_BATCHAI_STORAGE_ACCOUNT`."""
    given = (explicit or "").strip()
    return given or settings.batchai_storage_account(env)


# ------------------------------------------------------------------------------------------------ jobs


@dataclass
class PreparedJob:
    """A job.json read once, its placeholders filled once, with what to tell the user (`warnings`)."""

    spec: JobCreateParameters
    options: JobSubmitOptions
    warnings: list[str] = field(default_factory=list)


def prepare_job(
    document: dict[str, Any] | Path,
    storage_account_name: str | None = None,
    *,
    run_job_preparation: bool = False,
    fill: bool = True,
    env: Mapping[str, str] | None = None,
) -> PreparedJob:
    """Parse a job.json (a file, or the form's document) once and resolve the storage account once.

    `fill=False` (validate without submitting) checks the placeholder only when an account was given.
    Raises JobSpecError with every field error at once (its `source` is the file's name when read from one).
    Fields the service ignored are returned as warnings, not refused.
    """
    from tui.core.jobspec import apply_storage_account, load_job_spec, parse_job_spec

    account = default_storage_account(storage_account_name, env)
    notes: list[str] = []
    source = document.name if isinstance(document, Path) else None
    try:
        if isinstance(document, Path):
            spec = load_job_spec(document, notes=notes)
        else:
            spec = parse_job_spec(document, notes=notes)
        if fill or (storage_account_name or "").strip():
            apply_storage_account(spec, account)
    except JobSpecError as error:
        error.source = source
        raise
    options = JobSubmitOptions(storage_account_name=account, run_job_preparation=run_job_preparation)
    return PreparedJob(spec, options, notes)


@dataclass
class SubmittedJob:
    """The job as the backend answered, and every warning in the order a user should read them: fields of
    job.json the service ignored first, then what the backend said about the job."""

    job: Job
    warnings: list[str]


async def submit_job(
    jobs: JobSubmitter, ref: JobRef, cluster: str, prepared: PreparedJob, source: str | None = None
) -> SubmittedJob:
    """Submit a prepared job. A JobSpecError from the backend's own checks carries `source` (job.json)."""
    try:
        job = await jobs.create(ref, cluster, prepared.spec, prepared.options)
    except JobSpecError as error:
        error.source = source
        raise
    return SubmittedJob(job, [*prepared.warnings, *job.warnings])


# ------------------------------------------------------------------------------------------------ folders


def share_path(path: str) -> str:
    """A path inside a share: forward slashes, no leading slash, no '.'; '..' is refused."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if ".." in parts:
        raise BaiError("may not contain '..'", argument="path", value=path)
    return "/".join(parts)


async def ensure_folder(storage: FolderStorage, account: str, share: str, path: str) -> None:
    """Create each missing folder of `path` on the share (what az's upload-batch does before uploading)."""
    parts = [part for part in share_path(path).split("/") if part]
    for depth in range(1, len(parts) + 1):
        with contextlib.suppress(ConflictError):  # already there
            await storage.create_directory(account, share, "/".join(parts[:depth]))


@dataclass(frozen=True)
class UploadTarget:
    """Where one file goes: the folder (which exists) and the file's name in it."""

    directory: str
    name: str


async def resolve_upload_target(
    storage: FolderStorage, account: str, share: str, path: str, source: Path
) -> UploadTarget:
    """az storage file upload's `--path`: a folder that exists (the file keeps its name), else the file's own
    path in the share, whose parent folder must exist: a missing one is refused as az's ParentNotFound was,
    naming the folder and that creating it helps."""
    clean = share_path(path)
    if not clean:
        return UploadTarget("", source.name)
    parent, _, leaf = clean.rpartition("/")
    try:
        entries = await storage.list_files(account, share, parent)
    except NotFoundError:
        if not parent:
            raise  # the share or the account is missing: the backend said which
        await storage.list_files(account, share, "")  # the same question of the share itself
        raise NotFoundError(
            f"folder {parent!r} does not exist on share {share!r} (ParentNotFound)",
            hint=Hint("create", "directory", {"name": parent, "share": share, "account": account}),
        ) from None
    if any(entry.name == leaf and entry.is_directory for entry in entries):
        return UploadTarget(clean, source.name)
    return UploadTarget(parent, leaf)


async def upload_file(
    storage: FolderStorage,
    account: str,
    share: str,
    path: str,
    source: Path,
    progress: ProgressCallback | None = None,
) -> FileEntry:
    """One local file into the share (az storage file upload): the parent folder must exist."""
    if not source.is_file():
        raise BaiError("is not a file on this machine", argument="source", value=str(source))
    target = await resolve_upload_target(storage, account, share, path, source)
    return await storage.upload_file(
        account, share, target.directory, source, name=target.name, progress=progress
    )


async def upload_folder(
    storage: FolderStorage,
    account: str,
    share: str,
    directory: str,
    source: Path,
    progress: ProgressCallback | None = None,
) -> list[FileEntry]:
    """A local folder's files into the share, keeping their layout (az storage file upload-batch), creating
    the destination folders as upload-batch does."""
    if not source.is_dir():
        raise BaiError("is not a folder on this machine", argument="source", value=str(source))
    directory = share_path(directory)
    await ensure_folder(storage, account, share, directory)
    return await storage.upload_directory(account, share, directory, source, progress=progress)


# ------------------------------------------------------------------------------------------------ SSH keys


def ssh_public_key(ssh_key: str | None, generate: bool = False, home: Path | None = None) -> str:
    """az's policy for a cluster's admin key: the key given (its text, or a .pub file's path); else
    ~/.ssh/id_rsa.pub; with `generate`, that key pair is created first when missing (ssh-keygen). Nothing
    else: no other ~/.ssh file is picked up and no throw-away key is made behind the user's back."""
    if ssh_key:
        candidate = Path(ssh_key).expanduser()
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8").strip()
        if ssh_key.strip().startswith(("ssh-", "ecdsa-")):
            return ssh_key.strip()
        raise BaiError("is neither a public key nor a readable .pub file", argument="ssh_key", value=ssh_key)
    default = (home or Path.home()) / ".ssh" / "id_rsa.pub"
    if default.is_file():
        return default.read_text(encoding="utf-8").strip()
    if not generate:
        raise BaiError(
            f"is missing: {default} does not exist",
            argument="ssh_key",
            hint=Hint("give", "ssh_key", {"generate": "yes"}),
        )
    import shutil
    import subprocess

    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise BaiError(
            "cannot be generated without ssh-keygen (OpenSSH): install it",
            argument="ssh_key",
            hint=Hint("give", "ssh_key"),
        )
    default.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    result = subprocess.run(
        [keygen, "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(default.with_suffix(""))],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BaiError(
            f"could not be generated (ssh-keygen: {result.stderr.strip()})",
            argument="ssh_key",
            hint=Hint("give", "ssh_key"),
        )
    return default.read_text(encoding="utf-8").strip()


def cluster_admin(
    backend_name: str,
    user_name: str | None,
    ssh_key: str | None,
    generate_ssh_keys: bool = False,
    home: Path | None = None,
) -> tuple[str | None, str | None]:
    """(admin user, SSH public key) for a new cluster. The local backend runs jobs as you on this machine and
    needs neither; a remote one gets your user name (as az did) and the key by `ssh_public_key`'s policy.
    Batch AI requires a key; Azure ML's nodes take one only when a key or `generate_ssh_keys` is given (SSH
    to them is opened then)."""
    if backend_name in ("local", "ssh"):  # ssh: the hosts' own logins (a private key), not an admin key
        return user_name, None
    if user_name is None:
        import getpass

        try:
            user_name = getpass.getuser()
        except (KeyError, OSError):
            user_name = "azureuser"
    if backend_name == "azureml" and not (ssh_key or generate_ssh_keys):
        return user_name, None
    return user_name, ssh_public_key(ssh_key, generate_ssh_keys, home)
