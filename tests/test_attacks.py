"""Inputs an attacker would try, through the real `bai` entry point on a temporary $BAI_HOME (issue 10).

Every case ends as exactly one `bai: error: ...` line naming the field or argument (exit 1 or 2), never a
traceback and never an "unexpected X"; raw newlines from the input are quoted, never echoed as line breaks.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_cli import JOB, Bai, one_error_line, write_job


@pytest.fixture
def bai(tmp_path: Path) -> Bai:
    return Bai(tmp_path)


@pytest.fixture
def validate(capsys: pytest.CaptureFixture[str]) -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """`bai job validate -f PATH` through the same entry point in this process (no state is touched; saves
    a second of interpreter and SDK start per case)."""
    from tui.cli.main import main

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        code = main(["job", "validate", "-f", str(path)])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["bai"], code, out, err)

    return run


def _fails_with_one_line(
    result: subprocess.CompletedProcess[str], *needles: str, codes: tuple[int, ...] = (1, 2)
) -> str:
    assert result.returncode in codes, (result.returncode, result.stdout, result.stderr)
    line = one_error_line(result)
    assert "unexpected" not in line and "Traceback" not in result.stderr, line
    for needle in needles:
        assert needle in line, line
    return line


# ------------------------------------------------------------------------------- item 6: trailing newlines


def test_every_name_field_refuses_a_trailing_newline(bai: Bai, tmp_path: Path) -> None:
    bad_group = bai("group", "create", "-n", "rg\n", "-l", "eastus", check=False)
    _fails_with_one_line(bad_group, "resource group name 'rg\\n'")
    bai("group", "create", "-n", "rg", "-l", "eastus")
    assert [group["name"] for group in bai.json("group", "list")] == ["rg"]

    _fails_with_one_line(bai("workspace", "create", "-g", "rg", "-n", "ws\n", check=False), "'ws\\n'")
    bai("workspace", "create", "-g", "rg", "-n", "ws")
    _fails_with_one_line(
        bai("experiment", "create", "-g", "rg", "-w", "ws", "-n", "exp\n", check=False), "'exp\\n'"
    )
    bai("experiment", "create", "-g", "rg", "-w", "ws", "-n", "exp")
    cluster = ("cluster", "create", "-g", "rg", "-w", "ws", "-s", "local", "-t", "1")
    _fails_with_one_line(bai(*cluster, "-n", "c\n", check=False), "'c\\n'")
    bai(*cluster, "-n", "c")

    account = ("storage", "account", "create", "-g", "rg", "-l", "eastus")
    _fails_with_one_line(bai(*account, "-n", "acct\n", check=False), "'acct\\n'")
    assert not (tmp_path / "bai-home" / "storage" / "acct\n").exists()
    bai(*account, "-n", "mystorage")
    share = ("storage", "share", "create", "--account-name", "mystorage")
    _fails_with_one_line(bai(*share, "-n", "myshare\n", check=False), "'myshare\\n'")
    bai(*share, "-n", "myshare")

    job = ("job", "create", *JOB, "-c", "c", "--storage-account-name", "mystorage")
    _fails_with_one_line(bai(*job, "-n", "j\n", "-f", str(write_job(tmp_path)), check=False), "'j\\n'")
    assert bai.json("job", "list", *JOB) == []

    env_job = write_job(tmp_path, "env.json", environmentVariables=[{"name": "ABC\n", "value": "1"}])
    result = bai("job", "validate", "-f", str(env_job), check=False)
    _fails_with_one_line(result, "environmentVariables[0].name")
    secret_job = write_job(tmp_path, "secret.json", secrets=[{"name": "S\n", "value": "1"}])
    _fails_with_one_line(bai("job", "validate", "-f", str(secret_job), check=False), "secrets[0].name")


# ------------------------------------------------------------------------------------------------ item 10


def test_a_group_alone_is_a_usage_error(bai: Bai) -> None:
    result = bai("group", check=False)
    assert result.returncode == 2
    assert "usage: bai group" in result.stdout + result.stderr


def test_error_lines_quote_newlines_from_the_input(bai: Bai) -> None:
    result = bai("group", "show", "-n", "a\nb\rc", check=False)
    line = _fails_with_one_line(result)
    assert "\r" not in result.stderr
    assert "a\\nb\\rc" in line


def test_an_unknown_argument_with_a_newline_is_quoted(bai: Bai) -> None:
    result = bai("group", "list", "--bogus\nline", check=False)
    _fails_with_one_line(result, "--bogus\\nline", codes=(2,))


def test_a_job_file_path_with_a_newline_is_quoted(bai: Bai) -> None:
    result = bai("job", "validate", "-f", "no\nfile.json", check=False)
    _fails_with_one_line(result, "no\\nfile.json")


def test_a_job_json_key_with_a_newline_is_quoted(bai: Bai, tmp_path: Path) -> None:
    path = write_job(tmp_path)
    data = json.loads(path.read_text())
    data["properties"]["bogus\nkey"] = 1
    path.write_text(json.dumps(data))
    result = bai("job", "validate", "-f", str(path), check=False)
    _fails_with_one_line(result, "bogus\\nkey")


# ------------------------------------------------------------------------- item 8: limits, not "unexpected"


def _job_text(tmp_path: Path, properties_text: str) -> Path:
    """A job.json whose properties object is given as raw JSON text (numbers Python's json cannot write)."""
    path = write_job(tmp_path)
    data = json.loads(path.read_text())
    del data["properties"]["nodeCount"]
    text = json.dumps(data)
    path.write_text(text.replace('"properties": {', '"properties": {' + properties_text + ", ", 1))
    return path


@pytest.mark.parametrize(
    "node_count",
    [
        "1e999",
        "-1e999",
        "NaN",
        "Infinity",
        '"' + "9" * 5000 + '"',
        "9" * 5000,
        str(2**63),
        str(2**31),
        "1e300",
    ],
)
def test_a_node_count_beyond_any_limit_names_the_field_and_the_limit(
    validate: Callable[[Path], subprocess.CompletedProcess[str]], tmp_path: Path, node_count: str
) -> None:
    path = _job_text(tmp_path, f'"nodeCount": {node_count}')
    result = validate(path)
    _fails_with_one_line(result, "properties.nodeCount")


def test_a_huge_node_count_is_refused_before_it_reaches_the_state(bai: Bai, tmp_path: Path) -> None:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("workspace", "create", "-g", "rg", "-n", "ws")
    bai("experiment", "create", "-g", "rg", "-w", "ws", "-n", "exp")
    bai("cluster", "create", "-g", "rg", "-w", "ws", "-n", "c", "-s", "local", "-t", "1")
    bai("storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus")
    bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")
    path = _job_text(tmp_path, f'"nodeCount": {2**63}')
    result = bai("job", "create", *JOB, "-n", "j", "-c", "c", "-f", str(path), "--storage-account-name",
                 "mystorage", check=False)  # fmt: skip
    _fails_with_one_line(result, "properties.nodeCount")
    assert bai.json("job", "list", *JOB) == []


@pytest.mark.parametrize(
    "duration", ["P99999999999D", "PT99999999999999999999H", "P1e400D", "99999999999.00:00:00"]
)
def test_a_wall_clock_time_beyond_the_limit_names_the_field(
    validate: Callable[[Path], subprocess.CompletedProcess[str]], tmp_path: Path, duration: str
) -> None:
    path = write_job(tmp_path, constraints={"maxWallClockTime": duration})
    result = validate(path)
    _fails_with_one_line(result, "maxWallClockTime")


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_nested_deeper_than_any_job_is_refused(
    validate: Callable[[Path], subprocess.CompletedProcess[str]], tmp_path: Path, depth: int
) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"properties": {"nodeCount": 1, "x": ' + "[" * depth + "]" * depth + "}}")
    result = validate(path)
    _fails_with_one_line(result, "deep.json")
    path.write_text('{"properties": {"nodeCount": 1, "environmentVariables": ' + "{" + '"a": {' * depth
                    + "}" * depth + "}}}")  # fmt: skip
    _fails_with_one_line(validate(path), "deep.json")


def test_a_query_nested_deeper_than_any_result_is_a_usage_error(bai: Bai) -> None:
    query = "(" * 3000 + "name" + ")" * 3000
    result = bai("group", "list", "--query", query, check=False)
    _fails_with_one_line(result, "--query", codes=(2,))
    for deep in ("a" + ".a" * 3000, "[" * 3000, "!" * 3000 + "a", "a[" * 3000):
        result = bai("group", "list", "--query", deep, check=False)
        assert result.returncode == 0 or "--query" in _fails_with_one_line(result, codes=(2,))


def test_a_folder_name_longer_than_the_file_system_allows(bai: Bai, tmp_path: Path) -> None:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus")
    bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")
    share = ("-s", "myshare", "--account-name", "mystorage")
    result = bai("storage", "directory", "create", "-n", "d" * 1000, *share, check=False)
    _fails_with_one_line(result, "255")
    source = tmp_path / "a.txt"
    source.write_text("a")
    result = bai(
        "storage", "file", "upload", "--source", str(source), "--path", "x" * 1000, *share, check=False
    )
    _fails_with_one_line(result, "255")
    bai("storage", "file", "upload", "--source", str(source), *share)
    long_dest = str(tmp_path / ("y" * 1000))
    result = bai("storage", "file", "download", "--path", "a.txt", *share, "--dest", long_dest, check=False)
    _fails_with_one_line(result, "--dest")


def test_a_download_to_an_unwritable_destination(bai: Bai, tmp_path: Path) -> None:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus")
    bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")
    share = ("-s", "myshare", "--account-name", "mystorage")
    source = tmp_path / "a.txt"
    source.write_text("a")
    bai("storage", "file", "upload", "--source", str(source), *share)
    # /proc refuses new files even to root; a folder without write permission does for other users
    for dest in ("/proc/bai-test-a.txt", "/sys/bai-test-a.txt"):
        result = bai("storage", "file", "download", "--path", "a.txt", *share, "--dest", dest, check=False)
        _fails_with_one_line(result, "--dest", dest)
    (tmp_path / "existing-dir").mkdir()
    (tmp_path / "existing-dir" / "a.txt").mkdir()  # the destination file's name is a folder
    result = bai("storage", "file", "download", "--path", "a.txt", *share, "--dest",
                 str(tmp_path / "existing-dir" / "a.txt" / "a.txt" / "b"), check=False)  # fmt: skip
    _fails_with_one_line(result, "--dest")


@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "abc\ndef", "abc\x1bdef"])
def test_an_access_token_with_a_line_break_is_refused(bai: Bai, token: str) -> None:
    result = bai("group", "list", "--backend", "batchai", check=False, BAI_ACCESS_TOKEN=token,
                 AZURE_SUBSCRIPTION_ID="00000000-0000-0000-0000-000000000000",
                 BAI_ARM_ENDPOINT="http://127.0.0.1:9")  # fmt: skip
    line = _fails_with_one_line(result, "BAI_ACCESS_TOKEN")
    assert "def" not in line and "Injected" not in line  # the token itself is never shown


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--interval", "nan"),
        ("--interval", "inf"),
        ("--interval", "1e999"),
        ("--timeout", "nan"),
        ("--timeout", "-1"),
    ],
)
def test_job_wait_refuses_intervals_and_timeouts_that_are_no_duration(
    bai: Bai, flag: str, value: str
) -> None:
    result = bai("job", "wait", *JOB, "-n", "j", flag, value, check=False)
    _fails_with_one_line(result, f"argument {flag}", codes=(2,))


def test_an_ssh_host_name_with_a_trailing_newline_is_refused() -> None:
    """A host name reaches ssh's command line: 'node1\\n' must not pass for one (fullmatch, not match+$),
    whatever strips it first."""
    from tui.backends.ssh import hosts
    from tui.core.errors import BaiError

    assert hosts._host("node1", "--hosts") == "node1"
    with pytest.raises(BaiError, match="is not a host name"):
        hosts._host("node1\n", "--hosts")
