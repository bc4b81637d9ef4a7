"""Why a job failed, in one line a user can act on: which rank failed and the last line of its traceback.

The launcher's words (horovodrun's `Process 1 exit with status code 1.`, Open MPI 4 and 5's `Process name:`
/ `Exit code:` report, `mpirun noticed that process rank 2 ... exited on signal 9`) and the per-rank prefixes
(`[1]<stderr>:`, `[1,1]<stderr>:`) are read by the one log grammar, `tui.core.logstream.LogStream`, so the
job's error names the same rank and exit code the console and `bai logs summarize` show. Only the tails of
stdout.txt and stderr.txt are read.
"""

from __future__ import annotations

import re
from pathlib import Path

from tui.core.logstream import LogStream

TAIL_BYTES = 256 * 1024


def tail(path: Path, size: int = TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as reader:
            reader.seek(0, 2)
            length = reader.tell()
            reader.seek(max(0, length - size))
            return reader.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def read_log(text: str) -> LogStream:
    """The text parsed by the log grammar (ranks, lines, the launcher's failure reports)."""
    stream = LogStream()
    stream.feed(text.encode("utf-8", errors="replace"))
    stream.close()
    return stream


def failing_rank(text: str | LogStream) -> tuple[int, int] | None:
    """(rank, exit code) of the first process the launcher reported as failed, if it reported one."""
    stream = read_log(text) if isinstance(text, str) else text
    for failed in stream.failed:
        if failed.rank.isdigit():
            return int(failed.rank), failed.exit_code
    return None


def rank_lines(text: str | LogStream, rank: int) -> list[str]:
    """The finished lines of one rank, as a terminal shows them (its prefix removed)."""
    stream = read_log(text) if isinstance(text, str) else text
    return stream.lines(str(rank))


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
    out_text, err_text = tail(stdouterr / "stdout.txt"), tail(stdouterr / "stderr.txt")
    out, err = read_log(out_text), read_log(err_text)
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
    lines = [line for line in re.split(r"[\r\n]", err_text) if line.strip()] or [
        line for line in re.split(r"[\r\n]", out_text) if line.strip()
    ]
    line = last_error_line(lines)
    message = f"the job's command exited with code {exit_code}" + (f": {line}" if line else "")
    return {"code": "JobFailed", "message": message, "details": {"exitCode": str(exit_code)}}
