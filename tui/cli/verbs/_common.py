"""What every verb shares: `--backend`, the output arguments, the az argument names, and running one async
action against a backend that is always closed afterwards.

Handlers are plain functions `(args) -> int` that call `run_with_backend`; errors are not caught here but in
`tui.cli.main`, which turns every failure into one `bai: error: ...` line.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tui.cli.output import TableSpec, add_output_arguments, emit

if TYPE_CHECKING:
    from tui.backends.base import Backend
    from tui.core.model import ClusterRef, ExperimentRef, JobRef

T = TypeVar("T")


def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    from tui.backends import BACKENDS

    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="where to run: the embedded local cluster, Azure Batch AI, Azure Machine Learning or your SSH "
        "hosts "
        "(default: $BAI_BACKEND, else local)",
    )


def leaf(
    subparsers: Any,
    name: str,
    help_text: str,
    handler: Callable[[argparse.Namespace], int],
    output: bool = True,
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """A verb's parser with --backend (and -o/--query when it prints a result)."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text, **kwargs)
    add_backend_argument(parser)
    if output:
        add_output_arguments(parser)
    parser.set_defaults(handler=handler)
    return parser


def noun(subparsers: Any, name: str, help_text: str) -> Any:
    """A group of verbs (`bai cluster ...`); `metavar` keeps the usage line short."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name.replace(' ', '_')}_verb", metavar="<command>")


# ---------------------------------------------------------------------------------------- az argument names


def add_resource_group(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "-g",
        "--resource-group",
        dest="resource_group",
        required=required,
        metavar="RG",
        help="resource group",
    )


def add_workspace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--workspace", dest="workspace", required=True, metavar="WS", help="workspace")


def add_experiment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-e", "--experiment", dest="experiment", required=True, metavar="EXP", help="experiment"
    )


def add_name(
    parser: argparse.ArgumentParser, *aliases: str, metavar: str = "NAME", help_text: str = "name"
) -> None:
    parser.add_argument("-n", "--name", *aliases, dest="name", required=True, metavar=metavar, help=help_text)


def cluster_ref(args: argparse.Namespace) -> ClusterRef:
    from tui.core.model import ClusterRef

    return ClusterRef(args.resource_group, args.workspace, args.name)


def experiment_ref(args: argparse.Namespace) -> ExperimentRef:
    from tui.core.model import ExperimentRef

    return ExperimentRef(args.resource_group, args.workspace, args.name)


def job_ref(args: argparse.Namespace, name: str | None = None) -> JobRef:
    from tui.core.model import JobRef

    return JobRef(args.resource_group, args.workspace, args.experiment, name or args.name)


def non_negative(text: str) -> int:
    """argparse type for node counts: a usage error (exit 2) names the argument for a bad value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: give 0 or more")
    return value


# ------------------------------------------------------------------------------------------- running


def run_with_backend(
    args: argparse.Namespace, action: Callable[[Backend], Awaitable[T]], *, busy: bool = False
) -> T:
    """Open the chosen backend, run one async action on it, always close it.

    `busy=True` (verbs that wait on a long-running operation) shows az's `- Running ..` line on a terminal
    while the action takes more than a moment; see `tui.cli.busy`. It is erased before this returns or
    raises, so the caller prints its result, warnings or error on a clean line.
    """
    import asyncio

    from tui.backends import open_backend
    from tui.cli.busy import busy as busy_line

    async def main() -> T:
        backend = open_backend(getattr(args, "backend", None))
        try:
            return await action(backend)
        finally:
            await backend.close()

    with busy_line(busy):
        return asyncio.run(main())


def show(args: argparse.Namespace, result: Any, table: TableSpec | None = None) -> int:
    emit(result, getattr(args, "output", None), getattr(args, "query", None), table)
    return 0


def warn(message: str) -> None:
    import sys

    sys.stderr.write(f"bai: warning: {message}\n")
    sys.stderr.flush()
