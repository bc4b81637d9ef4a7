"""Fixtures the test files share: a private BAI_HOME, the tutorial's resources on the local backend, and the
Azure REST emulator.

A test file that defines a fixture of the same name keeps its own (pytest prefers the nearer one), so files
written before these existed are unchanged; new tests take these instead of a fifth copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

# Settings a developer's shell may carry that would change what a test sees (the storage account a job's
# placeholder is filled with, the backend a verb talks to).
_AMBIENT = (
    "BAI_BACKEND",
    "AZURE_BATCHAI_STORAGE_ACCOUNT",
    "AZURE_BATCHAI_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT",
)


@pytest.fixture
def bai_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private `$BAI_HOME` (tmp_path/bai-home, where `tests/test_cli.py`'s `Bai` runner points too), the
    local backend, and tmp_path as the working folder; ambient BAI_/AZURE_ settings removed."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "bai-home"
    monkeypatch.setenv("BAI_HOME", str(folder))
    monkeypatch.setenv("BAI_BACKEND", "local")
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.fixture
async def tutorial_backend(bai_home: Path) -> AsyncIterator[Any]:
    """The local backend with the tutorial's six resources (group, workspace, experiment, a 2-node cluster,
    storage account, share), made through its real services."""
    from tutorial_resources import ACCOUNT, CLUSTER, EXPERIMENT, GROUP, SHARE, WORKSPACE

    from tui.backends import open_backend
    from tui.core.model import ClusterRef, ExperimentRef

    backend = open_backend("local")
    await backend.groups.create(GROUP, "eastus")
    await backend.workspaces.create(GROUP, WORKSPACE)
    await backend.experiments.create(ExperimentRef(GROUP, WORKSPACE, EXPERIMENT))
    await backend.clusters.create(ClusterRef(GROUP, WORKSPACE, CLUSTER), "Standard_NC6", 2)
    await backend.storage.create_account(GROUP, ACCOUNT, "eastus")
    await backend.storage.create_share(ACCOUNT, SHARE)
    yield backend
    await backend.close()


@pytest.fixture
def timings() -> Any:
    """How fast the emulator's nodes and jobs move; a test file (or a parametrize) gives its own."""
    from azure_emulator import Timings

    return Timings(node_prepare=0.5, replay=2.0)


@pytest.fixture
def emulator(timings: Any) -> Iterator[Any]:
    """The Batch AI / Azure ML / ARM / Files REST emulator on loopback, moving at `timings`."""
    from azure_emulator import AzureEmulator

    with AzureEmulator(timings) as emulator:
        yield emulator
