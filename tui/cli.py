"""The `bai` command: headless verbs that mirror `az batchai` / `az storage`, or the console with no verb.

Each noun group lives in its own module under `tui.commands` and adds its parsers in `register`; a parser's
`handler` default is an async function taking the parsed arguments. Modules are imported only when needed so
`bai cluster show` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that add verbs; each has `register(subparsers: argparse._SubParsersAction) -> None`.
COMMAND_MODULES = (
    "tui.commands.logs",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bai",
        description="Control console for distributed Horovod training (local cluster or Azure Batch AI). "
        "With no verb, opens the console.",
    )
    subparsers = parser.add_subparsers(dest="noun", metavar="<group>")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if not args_in or args_in[0].startswith("--backend") or args_in[0] in ("--job", "--theme"):
        from tui.app import run_console

        return run_console(args_in)
    parser = build_parser()
    args = parser.parse_args(args_in)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.parse_args([*args_in, "--help"])
        return 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
