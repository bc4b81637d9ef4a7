"""The ssh backend's host descriptions (no hosts needed): `--hosts a:4,b` and horovodrun's hostfile format,
with the comments and blank lines horovodrun itself rejects; each bad entry is an error naming where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.backends.ssh.hosts import describe_hosts, parse_hostfile, parse_hosts
from tui.backends.ssh.remote import HostSpec, parse_gpus
from tui.core.errors import BaiError


def test_hosts_option_with_and_without_slots() -> None:
    assert parse_hosts("gpu1:4, gpu2,10.0.0.7:2") == [
        HostSpec("gpu1", 4),
        HostSpec("gpu2", 1),
        HostSpec("10.0.0.7", 2),
    ]


def test_hostfile_accepts_comments_and_blank_lines(tmp_path: Path) -> None:
    hostfile = tmp_path / "hosts"
    hostfile.write_text("# the rack\n\ngpu1 slots=4   # left\n  gpu2 slots=2\ngpu3\n\n")
    assert parse_hostfile(hostfile) == [HostSpec("gpu1", 4), HostSpec("gpu2", 2), HostSpec("gpu3", 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gpu1:0", "--hosts entry 'gpu1:0': slots '0' is not valid"),
        ("gpu1:x", "--hosts entry 'gpu1:x': slots 'x' is not valid"),
        ("gpu1,,gpu2", "an empty entry"),
        ("gp u1", "is not a host name or address"),
    ],
)
def test_bad_hosts_name_the_entry(text: str, expected: str) -> None:
    with pytest.raises(BaiError) as caught:
        parse_hosts(text)
    assert expected in str(caught.value)


def test_bad_hostfile_line_names_the_line(tmp_path: Path) -> None:
    hostfile = tmp_path / "hosts"
    hostfile.write_text("gpu1 slots=4\ngpu2 cores=2\n")
    with pytest.raises(BaiError) as caught:
        parse_hostfile(hostfile)
    assert "--hostfile hosts line 2: 'gpu2 cores=2' is not `HOST slots=N`" in str(caught.value)
    hostfile.write_text("# nothing yet\n")
    with pytest.raises(BaiError, match="lists no host"):
        parse_hostfile(hostfile)
    with pytest.raises(BaiError, match="cannot be read"):
        parse_hostfile(tmp_path / "missing")


def test_hosts_then_hostfile_each_host_once(tmp_path: Path) -> None:
    hostfile = tmp_path / "hosts"
    hostfile.write_text("b slots=2\n")
    assert describe_hosts("a:1", str(hostfile)) == [HostSpec("a", 1), HostSpec("b", 2)]
    with pytest.raises(BaiError, match="host 'a' is listed twice"):
        describe_hosts("a:1,a:2", None)
    with pytest.raises(BaiError, match="give --hosts HOST"):
        describe_hosts(None, None)


def test_gpus_from_nvidia_smi_lines() -> None:
    lines = [
        "BAI-REACHED",
        "BAI-GPU 0, NVIDIA H100 80GB HBM3, 37, 1024, 81559",
        "BAI-GPU 1, Tesla K80, [N/A], 0, 11441",
        "BAI-PYTHON ok",
    ]
    assert parse_gpus(lines) == [
        {"index": 0, "name": "NVIDIA H100 80GB HBM3", "utilizationPercent": 37, "memoryUsedMiB": 1024,
         "memoryTotalMiB": 81559},
        {"index": 1, "name": "Tesla K80", "utilizationPercent": "[N/A]", "memoryUsedMiB": 0,
         "memoryTotalMiB": 11441},
    ]  # fmt: skip


async def test_shares_live_under_the_storage_root_and_ssh_settings_under_bai_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.backends.ssh import open_ssh_backend
    from tui.core.model import ClusterRef

    monkeypatch.setenv("BAI_SSH_STORAGE_ROOT", str(tmp_path / "nfs"))
    backend = open_ssh_backend(tmp_path / "home")
    await backend.groups.create("rg", "eastus")
    await backend.workspaces.create("rg", "ws")
    await backend.storage.create_account("rg", "acct", "eastus")
    await backend.storage.create_share("acct", "myshare")
    source = tmp_path / "train.py"
    source.write_text("print('hi')\n")
    await backend.storage.create_directory("acct", "myshare", "cifar")
    await backend.storage.upload_file("acct", "myshare", "cifar", source)
    assert (tmp_path / "nfs" / "acct" / "myshare" / "cifar" / "train.py").read_text() == "print('hi')\n"
    config = (tmp_path / "home" / "ssh" / "config").read_text()
    assert "StrictHostKeyChecking accept-new" in config and "BatchMode yes" in config
    assert f'UserKnownHostsFile "{tmp_path / "home" / "ssh" / "known_hosts"}"' in config
    assert "ServerAliveInterval" in config and "ConnectTimeout" in config
    with pytest.raises(BaiError, match="give --hosts HOST"):
        await backend.clusters.create(ClusterRef("rg", "ws", "c"))
    await backend.close()
