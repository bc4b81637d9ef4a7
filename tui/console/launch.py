"""`bai` with no verb: read the console's options, open the backend, run the console.

Bad options are one line on stderr and exit status 2 before anything is opened; a backend that cannot be
opened (no Azure credentials, say) is one line and status 1. Textual is imported only once the options are
good, so `bai --theme neon` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import themes
from tui.core import settings as core_settings
from tui.core.errors import BaiError


def parse_console_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bai", description="Open the control console (bai <group> <verb> runs a headless command)."
    )
    parser.add_argument(
        "--backend", help="local, batchai, azureml or ssh (default: $BAI_BACKEND, else local)"
    )
    parser.add_argument("--job", type=Path, metavar="PATH", help="a job.json to load into the job form")
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="bai-dark, bai-light or bai-high-contrast (16 colours); default: the last one chosen",
    )
    return parser.parse_args(argv)


def run_console(argv: list[str]) -> int:
    """Entry point for `bai` with no verb: parse the console's options, open the backend, run the app."""
    args = parse_console_args(argv)
    names = themes.THEME_NAMES
    if args.theme is not None and args.theme not in names:
        print(f"bai: --theme {args.theme!r} is not a theme: use one of {', '.join(names)}", file=sys.stderr)
        return 2
    if args.job is not None and not args.job.is_file():
        print(f"bai: --job {str(args.job)!r} is not a file: give the path of a job.json", file=sys.stderr)
        return 2
    from tui.backends import backend_name, open_backend
    from tui.console.app import BaiApp
    from tui.console.settings import load_keymap

    try:
        name = backend_name(args.backend)
        backend = open_backend(name)
    except BaiError as error:
        from tui.cli.wording import error_text  # launched from the command line: its flags (--backend)

        print(f"bai: {error_text(error)}", file=sys.stderr)
        return 1
    app = BaiApp(backend, backend_name=name, job_path=args.job, theme=args.theme, keymap=load_keymap())
    app.run()
    crashed = app.crash_log.file()
    if crashed is not None:
        print(crashed, file=sys.stderr)
    if core_settings.console_debug() and app.return_code:
        print(json.dumps({"return_code": app.return_code}), file=sys.stderr)
    return app.return_code or 0
