"""The `bai` command: headless verbs that mirror `az batchai` / `az storage`, or the console with no verb.

Each noun group lives in its own module under `tui.cli.verbs` and adds its parsers in `register`; a leaf
parser's `handler` default is a function `(args) -> exit code` that runs asyncio itself. Only the module
of the noun on the command line is imported (all of them only for `bai --help`), so `bai cluster show`
starts fast.

Every failure ends as one line on stderr, `bai: error: <what was wrong and what to do>`: exit code 2 for
usage errors, 1 otherwise, never a traceback (set BAI_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
from typing import NoReturn

# Modules that add verbs; each has `register(subparsers: argparse._SubParsersAction) -> None`. The last part
# of a module's name is the noun it registers (`bai cluster ...` -> tui.cli.verbs.cluster).
COMMAND_MODULES = (
    "tui.cli.verbs.group",
    "tui.cli.verbs.workspace",
    "tui.cli.verbs.experiment",
    "tui.cli.verbs.cluster",
    "tui.cli.verbs.storage",
    "tui.cli.verbs.job",
    "tui.cli.verbs.logs",
)


_INVALID_CHOICE = re.compile(
    r"argument (?P<argument>.+?): invalid choice: '(?P<given>.*?)' \(choose from (?P<choices>.*)\)"
)


def usage_message(prog: str, message: str) -> str:
    """One usage error line's text after `bai: error: `: no second `bai`, a "did you mean" for a mistyped
    group, command or choice (as az has), and the --help of the command that refused it."""
    match = _INVALID_CHOICE.fullmatch(message)
    if match:
        given = match["given"]
        choices = [choice.strip().strip("'") for choice in match["choices"].split(",")]
        import difflib  # only for a mistyped name: every command pays for what is imported at the top

        close = difflib.get_close_matches(given, choices, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"choose from {', '.join(choices)}"
        if match["argument"] == "<group>":
            message = f"'{given}' is not a bai command group; {hint}"
        elif match["argument"] == "<command>":
            message = f"'{given}' is not a '{prog}' command; {hint}"
        else:
            message = f"argument {match['argument']}: invalid choice: '{given}'; {hint}"
    return f"{message} (see '{prog} --help')"


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line saying what to do and pointing at the command's --help."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(one_line(f"bai: error: {usage_message(self.prog, message)}") + "\n")
        sys.exit(2)


# C0 and C1 controls (0x9b is a one-byte CSI to some terminals) and Unicode's line/paragraph separators.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def one_line(text: str) -> str:
    """An error message as one line: newlines and other control characters from the input are quoted
    (`\\n`), so a name or path with a line break or an escape sequence cannot forge terminal lines.

    The indented lines an error adds on purpose (`  what to do: ...`, a service's `  details`) stay lines of
    their own: they are what the user acts on, and every one of them starts with two spaces."""
    lines = text.split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if line.startswith("  ") and line.strip():
            kept.append(line)
        else:
            kept[-1] += "\n" + line
    return "\n".join(line.translate(_CONTROL) for line in kept)


def version_text() -> str:
    """`bai --version`: the package's version and what it runs on, as `az --version` lists its parts."""
    import platform
    from importlib import metadata

    def version_of(distribution: str) -> str:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return "not installed"

    return (
        f"bai {version_of('batchai-console')} (python {platform.python_version()}, "
        f"textual {version_of('textual')})"
    )


class _VersionAction(argparse.Action):
    """`--version`, its text worked out only when asked (reading package metadata costs startup time)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        sys.stdout.write(version_text() + "\n")
        sys.exit(0)


def build_parser(noun: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `noun`, only that noun's module is imported and registered."""
    parser = ArgumentParser(
        prog="bai",
        description="Control console for distributed Horovod training (local cluster or Azure Batch AI). "
        "With no verb, opens the console.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and exit")
    subparsers = parser.add_subparsers(dest="noun", metavar="<group>", parser_class=ArgumentParser)
    modules = [name for name in COMMAND_MODULES if name.rsplit(".", 1)[1] == noun] or list(COMMAND_MODULES)
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:  # a module that is there but broken must not be hidden
                raise
            continue  # a verb group another helper has not landed yet
        module.register(subparsers)
    return parser


def _fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"bai: error: {one_line(message)}\n")
    sys.stderr.flush()
    return code


def run_command(args_in: list[str]) -> int:
    noun = next((arg for arg in args_in if not arg.startswith("-")), None)
    parser = build_parser(noun)
    args = parser.parse_args(args_in)
    handler = getattr(args, "handler", None)
    if handler is None:
        # `bai cluster` alone: show what the group offers, as az did, and call it a usage error (exit 2).
        with contextlib.suppress(SystemExit):
            parser.parse_args([*[a for a in args_in if not a.startswith("-")], "--help"])
        return 2
    return handler(args)


def console_or_command(args_in: list[str]) -> tuple[bool, list[str]]:
    """(True, argv) to open the console; (False, argv) for a verb.

    The console takes `--backend`, `--job` and `--theme`; a verb after a leading `--backend X`
    (`bai --backend batchai cluster show ...`) runs headless with `--backend X` moved behind the verb, where
    every verb accepts it.
    """
    leading: list[str] = []
    index = 0
    while index < len(args_in) and args_in[index].startswith("--backend"):
        width = 2 if args_in[index] == "--backend" and index + 1 < len(args_in) else 1
        leading += args_in[index : index + width]
        index += width
    rest = args_in[index:]
    if not rest or rest[0] in ("--job", "--theme") or rest[0].startswith(("--job=", "--theme=")):
        return True, args_in
    return False, rest + leading


def main(argv: list[str] | None = None) -> int:
    console, args_in = console_or_command(sys.argv[1:] if argv is None else argv)
    if console:
        from tui.console.launch import run_console

        return run_console(args_in)
    from tui.cli.wording import error_text, field_error_lines
    from tui.core.errors import BaiError, JobSpecError

    try:
        code = run_command(args_in)
        sys.stdout.flush()  # inside the try: a reader that left (`| head`) is noticed here, not at exit
        return code
    except JobSpecError as error:
        for text in field_error_lines(error):
            sys.stderr.write(f"bai: error: {one_line(text)}\n")
        return 1
    except BaiError as error:
        return _fail(error_text(error), getattr(error, "exit_code", 1))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # `bai job file stream ... | head`: the reader left; stop quietly, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except SystemExit:
        raise
    except Exception as error:
        from tui.core import settings

        if settings.debug():
            raise
        detail = " ".join(str(error).split()) or "no details"
        return _fail(
            f"unexpected {type(error).__name__}: {detail} (run again with BAI_DEBUG=1 for the traceback)"
        )


if __name__ == "__main__":
    sys.exit(main())
