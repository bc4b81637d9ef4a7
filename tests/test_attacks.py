"""Inputs an attacker would try, through the real `bai` entry point on a temporary $BAI_HOME (issue 10).

Every case ends as exactly one `bai: error: ...` line naming the field or argument (exit 1 or 2), never a
traceback and never an "unexpected X"; raw newlines from the input are quoted, never echoed as line breaks.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import JOB, Bai, one_error_line, write_job


@pytest.fixture
def bai(tmp_path: Path) -> Bai:
    return Bai(tmp_path)


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
