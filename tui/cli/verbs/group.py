"""`bai group create|show|list|delete`: resource groups (az group ...)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui.cli.output import group_row
from tui.cli.verbs._common import add_name, leaf, noun, run_with_backend, show
from tui.core.errors import BaiError


def register(subparsers: Any) -> None:
    verbs = noun(subparsers, "group", "resource groups: the container everything else is created in")

    parser = leaf(verbs, "create", "create a resource group", _create)
    add_name(parser, metavar="RG", help_text="resource group name")
    parser.add_argument("-l", "--location", required=True, help="location, e.g. eastus")

    parser = leaf(verbs, "show", "show a resource group", _show)
    add_name(parser, metavar="RG", help_text="resource group name")

    leaf(verbs, "list", "list resource groups", _list)

    parser = leaf(verbs, "delete", "delete a resource group and everything in it", _delete, output=False)
    add_name(parser, metavar="RG", help_text="resource group name")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def _create(args: argparse.Namespace) -> int:
    group = run_with_backend(args, lambda backend: backend.groups.create(args.name, args.location))
    return show(args, group, group_row)


def _show(args: argparse.Namespace) -> int:
    return show(args, run_with_backend(args, lambda backend: backend.groups.get(args.name)), group_row)


def _list(args: argparse.Namespace) -> int:
    return show(args, run_with_backend(args, lambda backend: backend.groups.list()), group_row)


def confirm(question: str, refuse_hint: str) -> None:
    """Ask on the terminal; without one, refuse (a script must say --yes)."""
    if not sys.stdin.isatty():
        raise BaiError(f"{question.rstrip('?')}: not confirmed (no terminal to ask on): add --yes")
    sys.stderr.write(f"{question} (y/n): ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise BaiError(f"not confirmed: nothing was deleted ({refuse_hint})")


def _delete(args: argparse.Namespace) -> int:
    if not args.yes:
        confirm(
            f"Delete resource group {args.name!r} and all its workspaces, clusters, jobs and storage "
            "accounts?",
            "answer y, or add --yes",
        )
    run_with_backend(args, lambda backend: backend.groups.delete(args.name), busy=True)
    return 0
