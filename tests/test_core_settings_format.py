"""The core's one place for settings and formats: every reader sees the environment as it is now, and the
formats the console and the CLI share read the same way in both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tui.core import format as fmt
from tui.core import settings

ROOT = Path(__file__).resolve().parent.parent


def test_formats_read_as_the_front_ends_showed_them() -> None:
    assert [fmt.size(n) for n in (0, 512, 1536, 3 * 1024**2, 5 * 1024**4)] == [
        "0 B",
        "512 B",
        "1.5 KB",
        "3.0 MB",
        "5120.0 GB",
    ]
    assert [fmt.duration(s) for s in (0, 42.9, 65, 3723)] == ["0s", "42s", "1:05", "1:02:03"]
    assert [fmt.clock(s) for s in (-3, 42, 3723)] == ["0:00", "0:42", "1:02:03"]
    assert sorted(["10", "-", "2", "1", "b"], key=fmt.rank_order) == ["1", "2", "10", "-", "b"]


def test_settings_are_read_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_BATCHAI_STORAGE_ACCOUNT", "  mystore ")
    assert settings.batchai_storage_account() == "mystore"
    monkeypatch.setenv("AZURE_BATCHAI_STORAGE_ACCOUNT", "")
    assert settings.batchai_storage_account() is None
    assert settings.run_job_preparation({"BAI_RUN_JOB_PREPARATION": "yes"})
    assert settings.terminate_grace_seconds({"BAI_TERMINATE_GRACE_SECONDS": "x"}) == 10.0
    with pytest.raises(Exception, match="BAI_POLL_INTERVAL='soon' is not a number"):
        settings.number("BAI_POLL_INTERVAL", 5.0, env={"BAI_POLL_INTERVAL": "soon"})


def test_every_variable_the_code_names_is_listed() -> None:
    """A BAI_/AZURE_ variable named in tui/ is one `tui.core.settings.VARIABLES` lists (so it is documented
    and read there), except those bai sets for the jobs it runs (AZ_BATCHAI_*, BAI_*_JOB_ID)."""
    named: set[str] = set()
    for path in (ROOT / "tui").rglob("*.py"):
        named |= set(re.findall(r"\b((?:BAI|AZURE)_[A-Z][A-Z0-9_]*[A-Z0-9])\b", path.read_text()))
    own = {"BAI_LOCAL_JOB_ID", "BAI_SSH_JOB_ID"}
    missing = sorted(name for name in named - own if name not in settings.VARIABLES)
    assert missing == [], missing
