"""`bai storage account|share|directory|file ...`: the storage the jobs mount (az storage ...).

Locally a share is a folder under $BAI_HOME; on Azure it is an Azure Files share. Paths inside a share use
forward slashes, as az's did.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from tui.cli.output import UsageError, share_row, storage_account_row, storage_file_row
from tui.cli.verbs._common import add_name, add_resource_group, leaf, noun, run_with_backend, show
from tui.core.errors import BaiError
from tui.core.format import size as _size
from tui.core.model import ProgressCallback


def register(subparsers: Any) -> None:
    storage = noun(subparsers, "storage", "storage accounts, file shares, directories and files")

    accounts = noun(storage, "account", "storage accounts")
    parser = leaf(accounts, "create", "create a storage account", _account_create)
    add_resource_group(parser)
    add_name(parser, metavar="ACCOUNT", help_text="account name: 3-24 lowercase letters and digits")
    parser.add_argument("-l", "--location", required=True, help="location, e.g. eastus")
    parser.add_argument("--sku", default="Standard_LRS", help="SKU (default Standard_LRS)")
    parser = leaf(accounts, "show", "show a storage account", _account_show)
    add_name(parser, metavar="ACCOUNT", help_text="account name")
    add_resource_group(parser, required=False)
    parser = leaf(accounts, "list", "list storage accounts", _account_list)
    add_resource_group(parser, required=False)
    parser = leaf(
        accounts, "delete", "delete a storage account and its shares", _account_delete, output=False
    )
    add_name(parser, metavar="ACCOUNT", help_text="account name")
    add_resource_group(parser, required=False)
    parser.add_argument("-y", "--yes", action="store_true", help="accepted for az compatibility")

    shares = noun(storage, "share", "file shares")
    parser = leaf(shares, "create", "create a file share", _share_create)
    add_name(parser, metavar="SHARE", help_text="share name")
    _add_account(parser)
    parser.add_argument("--quota", type=int, help="size limit in GB")
    parser = leaf(shares, "list", "list the shares of an account", _share_list)
    _add_account(parser)
    parser = leaf(shares, "delete", "delete a file share and its files", _share_delete, output=False)
    add_name(parser, metavar="SHARE", help_text="share name")
    _add_account(parser)

    directories = noun(storage, "directory", "directories in a file share")
    parser = leaf(directories, "create", "create a directory (and its parents)", _directory_create)
    add_name(parser, metavar="DIR", help_text="directory path in the share")
    _add_share(parser)

    files = noun(storage, "file", "files in a file share")
    parser = leaf(files, "upload", "upload a file", _file_upload)
    parser.add_argument("--source", required=True, help="local file to upload")
    parser.add_argument(
        "-p",
        "--path",
        default="",
        help="directory in the share, or the file's path there (default: the root)",
    )
    _add_share(parser)

    parser = leaf(files, "upload-batch", "upload a folder's files, keeping their layout", _file_upload_batch)
    parser.add_argument("-s", "--source", required=True, help="local folder to upload")
    parser.add_argument("-d", "--destination", required=True, help="SHARE or SHARE/DIR")
    parser.add_argument(
        "--destination-path", default="", help="directory in the share (added after SHARE/DIR)"
    )
    _add_account(parser)

    parser = leaf(files, "download", "download a file", _file_download)
    parser.add_argument("-p", "--path", required=True, help="the file's path in the share")
    parser.add_argument("--dest", help="local file or folder (default: the file's name, here)")
    _add_share(parser)

    parser = leaf(files, "list", "list the files and directories in a directory", _file_list)
    parser.add_argument("-p", "--path", default="", help="directory in the share (default: the root)")
    _add_share(parser)

    parser = leaf(files, "delete", "delete a file", _file_delete, output=False)
    parser.add_argument("-p", "--path", required=True, help="the file's path in the share")
    _add_share(parser)


def _add_account(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account-name", help="storage account (default: $AZURE_STORAGE_ACCOUNT)")


def _add_share(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--share-name", required=True, metavar="SHARE", help="file share")
    _add_account(parser)


def _account(args: argparse.Namespace) -> str:
    from tui.core import settings

    account = args.account_name or settings.storage_account()
    if not account:
        raise UsageError(
            "the following arguments are required: --account-name (or set AZURE_STORAGE_ACCOUNT)"
        )
    return account


def _share_path(path: str) -> str:
    """A path inside a share: forward slashes, no leading slash, no '..'."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UsageError(f"argument --path: {path!r} may not contain '..'")
    return "/".join(parts)


def progress_printer(label: str) -> ProgressCallback | None:
    """A one-line progress display on stderr, only when stderr is a terminal (scripts get clean output)."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int | None) -> None:
        if total:
            sys.stderr.write(f"\r{label}: {100 * done // total:3d}% ({_size(done)} of {_size(total)})\x1b[K")
        else:
            sys.stderr.write(f"\r{label}: {_size(done)}\x1b[K")
        if total is not None and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


# ------------------------------------------------------------------------------------------- accounts, shares


def _account_create(args: argparse.Namespace) -> int:
    account = run_with_backend(
        args,
        lambda b: b.storage.create_account(args.resource_group, args.name, args.location, args.sku),
        busy=True,
    )
    return show(args, account, storage_account_row)


def _account_show(args: argparse.Namespace) -> int:
    return show(args, run_with_backend(args, lambda b: b.storage.get_account(args.name)), storage_account_row)


def _account_list(args: argparse.Namespace) -> int:
    accounts = run_with_backend(args, lambda b: b.storage.list_accounts(args.resource_group))
    return show(args, accounts, storage_account_row)


def _account_delete(args: argparse.Namespace) -> int:
    run_with_backend(args, lambda b: b.storage.delete_account(args.name))
    return 0


def _share_create(args: argparse.Namespace) -> int:
    account = _account(args)
    share = run_with_backend(args, lambda b: b.storage.create_share(account, args.name, args.quota))
    return show(args, share, share_row)


def _share_list(args: argparse.Namespace) -> int:
    account = _account(args)
    return show(args, run_with_backend(args, lambda b: b.storage.list_shares(account)), share_row)


def _share_delete(args: argparse.Namespace) -> int:
    account = _account(args)
    run_with_backend(args, lambda b: b.storage.delete_share(account, args.name))
    return 0


def _directory_create(args: argparse.Namespace) -> int:
    account = _account(args)
    path = _share_path(args.name)
    if not path:
        raise UsageError("argument -n/--name: give a directory path such as 'cifar'")
    entry = run_with_backend(args, lambda b: b.storage.create_directory(account, args.share_name, path))
    return show(args, entry, storage_file_row)


# ------------------------------------------------------------------------------------------- files


def _file_upload(args: argparse.Namespace) -> int:
    from tui.core.operations import upload_file

    account = _account(args)
    source = Path(args.source).expanduser()
    if not source.is_file():
        raise UsageError(f"argument --source: {args.source!r} is not a file")
    # az: --path names a folder (the file keeps its name) or the file's own path; its parent must exist.
    path = _share_path(args.path)
    entry = run_with_backend(
        args,
        lambda b: upload_file(
            b.storage, account, args.share_name, path, source, progress=progress_printer(source.name)
        ),
    )
    return show(args, entry, storage_file_row)


def _file_upload_batch(args: argparse.Namespace) -> int:
    from tui.core.operations import upload_folder

    account = _account(args)
    source = Path(args.source).expanduser()
    if not source.is_dir():
        raise UsageError(f"argument -s/--source: {args.source!r} is not a folder")
    destination = _share_path(args.destination)
    if not destination:
        raise UsageError("argument -d/--destination: give SHARE or SHARE/DIR")
    share, _, directory = destination.partition("/")
    directory = "/".join(part for part in (directory, _share_path(args.destination_path)) if part)
    entries = run_with_backend(
        args,
        lambda b: upload_folder(
            b.storage, account, share, directory, source, progress=progress_printer(source.name)
        ),
    )
    return show(args, entries, storage_file_row)


def _file_download(args: argparse.Namespace) -> int:
    account = _account(args)
    path = _share_path(args.path)
    if not path:
        raise UsageError("argument -p/--path: give the file's path in the share")
    name = PurePosixPath(path).name
    destination = Path(args.dest).expanduser() if args.dest else Path(name)
    _check_name_length(destination)
    if destination.is_dir():
        destination = destination / name
    if not destination.parent.is_dir():
        raise BaiError(
            f"--dest {str(destination)!r}: folder {str(destination.parent)!r} does not exist; create it"
        )
    _check_writable(destination)
    try:
        result = run_with_backend(
            args,
            lambda b: b.storage.download_file(
                account, args.share_name, path, destination, progress_printer(name)
            ),
        )
    except OSError as error:  # the backends read the share themselves; what is left is writing here
        raise BaiError(
            f"--dest {str(destination)!r}: cannot write the file ({error.strerror or error}); "
            "give a writable --dest"
        ) from None
    return show(args, {"name": name, "path": path, "destination": str(result)})


def _check_writable(destination: Path) -> None:
    """Refuse a destination that cannot be written before anything is downloaded: a name longer than the
    file system allows, or a folder that takes no new files (read-only, no permission, /proc)."""
    _check_name_length(destination)
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=destination.parent, prefix=".bai-probe-"):
            pass
    except OSError as error:
        raise BaiError(
            f"--dest {str(destination)!r}: cannot write in {str(destination.parent)!r} "
            f"({error.strerror or error}); give a writable --dest"
        ) from None


def _check_name_length(destination: Path) -> None:
    """Every name in --dest within the file system's limit (NAME_MAX, 255 bytes on Linux)."""
    import os

    try:
        limit = os.pathconf(destination.anchor or ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for part in destination.parts:
        if len(part.encode()) > limit:
            raise BaiError(
                f"--dest: a name in it is {len(part.encode())} bytes long; the file system allows {limit}: "
                "give a shorter --dest"
            )


def _file_list(args: argparse.Namespace) -> int:
    account = _account(args)
    path = _share_path(args.path)
    entries = run_with_backend(args, lambda b: b.storage.list_files(account, args.share_name, path))
    return show(args, entries, storage_file_row)


def _file_delete(args: argparse.Namespace) -> int:
    account = _account(args)
    path = _share_path(args.path)
    run_with_backend(args, lambda b: b.storage.delete_file(account, args.share_name, path))
    return 0
