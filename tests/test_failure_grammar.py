"""One log grammar: the local backend's failure report reads the launcher's words through `LogStream`, so it
agrees with what the console and `bai logs summarize` show (issue 9: it returned None on Open MPI 5's
`prterun` report and on a rank killed by signal 9, where LogStream says rank 1 exit 1 and rank 2 exit 137)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.backends.local import failure
from tui.core.logstream import LogStream

LOGS = Path(__file__).parent / "data" / "logs"


def _logstream_first_failure(data: bytes) -> tuple[int, int] | None:
    stream = LogStream()
    stream.feed(data)
    stream.close()
    return (int(stream.failed[0].rank), stream.failed[0].exit_code) if stream.failed else None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("prterun-failure.log", (1, 1)),  # Open MPI 5 names the process [prterun-HOST-PID@1,1]
        ("mpirun-tag-output-signal.log", (2, 137)),  # rank 2 killed by signal 9: 128 + 9
        ("np2-failing-rank.log", (1, 1)),  # horovodrun: "Process 1 exit with status code 1."
        ("horovod-2835-failure.log", (2, 1)),
        *[(path.name, None) for path in sorted(LOGS.glob("*.log"))],  # every other log: the same answer
    ],
)
def test_failing_rank_agrees_with_logstream(name: str, expected: tuple[int, int] | None) -> None:
    data = (LOGS / name).read_bytes()
    seen = _logstream_first_failure(data)
    if expected is not None:
        assert seen == expected
    assert failure.failing_rank(data.decode("utf-8", "replace")) == seen


def test_the_job_error_names_the_rank_the_log_names(tmp_path: Path) -> None:
    (tmp_path / "stdout.txt").write_bytes(b"")
    (tmp_path / "stderr.txt").write_bytes((LOGS / "mpirun-tag-output-signal.log").read_bytes())
    record = failure.describe(tmp_path, 137)
    assert record["details"]["rank"] == "2" and record["details"]["exitCode"] == "137"
    assert record["message"].startswith("rank 2 exited with code 137")
    (tmp_path / "stderr.txt").write_bytes((LOGS / "prterun-failure.log").read_bytes())
    record = failure.describe(tmp_path, 1)
    assert record["message"] == (
        "rank 1 exited with code 1: tensorflow.python.framework.errors_impl.ResourceExhaustedError: "
        "Graph execution error:"
    )
