"""Why a job failed, in one line a user can act on: which rank failed and the last line of its traceback.

horovodrun prefixes every line of a rank with `[RANK]<stdout>:` / `[RANK]<stderr>:` and, when a rank fails,
prints `Process 1 exit with status code 1.`; `mpirun --tag-output` uses `[JOB,RANK]<stderr>:` and names the
first failing process in its abort message. Only the tails of stdout.txt and stderr.txt are read.
"""

from __future__ import annotations

import re
from pathlib import Path

TAIL_BYTES = 256 * 1024
_HOROVOD_EXIT = re.compile(r"Process (\d+) exit with status code (-?\d+)\.")
_PROCESS_NAME = re.compile(r"Process name:\s*\[*(?:\d+,)?(\d+)\]*\s*\n\s*Exit code:\s*(-?\d+)")
_TAGGED = re.compile(r"^(?:\S+\s+)?\[(?:\d+,)?(\d+)\]<(stdout|stderr)>:(.*)$")


def tail(path: Path, size: int = TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as reader:
            reader.seek(0, 2)
            length = reader.tell()
            reader.seek(max(0, length - size))
            return reader.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def failing_rank(text: str) -> tuple[int, int] | None:
    """(rank, exit code) of the first process the launcher reported as failed, if it reported one."""
    match = _HOROVOD_EXIT.search(text) or _PROCESS_NAME.search(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def rank_lines(text: str, rank: int) -> list[str]:
    lines = []
    for raw in re.split(r"[\r\n]", text):
        match = _TAGGED.match(raw)
        if match and int(match.group(1)) == rank:
            lines.append(match.group(3))
    return lines


def last_error_line(lines: list[str]) -> str | None:
    """The exception line ending the last traceback, else the last non-empty line."""
    in_traceback = False
    found = None
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
            continue
        if in_traceback and line and not line[0].isspace():
            found = line.strip()
            in_traceback = False
    if found:
        return found
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return None


def describe(stdouterr: Path, exit_code: int) -> dict[str, object]:
    """The error record of a job whose command exited with `exit_code` (not 0)."""
    out, err = tail(stdouterr / "stdout.txt"), tail(stdouterr / "stderr.txt")
    failed = failing_rank(out) or failing_rank(err)
    if failed is not None:
        rank, rank_code = failed
        line = last_error_line(rank_lines(err, rank)) or last_error_line(rank_lines(out, rank))
        message = f"rank {rank} exited with code {rank_code}" + (f": {line}" if line else "")
        return {
            "code": "JobFailed",
            "message": message,
            "details": {"rank": str(rank), "exitCode": str(rank_code), "launcherExitCode": str(exit_code)},
        }
    lines = [line for line in re.split(r"[\r\n]", err) if line.strip()] or [
        line for line in re.split(r"[\r\n]", out) if line.strip()
    ]
    line = last_error_line(lines)
    message = f"the job's command exited with code {exit_code}" + (f": {line}" if line else "")
    return {"code": "JobFailed", "message": message, "details": {"exitCode": str(exit_code)}}
