"""`bai workspace create|show|list|delete` (az batchai workspace ...)."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.output import workspace_row
from tui.cli.verbs._common import add_name, add_resource_group, leaf, noun, run_with_backend, show


def register(subparsers: Any) -> None:
    verbs = noun(subparsers, "workspace", "workspaces: the top-level collection of clusters and experiments")

    parser = leaf(verbs, "create", "create a workspace", _create)
    add_resource_group(parser)
    add_name(parser, "-w", "--workspace", metavar="WS", help_text="workspace name")
    parser.add_argument("-l", "--location", help="location (default: the resource group's)")
    parser.add_argument(
        "--storage-account",
        help="azureml: the existing storage account the workspace uses (default: "
        "$AZURE_BATCHAI_STORAGE_ACCOUNT, else one bai creates, named from the workspace)",
    )

    for verb, handler, text in (
        ("show", _show, "show a workspace"),
        ("delete", _delete, "delete a workspace"),
    ):
        parser = leaf(verbs, verb, text, handler, output=verb == "show")
        add_resource_group(parser)
        add_name(parser, "-w", "--workspace", metavar="WS", help_text="workspace name")
        if verb == "delete":
            parser.add_argument("-y", "--yes", action="store_true", help="accepted for az compatibility")

    parser = leaf(verbs, "list", "list workspaces", _list)
    add_resource_group(parser, required=False)


def _create(args: argparse.Namespace) -> int:
    extra = {}
    if args.storage_account:
        from tui.backends import backend_name
        from tui.core.errors import BaiError

        if backend_name(args.backend) != "azureml":
            raise BaiError("--storage-account: only the azureml backend's workspaces have a storage account")
        extra["storage_account"] = args.storage_account
    workspace = run_with_backend(
        args,
        lambda backend: backend.workspaces.create(args.resource_group, args.name, args.location, **extra),
        busy=True,
    )
    return show(args, workspace, workspace_row)


def _show(args: argparse.Namespace) -> int:
    workspace = run_with_backend(args, lambda backend: backend.workspaces.get(args.resource_group, args.name))
    return show(args, workspace, workspace_row)


def _list(args: argparse.Namespace) -> int:
    return show(
        args,
        run_with_backend(args, lambda backend: backend.workspaces.list(args.resource_group)),
        workspace_row,
    )


def _delete(args: argparse.Namespace) -> int:
    run_with_backend(
        args, lambda backend: backend.workspaces.delete(args.resource_group, args.name), busy=True
    )
    return 0
