"""`bai experiment create|show|list|delete` (az batchai experiment ...)."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.output import experiment_row
from tui.cli.verbs._common import (
    add_name,
    add_resource_group,
    add_workspace,
    experiment_ref,
    leaf,
    noun,
    run_with_backend,
    show,
)


def register(subparsers: Any) -> None:
    verbs = noun(subparsers, "experiment", "experiments: groups of jobs in a workspace")
    for verb, handler, text in (
        ("create", _create, "create an experiment"),
        ("show", _show, "show an experiment"),
        ("delete", _delete, "delete an experiment and its jobs"),
    ):
        parser = leaf(verbs, verb, text, handler, output=verb != "delete")
        add_resource_group(parser)
        add_workspace(parser)
        add_name(parser, "-e", "--experiment", metavar="EXP", help_text="experiment name")
        if verb == "delete":
            parser.add_argument("-y", "--yes", action="store_true", help="accepted for az compatibility")

    parser = leaf(verbs, "list", "list the experiments of a workspace", _list)
    add_resource_group(parser)
    add_workspace(parser)


def _create(args: argparse.Namespace) -> int:
    return show(
        args,
        run_with_backend(args, lambda b: b.experiments.create(experiment_ref(args)), busy=True),
        experiment_row,
    )


def _show(args: argparse.Namespace) -> int:
    return show(
        args, run_with_backend(args, lambda b: b.experiments.get(experiment_ref(args))), experiment_row
    )


def _list(args: argparse.Namespace) -> int:
    experiments = run_with_backend(args, lambda b: b.experiments.list(args.resource_group, args.workspace))
    return show(args, experiments, experiment_row)


def _delete(args: argparse.Namespace) -> int:
    run_with_backend(args, lambda b: b.experiments.delete(experiment_ref(args)), busy=True)
    return 0
