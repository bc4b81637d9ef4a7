"""Job secrets on their way into the job's processes, never through a command line.

horovodrun starts each rank as `sh -c 'env NAME=VALUE ... python script'`: every variable in its own
environment lands on a command line that any user can read in the process table (`ps`, /proc/*/cmdline).
Secrets therefore never enter the launcher's environment. They are written, shell-quoted, to a file only
the job's user can read (mode 0600, created fresh), and the launcher script each rank runs sources that file
first, so the values reach the ranks' own environments (which only that user can read) and no argv. The file
is removed when the job ends.

The same three steps serve any backend that starts ranks through a launcher script, e.g. over ssh (copy the
file with the script, over the connection's stdin or sftp, never as an argument):
`write_env_file` (the 0600 file), `source_line` (the launcher's first command), `without` (the environment
to start the launcher with).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path

ENV_FILE = "secrets.env"


def write_env_file(path: Path, secrets: Mapping[str, str]) -> Path:
    """Write `export NAME='value'` lines to `path`, readable by this user only (0600 from the start: the file
    is created with that mode, never widened later); an older file there is replaced."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as writer:
        for name, value in secrets.items():
            writer.write(f"export {name}={shlex.quote(value)}\n")
    return path


def source_line(path: Path | str) -> str:
    """The shell command that loads the file into the script's environment (it fails loudly if missing)."""
    return f". {shlex.quote(str(path))}"


def without(env: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The environment minus the secrets: what a launcher that copies its environment to argv may get."""
    drop = set(names)
    return {key: value for key, value in env.items() if key not in drop}


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)
