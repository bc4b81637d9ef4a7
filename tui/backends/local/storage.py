"""Storage accounts and their file shares, kept as plain folders: `$BAI_HOME/storage/<account>/<share>/...`.

Accounts are rows (they belong to a resource group and their names are global, as in Azure); shares,
directories and files are just the folders and files under the account's folder, so a job sees exactly what
was uploaded (its mount links point at these folders) and what it writes is immediately downloadable.
Uploads and downloads go through a temporary file and a rename, so nobody ever reads half a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tui.backends.base import ProgressCallback
from tui.backends.common import file_in_the_way, files_to_upload, offset_progress
from tui.backends.local import db, names
from tui.backends.local.context import LocalContext
from tui.backends.local.groups import require_group
from tui.core.errors import BaiError, ConflictError, Hint, NotFoundError
from tui.core.model import FileEntry, FileShare, StorageAccount

CHUNK = 1 << 20


def share_url(account: str, share: str) -> str:
    return f"https://{account}.file.core.windows.net/{share}"


def _entry(path: Path, relative: str) -> FileEntry:
    stat = path.stat()
    is_dir = path.is_dir()
    return FileEntry(
        name=path.name,
        is_directory=is_dir,
        size=None if is_dir else stat.st_size,
        last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        path=relative,
        download_url=path.as_uri(),
    )


def list_folder(folder: Path, relative_base: str) -> list[FileEntry]:
    entries = []
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        try:
            entries.append(_entry(child, f"{relative_base}/{child.name}".lstrip("/")))
        except FileNotFoundError:
            continue  # removed while listing
    return entries


def copy_with_progress(source: Path, destination: Path, progress: ProgressCallback | None) -> None:
    """Copy into `destination` atomically (temporary file in the same folder, then rename)."""
    total = source.stat().st_size
    fd, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    done = 0
    try:
        with open(source, "rb") as reader, os.fdopen(fd, "wb") as writer:
            if progress:
                progress(0, total)
            while chunk := reader.read(CHUNK):
                writer.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        shutil.copymode(source, temporary)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class LocalStorage:
    def __init__(self, ctx: LocalContext):
        self._ctx = ctx

    # ---------------------------------------------------------------------------------------------- accounts

    async def create_account(
        self, resource_group: str, name: str, location: str, sku: str = "Standard_LRS"
    ) -> StorageAccount:
        return await self._ctx.call(self._create_account, resource_group, name, location, sku)

    def _create_account(self, resource_group: str, name: str, location: str, sku: str) -> StorageAccount:
        names.check_account(name)
        with self._ctx.connection() as conn, db.immediate(conn):
            group = require_group(conn, resource_group)
            location = (location or group.location).strip().lower()
            row = conn.execute("SELECT * FROM storage_accounts WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if row["resource_group"].lower() != group.name.lower():
                    raise ConflictError(
                        f"storage account name {name!r} is already taken (in resource group "
                        f"{row['resource_group']!r}): account names are global, choose another"
                    )
                return self._account(row)
            conn.execute(
                "INSERT INTO storage_accounts (name, resource_group, location, sku, created)"
                " VALUES (?,?,?,?,?)",
                (name, group.name, location, sku or "Standard_LRS", db.now_text()),
            )
            self._ctx.layout.account_dir(name).mkdir(parents=True, exist_ok=True)
        return StorageAccount(name=name, resource_group=group.name, location=location, sku=sku)

    @staticmethod
    def _account(row) -> StorageAccount:  # type: ignore[no-untyped-def]
        return StorageAccount(
            name=row["name"], resource_group=row["resource_group"], location=row["location"], sku=row["sku"]
        )

    def _require_account(self, name: str) -> StorageAccount:
        with self._ctx.connection() as conn:
            row = conn.execute("SELECT * FROM storage_accounts WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(
                f"storage account {name!r} not found", hint=Hint("create", "storageaccount", {"name": name})
            )
        return self._account(row)

    async def get_account(self, name: str) -> StorageAccount:
        return await self._ctx.call(self._require_account, name)

    async def list_accounts(self, resource_group: str | None = None) -> list[StorageAccount]:
        return await self._ctx.call(self._list_accounts, resource_group)

    def _list_accounts(self, resource_group: str | None) -> list[StorageAccount]:
        with self._ctx.connection() as conn:
            if resource_group is None:
                rows = conn.execute("SELECT * FROM storage_accounts ORDER BY name").fetchall()
            else:
                require_group(conn, resource_group)
                rows = conn.execute(
                    "SELECT * FROM storage_accounts WHERE resource_group = ? ORDER BY name", (resource_group,)
                ).fetchall()
        return [self._account(row) for row in rows]

    async def delete_account(self, name: str) -> None:
        await self._ctx.call(self._delete_account, name)

    def _delete_account(self, name: str) -> None:
        self._require_account(name)
        with self._ctx.connection() as conn, db.immediate(conn):
            conn.execute("DELETE FROM storage_accounts WHERE name = ?", (name,))
        shutil.rmtree(self._ctx.layout.account_dir(name), ignore_errors=True)

    # ------------------------------------------------------------------------------------------------ shares

    def _share_dir(self, account: str, share: str) -> Path:
        self._require_account(account)
        folder = self._ctx.layout.share_dir(account, names.check_share(share))
        if not folder.is_dir():
            raise NotFoundError(
                f"share {share!r} not found in storage account {account!r}",
                hint=Hint("create", "share", {"name": share, "account": account}),
            )
        return folder

    async def create_share(self, account: str, share: str, quota_gb: int | None = None) -> FileShare:
        return await self._ctx.call(self._create_share, account, share, quota_gb)

    def _create_share(self, account: str, share: str, quota_gb: int | None) -> FileShare:
        self._require_account(account)
        names.check_share(share)
        if quota_gb is not None and not 1 <= quota_gb <= 102400:
            raise BaiError(f"share quota {quota_gb} GB is out of range: use 1 to 102400")
        self._ctx.layout.share_dir(account, share).mkdir(parents=True, exist_ok=True)
        return FileShare(name=share, account=account, url=share_url(account, share), quota_gb=quota_gb)

    async def list_shares(self, account: str) -> list[FileShare]:
        return await self._ctx.call(self._list_shares, account)

    def _list_shares(self, account: str) -> list[FileShare]:
        self._require_account(account)
        folder = self._ctx.layout.account_dir(account)
        if not folder.is_dir():
            return []
        return [
            FileShare(name=child.name, account=account, url=share_url(account, child.name))
            for child in sorted(folder.iterdir())
            if child.is_dir()
        ]

    async def delete_share(self, account: str, share: str) -> None:
        await self._ctx.call(self._delete_share, account, share)

    def _delete_share(self, account: str, share: str) -> None:
        shutil.rmtree(self._share_dir(account, share))

    # ------------------------------------------------------------------------------------ directories, files

    def _resolve(self, account: str, share: str, path: str) -> tuple[Path, str]:
        parts = names.share_path_parts(path)
        return self._share_dir(account, share).joinpath(*parts), "/".join(parts)

    def _refuse_a_file_in_the_way(self, account: str, share: str, relative: str) -> None:
        """Raise ConflictError naming the first part of the directory path `relative` that is a file."""
        root = self._share_dir(account, share)
        parts = relative.split("/") if relative else []
        for depth in range(1, len(parts) + 1):
            if root.joinpath(*parts[:depth]).is_file():
                raise file_in_the_way(account, share, "/".join(parts[:depth]))

    async def create_directory(self, account: str, share: str, path: str) -> FileEntry:
        return await self._ctx.call(self._create_directory, account, share, path)

    def _create_directory(self, account: str, share: str, path: str) -> FileEntry:
        folder, relative = self._resolve(account, share, path)
        if not relative:
            raise BaiError("a directory name is required: give the directory's path inside the share")
        self._refuse_a_file_in_the_way(account, share, relative.rpartition("/")[0])
        if not folder.parent.is_dir():
            parent = relative.rsplit("/", 1)[0]
            raise NotFoundError(
                f"parent directory {parent!r} does not exist on share {share!r}: create it first"
            )
        if folder.exists() and not folder.is_dir():
            raise ConflictError(f"{relative!r} is a file on share {share!r}: choose another directory name")
        folder.mkdir(exist_ok=True)
        return _entry(folder, relative)

    async def list_files(self, account: str, share: str, path: str = "") -> list[FileEntry]:
        return await self._ctx.call(self._list_files, account, share, path)

    def _list_files(self, account: str, share: str, path: str) -> list[FileEntry]:
        folder, relative = self._resolve(account, share, path)
        if folder.is_file():
            return [_entry(folder, relative)]
        if not folder.is_dir():
            raise NotFoundError(f"directory {relative!r} not found on share {share!r}")
        return list_folder(folder, relative)

    async def upload_file(
        self,
        account: str,
        share: str,
        directory: str,
        source: Path,
        name: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> FileEntry:
        return await self._ctx.call(
            self._upload_file, account, share, directory, Path(source), name, progress
        )

    def _upload_file(
        self, account: str, share: str, directory: str, source: Path, name: str | None, progress
    ) -> FileEntry:  # type: ignore[no-untyped-def]
        if not source.is_file():
            raise NotFoundError(f"source file {str(source)!r} not found: give an existing local file")
        folder, relative = self._resolve(account, share, directory)
        self._refuse_a_file_in_the_way(account, share, relative)
        if not folder.is_dir():
            raise NotFoundError(
                f"directory {relative!r} not found on share {share!r}",
                hint=Hint("create", "directory", {"name": relative, "share": share, "account": account}),
            )
        file_name = name or source.name
        names.share_path_parts(file_name)
        if "/" in file_name:
            raise BaiError(f"file name {file_name!r} must not contain '/': put the folder in the directory")
        destination = folder / file_name
        if destination.is_dir():
            raise ConflictError(f"{relative}/{file_name} is a directory on share {share!r}")
        copy_with_progress(source, destination, progress)
        return _entry(destination, f"{relative}/{file_name}".lstrip("/"))

    async def upload_directory(
        self,
        account: str,
        share: str,
        directory: str,
        source: Path,
        progress: ProgressCallback | None = None,
    ) -> list[FileEntry]:
        return await self._ctx.call(self._upload_directory, account, share, directory, Path(source), progress)

    def _upload_directory(
        self, account: str, share: str, directory: str, source: Path, progress: ProgressCallback | None
    ) -> list[FileEntry]:
        if not source.is_dir():
            raise NotFoundError(f"source folder {str(source)!r} not found: give an existing local folder")
        root, relative = self._resolve(account, share, directory)
        files, total = files_to_upload(source)
        for inner_folder in sorted({path.relative_to(source).parent.as_posix() for path in files}):
            # Before copying anything: a file where a folder goes would stop the batch half done.
            joined = "/".join(part for part in (relative, inner_folder) if part not in ("", "."))
            self._refuse_a_file_in_the_way(account, share, joined)
        done = 0
        uploaded = []
        for path in files:
            inner = path.relative_to(source)
            destination = root.joinpath(*inner.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            copy_with_progress(path, destination, offset_progress(progress, done, total))
            done += path.stat().st_size
            uploaded.append(_entry(destination, "/".join([*filter(None, [relative]), *inner.parts])))
        return uploaded

    async def download_file(
        self, account: str, share: str, path: str, destination: Path, progress: ProgressCallback | None = None
    ) -> Path:
        return await self._ctx.call(self._download_file, account, share, path, Path(destination), progress)

    def _download_file(
        self, account: str, share: str, path: str, destination: Path, progress: ProgressCallback | None
    ) -> Path:
        source, relative = self._resolve(account, share, path)
        if not source.is_file():
            raise NotFoundError(
                f"file {relative!r} not found on share {share!r}: list it with `bai storage file list`"
            )
        if destination.is_dir():
            destination = destination / source.name
        if not destination.parent.is_dir():
            raise NotFoundError(f"local folder {str(destination.parent)!r} does not exist: create it first")
        copy_with_progress(source, destination, progress)
        return destination

    async def delete_file(self, account: str, share: str, path: str) -> None:
        await self._ctx.call(self._delete_file, account, share, path)

    def _delete_file(self, account: str, share: str, path: str) -> None:
        target, relative = self._resolve(account, share, path)
        if not relative:
            raise BaiError("a file path is required: give the path of the file inside the share")
        if target.is_dir():
            try:
                target.rmdir()
            except OSError as error:
                raise ConflictError(f"directory {relative!r} on share {share!r} is not empty") from error
            return
        if not target.exists():
            raise NotFoundError(f"file {relative!r} not found on share {share!r}")
        target.unlink()
