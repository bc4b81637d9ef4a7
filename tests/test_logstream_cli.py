"""`bai logs summarize FILE|-`: the table a person reads, the JSON a script reads, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli.main import main

LOGS = Path(__file__).parent / "data" / "logs"
SAMPLE = LOGS / "horovodrun-np2-sample.log"


def test_table_shows_each_worker_the_epochs_and_the_test_result(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BAI_OUTPUT", raising=False)
    assert main(["logs", "summarize", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "Rank",
        "Epoch",
        "Step",
        "Loss",
        "Accuracy",
        "Val",
        "loss",
        "Val",
        "accuracy",
        "Steps/s",
        "ETA",
    ]
    assert lines[2].split() == ["0", "3/3", "63/63", "2.2889", "0.1227", "2.3263", "0.0960", "34.5", "0s"]
    assert lines[3].split()[:3] == ["1", "3/3", "63/63"]
    assert "Epochs of rank 0 (-o json has every rank's)" in out
    assert "1      2.3356  0.1003    2.3376    0.1060" in out
    assert "Test loss: 2.3337   Test accuracy: 0.0940" in out


def test_json_has_the_issue_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "summarize", str(SAMPLE), "-o", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ranks"]["1"]["history"][0] == {
        "epoch": 1,
        "loss": 2.3356,
        "accuracy": 0.1003,
        "val_loss": 2.3376,
        "val_accuracy": 0.106,
    }
    assert summary["test"] == {"loss": 2.3337388038635254, "accuracy": 0.09399999678134918}
    assert summary["failed"] == []


def test_query_applies_to_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "summarize", str(SAMPLE), "--query", 'ranks."0".history[-1].epoch']) == 0
    assert json.loads(capsys.readouterr().out) == 3


def test_failed_rank_is_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BAI_OUTPUT", raising=False)
    log = tmp_path / "stdout.txt"
    log.write_bytes((LOGS / "np2-failing-rank.log").read_bytes())
    assert main(["logs", "summarize", str(log)]) == 0
    assert "FAILED: rank 1 exited with code 1" in capsys.readouterr().out
    assert main(["logs", "summarize", str(log), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["failed"] == [{"rank": "1", "exit_code": 1}]


def test_a_log_without_training_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BAI_OUTPUT", raising=False)
    log = tmp_path / "empty.txt"
    log.write_bytes(b"starting\n")
    assert main(["logs", "summarize", str(log)]) == 0
    assert capsys.readouterr().out == "No training progress found in this log.\n"


def test_missing_file_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.log"
    assert main(["logs", "summarize", str(missing)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"bai: error: {missing}: no such file")


def test_standard_input_in_a_real_pipe() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "logs", "summarize", "-", "-o", "json"],
        input=(LOGS / "keras3-verbose1-sample.log").read_bytes(),
        capture_output=True,
        timeout=60,
        check=False,
        cwd=LOGS.parents[2],
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert list(summary["ranks"]) == ["-"]
    assert summary["ranks"]["-"]["epoch"] == 3
    assert summary["test"] == {"loss": 2.215399742126465, "accuracy": 0.20499999821186066}
