"""Local backend: groups, storage, workspaces, experiments and clusters on a temporary BAI_HOME (no jobs)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.backends.base import Backend
from tui.backends.local import open_local_backend
from tui.core.errors import BaiError, ConflictError, NotFoundError
from tui.core.model import AllocationState, ClusterRef, ExperimentRef, as_az_dict


@contextlib.contextmanager
def cli_words(kind: type[BaiError], expected: str) -> Iterator[None]:
    """The backend raises `kind`; worded by the CLI (flags, whole commands) it contains `expected`."""
    from tui.cli.wording import error_text

    with pytest.raises(kind) as caught:
        yield
    assert expected in error_text(caught.value), error_text(caught.value)
    assert "--" not in str(caught.value) and "`bai " not in str(caught.value)  # the backend names no flag


RG, WS = "batchai.horovod", "batchaidev"


@pytest.fixture
def backend(tmp_path: Path):
    return open_local_backend(tmp_path / "home")


async def _tree(backend) -> None:
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)


async def test_satisfies_protocol_and_defaults_to_bai_home(tmp_path, monkeypatch):
    monkeypatch.setenv("BAI_HOME", str(tmp_path / "elsewhere"))
    backend = open_local_backend()
    assert isinstance(backend, Backend)
    assert backend.name == "local"
    await backend.groups.create("g1", "westeurope")
    assert (tmp_path / "elsewhere" / "state.sqlite3").is_file()
    await backend.close()


async def test_group_workspace_experiment_lifecycle(backend):
    group = await backend.groups.create(RG, "EastUS")
    assert (group.name, group.location) == (RG, "eastus")
    assert (await backend.groups.create(RG, "eastus")).name == RG  # idempotent, like az
    with pytest.raises(ConflictError, match="already exists in eastus"):
        await backend.groups.create(RG, "westus")
    workspace = await backend.workspaces.create(RG, WS)
    assert workspace.location == "eastus"
    assert [w.name for w in await backend.workspaces.list(RG)] == [WS]
    experiment = await backend.experiments.create(ExperimentRef(RG, WS, "cifar"))
    assert experiment.workspace == WS
    assert [e.name for e in await backend.experiments.list(RG, WS)] == ["cifar"]
    await backend.experiments.delete(ExperimentRef(RG, WS, "cifar"))
    assert await backend.experiments.list(RG, WS) == []
    await backend.workspaces.delete(RG, WS)
    with cli_words(NotFoundError, "bai workspace create"):
        await backend.workspaces.get(RG, WS)


async def test_missing_parents_and_bad_names_say_what_to_do(backend):
    with cli_words(NotFoundError, "bai group create -n nope"):
        await backend.workspaces.create("nope", WS)
    await _tree(backend)
    with cli_words(NotFoundError, "bai experiment create"):
        await backend.experiments.get(ExperimentRef(RG, WS, "cifar"))
    with pytest.raises(BaiError, match=r"cluster name '\.\./x' is not valid"):
        await backend.clusters.create(ClusterRef(RG, WS, "../x"), "Standard_NC6", 1)
    with pytest.raises(BaiError, match="storage account name 'My_Store'"):
        await backend.storage.create_account(RG, "My_Store", "eastus")


async def test_cluster_create_show_resize_delete(backend):
    await _tree(backend)
    ref = ClusterRef(RG, WS, "nc6cluster")
    cluster = await backend.clusters.create(ref, "Standard_NC6", 4, vm_priority="dedicated")
    az = as_az_dict(cluster)
    assert az["allocationState"] == "steady"
    assert az["currentNodeCount"] == 4
    assert az["nodeStateCounts"] == {
        "idleNodeCount": 4,
        "runningNodeCount": 0,
        "preparingNodeCount": 0,
        "leavingNodeCount": 0,
        "unusableNodeCount": 0,
    }
    with pytest.raises(ConflictError, match="bai cluster resize"):
        await backend.clusters.create(ref, "Standard_NC6", 2)
    with cli_words(BaiError, "--vm-priority 'spot' is not valid"):
        await backend.clusters.create(ClusterRef(RG, WS, "other"), "Standard_NC6", 1, vm_priority="spot")
    grown = await backend.clusters.resize(ref, 6)
    assert (grown.target_node_count, grown.node_state_counts.idle_node_count) == (6, 6)
    zero = await backend.clusters.resize(ref, 0)
    assert zero.current_node_count == 0
    assert zero.allocation_state is AllocationState.STEADY
    with cli_words(BaiError, "--target -1 is out of range"):
        await backend.clusters.resize(ref, -1)
    assert [c.name for c in await backend.clusters.list(RG, WS)] == ["nc6cluster"]
    await backend.clusters.delete(ref)
    with cli_words(NotFoundError, "bai cluster create"):
        await backend.clusters.get(ref)


async def test_storage_shares_directories_files(backend, tmp_path):
    await _tree(backend)
    await backend.storage.create_account(RG, "mystore", "eastus")
    await backend.groups.create("other", "eastus")
    with pytest.raises(ConflictError, match="already taken"):
        await backend.storage.create_account("other", "mystore", "eastus")
    share = await backend.storage.create_share("mystore", "myshare")
    assert share.url == "https://mystore.file.core.windows.net/myshare"
    with pytest.raises(NotFoundError, match="create it first"):
        await backend.storage.create_directory("mystore", "myshare", "cifar/deeper")
    await backend.storage.create_directory("mystore", "myshare", "cifar")
    source = tmp_path / "cifar_cnn_distributed.py"
    source.write_bytes(b"print('hello')\n")
    seen: list[tuple[int, int | None]] = []
    entry = await backend.storage.upload_file(
        "mystore", "myshare", "cifar", source, progress=lambda done, total: seen.append((done, total))
    )
    assert (entry.name, entry.size, entry.path) == (
        "cifar_cnn_distributed.py",
        15,
        "cifar/cifar_cnn_distributed.py",
    )
    assert seen[-1] == (15, 15)
    with cli_words(NotFoundError, "bai storage directory create"):
        await backend.storage.upload_file("mystore", "myshare", "missing", source)
    batch = tmp_path / "batch"
    (batch / "sub").mkdir(parents=True)
    (batch / "a.txt").write_text("a")
    (batch / "sub" / "b.txt").write_text("bb")
    uploaded = await backend.storage.upload_directory("mystore", "myshare", "data", batch)
    assert sorted(e.path for e in uploaded) == ["data/a.txt", "data/sub/b.txt"]
    listing = await backend.storage.list_files("mystore", "myshare")
    assert [(e.name, e.file_type) for e in listing] == [("cifar", "directory"), ("data", "directory")]
    target = await backend.storage.download_file("mystore", "myshare", "data/sub/b.txt", tmp_path)
    assert target.read_text() == "bb"
    with pytest.raises(BaiError, match="leaves the share"):
        await backend.storage.list_files("mystore", "myshare", "../..")
    with pytest.raises(ConflictError, match="not empty"):
        await backend.storage.delete_file("mystore", "myshare", "data")
    await backend.storage.delete_file("mystore", "myshare", "data/a.txt")
    assert [e.name for e in await backend.storage.list_files("mystore", "myshare", "data")] == ["sub"]
    assert [s.name for s in await backend.storage.list_shares("mystore")] == ["myshare"]
    await backend.storage.delete_share("mystore", "myshare")
    assert await backend.storage.list_shares("mystore") == []


async def test_group_delete_removes_everything(backend, tmp_path):
    await _tree(backend)
    await backend.experiments.create(ExperimentRef(RG, WS, "cifar"))
    await backend.clusters.create(ClusterRef(RG, WS, "c"), "Standard_NC6", 2)
    await backend.storage.create_account(RG, "mystore", "eastus")
    await backend.storage.create_share("mystore", "myshare")
    await backend.groups.delete(RG)
    assert await backend.groups.list() == []
    assert await backend.workspaces.list() == []
    assert await backend.storage.list_accounts() == []
    assert not (backend.home / "storage" / "mystore").exists()
    with pytest.raises(NotFoundError):
        await backend.groups.get(RG)


async def test_two_backend_objects_share_state(tmp_path):
    first = open_local_backend(tmp_path / "home")
    second = open_local_backend(tmp_path / "home")
    await _tree(first)
    await first.clusters.create(ClusterRef(RG, WS, "c"), "Standard_NC6", 3)
    assert (await second.clusters.get(ClusterRef(RG, WS, "c"))).current_node_count == 3
