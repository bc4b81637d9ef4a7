"""Storage accounts (azure-mgmt-storage) and Azure Files shares, folders and files (azure-storage-file-share).

An account's key comes from AZURE_BATCHAI_STORAGE_ACCOUNT / AZURE_BATCHAI_STORAGE_KEY when they name it,
else from listKeys through the management client; keys are registered with `redact` the moment we hold them.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from typing import Any

from tui.backends.base import ProgressCallback
from tui.backends.batchai import convert
from tui.backends.batchai.clients import AzureClients
from tui.backends.batchai.errors import azure_errors
from tui.backends.batchai.redact import SECRETS
from tui.backends.common import file_in_the_way, files_to_upload, offset_progress
from tui.core.errors import BaiError, NotFoundError
from tui.core.model import FileEntry, FileShare, StorageAccount


def _clean_path(path: str) -> str:
    """A share-relative path without leading/trailing slashes or `.` parts; `..` is refused."""
    parts = [part for part in PurePosixPath(path.replace("\\", "/")).parts if part not in ("/", ".", "")]
    if ".." in parts:
        raise BaiError(f"path {path!r}: '..' is not allowed in a share path")
    return "/".join(parts)


def _join(directory: str, name: str) -> str:
    directory = _clean_path(directory)
    return f"{directory}/{name}" if directory else name


def _hook(progress: ProgressCallback | None) -> Callable[[int, int | None], Awaitable[None]] | None:
    if progress is None:
        return None

    async def hook(current: int, total: int | None) -> None:
        result = progress(current, total)
        if inspect.isawaitable(result):
            await result

    return hook


class AzureStorageService:
    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients
        self._keys: dict[str, str] = {}
        settings = clients.settings
        if settings.storage_account and settings.storage_key:
            SECRETS.add(settings.storage_key)
            self._keys[settings.storage_account] = settings.storage_key

    # ---- accounts (management plane) ----

    async def create_account(
        self, resource_group: str, name: str, location: str, sku: str = "Standard_LRS"
    ) -> StorageAccount:
        parameters = {"sku": {"name": sku}, "kind": "StorageV2", "location": location}
        with azure_errors(f"creating storage account {name}"):
            poller = await self._clients.storage.storage_accounts.begin_create(
                resource_group, name, parameters
            )
            return convert.storage_account(await poller.result())

    async def _find_account(self, name: str) -> Any:
        with azure_errors(f"looking up storage account {name}"):
            async for account in self._clients.storage.storage_accounts.list():
                if account.name == name:
                    return account
        raise NotFoundError(
            f"storage account {name!r} was not found in subscription "
            f"{self._clients.settings.subscription_id}; "
            "check the name with `bai storage account list`"
        )

    async def get_account(self, name: str) -> StorageAccount:
        return convert.storage_account(await self._find_account(name))

    async def list_accounts(self, resource_group: str | None = None) -> list[StorageAccount]:
        operations = self._clients.storage.storage_accounts
        with azure_errors("listing storage accounts"):
            pages = operations.list_by_resource_group(resource_group) if resource_group else operations.list()
            return [convert.storage_account(item) async for item in pages]

    async def delete_account(self, name: str) -> None:
        account = await self._find_account(name)
        with azure_errors(f"deleting storage account {name}"):
            await self._clients.storage.storage_accounts.delete(convert.resource_group_of(account.id), name)
        self._keys.pop(name, None)

    async def account_key(self, name: str) -> str:
        """The account's first key: from the environment when it names this account, else listKeys."""
        if name in self._keys:
            return self._keys[name]
        account = await self._find_account(name)
        with azure_errors(f"reading the keys of storage account {name}"):
            result = await self._clients.storage.storage_accounts.list_keys(
                convert.resource_group_of(account.id), name
            )
        items = getattr(result, "keys_property", None) or []
        keys = [item.value for item in items if item.value]
        if not keys:
            raise BaiError(f"storage account {name!r} returned no keys; set AZURE_BATCHAI_STORAGE_KEY")
        for key in keys:
            SECRETS.add(key)
        self._keys[name] = keys[0]
        return keys[0]

    async def _service(self, account: str) -> Any:
        return self._clients.share_service(account, await self.account_key(account))

    # ---- shares, directories, files (data plane) ----

    async def create_share(self, account: str, share: str, quota_gb: int | None = None) -> FileShare:
        from azure.core.exceptions import ResourceExistsError

        service = await self._service(account)
        client = service.get_share_client(share)
        with azure_errors(f"creating share {share} in {account}"):
            try:
                await client.create_share(quota=quota_gb)
            except ResourceExistsError:  # as az: creating what exists is not an error
                quota_gb = (await client.get_share_properties()).quota
        return FileShare(name=share, account=account, url=client.url, quota_gb=quota_gb)

    async def list_shares(self, account: str) -> list[FileShare]:
        service = await self._service(account)
        with azure_errors(f"listing shares of {account}"):
            items = [item async for item in service.list_shares()]
        return [
            FileShare(
                name=item.name,
                account=account,
                url=service.get_share_client(item.name).url,
                quota_gb=item.quota,
            )
            for item in items
        ]

    async def delete_share(self, account: str, share: str) -> None:
        service = await self._service(account)
        with azure_errors(f"deleting share {share} in {account}"):
            await service.delete_share(share)

    async def _ensure_directory(self, share_client: Any, path: str) -> None:
        """Create `path` and any missing parents; folders that exist are fine (az: created=false)."""
        from azure.core.exceptions import ResourceExistsError

        parts = path.split("/") if path else []
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            try:
                await share_client.get_directory_client(sub).create_directory()
            except ResourceExistsError:
                if await self._is_file(share_client, sub):
                    raise file_in_the_way(share_client.account_name, share_client.share_name, sub) from None

    @staticmethod
    async def _is_file(share_client: Any, path: str) -> bool:
        parent, _, name = path.rpartition("/")
        directory = share_client.get_directory_client(parent)
        async for item in directory.list_directories_and_files(name_starts_with=name):
            if item.name == name:
                return not item.get("is_directory")
        return False

    async def create_directory(self, account: str, share: str, path: str) -> FileEntry:
        clean = _clean_path(path)
        if not clean:
            raise BaiError("is empty: give one like cifar", argument="directory", value="")
        service = await self._service(account)
        with azure_errors(f"creating directory {clean} on {share}"):
            await self._ensure_directory(service.get_share_client(share), clean)
        return FileEntry(name=clean.rsplit("/", 1)[-1], is_directory=True, path=clean)

    async def list_files(self, account: str, share: str, path: str = "") -> list[FileEntry]:
        clean = _clean_path(path)
        service = await self._service(account)
        directory = service.get_share_client(share).get_directory_client(clean)
        with azure_errors(f"listing {share}/{clean}"):
            items = [item async for item in directory.list_directories_and_files(include=["timestamps"])]
        entries = []
        for item in items:
            is_dir = bool(item.get("is_directory"))
            entries.append(
                FileEntry(
                    name=item.name,
                    is_directory=is_dir,
                    size=None if is_dir else item.get("size"),
                    last_modified=item.get("last_modified"),
                    path=_join(clean, item.name),
                )
            )
        return sorted(entries, key=lambda entry: (not entry.is_directory, entry.name))

    async def upload_file(
        self,
        account: str,
        share: str,
        directory: str,
        source: Path,
        name: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> FileEntry:
        source = Path(source)
        if not source.is_file():
            raise BaiError(": no such file", argument="source", value=str(source))
        target = _join(directory, name or source.name)
        service = await self._service(account)
        share_client = service.get_share_client(share)
        size = source.stat().st_size
        with azure_errors(f"uploading {source.name} to {share}/{target}"):
            parent = target.rsplit("/", 1)[0] if "/" in target else ""
            if parent:
                await self._ensure_directory(share_client, parent)
            with source.open("rb") as data:
                await share_client.get_file_client(target).upload_file(
                    data, length=size, progress_hook=_hook(progress)
                )
        return FileEntry(name=target.rsplit("/", 1)[-1], is_directory=False, size=size, path=target)

    async def upload_directory(
        self,
        account: str,
        share: str,
        directory: str,
        source: Path,
        progress: ProgressCallback | None = None,
    ) -> list[FileEntry]:
        source = Path(source)
        if not source.is_dir():
            raise BaiError(": not a directory", argument="source", value=str(source))
        files, total = files_to_upload(source)
        done = 0
        uploaded = []
        for path in files:
            relative = path.relative_to(source).parent.as_posix()
            into = _join(directory, relative) if relative != "." else _clean_path(directory)
            step = offset_progress(progress, done, total)
            uploaded.append(await self.upload_file(account, share, into, path, progress=step))
            done += path.stat().st_size
        if progress is not None:
            progress(done, total)
        return uploaded

    async def download_file(
        self, account: str, share: str, path: str, destination: Path, progress: ProgressCallback | None = None
    ) -> Path:
        clean = _clean_path(path)
        destination = Path(destination)
        if destination.is_dir():
            destination = destination / clean.rsplit("/", 1)[-1]
        destination.parent.mkdir(parents=True, exist_ok=True)
        service = await self._service(account)
        partial = destination.with_name(destination.name + ".part")
        try:
            with azure_errors(f"downloading {share}/{clean}"):
                downloader = (
                    await service.get_share_client(share)
                    .get_file_client(clean)
                    .download_file(progress_hook=_hook(progress))
                )
                with partial.open("wb") as out:
                    async for chunk in downloader.chunks():
                        out.write(chunk)
            os.replace(partial, destination)
        finally:
            partial.unlink(missing_ok=True)
        return destination

    async def delete_file(self, account: str, share: str, path: str) -> None:
        clean = _clean_path(path)
        service = await self._service(account)
        with azure_errors(f"deleting {share}/{clean}"):
            await service.get_share_client(share).get_file_client(clean).delete_file()
