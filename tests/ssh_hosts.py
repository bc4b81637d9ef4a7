"""Two real SSH hosts on this machine for the ssh backend's tests: network namespaces joined by a bridge.

Each host is a network namespace with its own sshd (own host key, own hostname in a UTS namespace of its
own, `/etc/netns/NS/hosts` so its hostname resolves to its cluster address, never Debian's 127.0.1.1),
reachable from this machine (the jump box) over a bridge. The interface has the same name on the jump box
(the bridge) and on every host (the renamed veth end), because horovodrun's `--network-interface` must
name an interface that exists everywhere. All addresses are in 10.250.N.0/24 inside these namespaces only:
nothing leaves this machine.

Namespaces share the mount and PID namespaces with the jump box, so `$BAI_HOME/storage` is naturally the
same folder on every host, and a test can see (and check the network namespace of) every worker process.

Needs root, `ip` and OpenSSH's server (scripts/setup.sh --dev installs it); `hosts_or_skip` skips cleanly
where any of that is missing. Everything is torn down by the pids and names it created.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


@dataclass
class Host:
    name: str  # its hostname inside its UTS namespace
    address: str  # its address on the bridge: what the cluster is given
    netns: str
    veth: str  # the jump box's end of its link (down = the host is unreachable)
    sshd_pid: int = 0

    def link(self, up: bool) -> None:
        _ip("link", "set", self.veth, "up" if up else "down")

    def netns_inode(self) -> int:
        return os.stat(f"/run/netns/{self.netns}").st_ino


@dataclass
class SshHosts:
    """What a test needs to describe the hosts to bai."""

    hosts: list[Host]
    interface: str
    key: Path  # the private key whose public half every host accepts for root
    folder: Path
    jump_address: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def hosts_option(self, slots: int = 1) -> str:
        return ",".join(f"{host.address}:{slots}" for host in self.hosts)

    def ssh(self, host: Host, command: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
        """Run a command on a host over ssh (the test's own known_hosts, not the user's)."""
        return subprocess.run(
            [
                "ssh",
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                f"UserKnownHostsFile={self.folder / 'test_known_hosts'}",
                "-o",
                "ConnectTimeout=5",
                "-i",
                str(self.key),
                f"root@{host.address}",
                command,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def missing_requirements() -> str | None:
    """Why the namespace hosts cannot be built here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and sshd)"
    if not Path(SSHD).exists():
        return "needs OpenSSH's server (apt-get install openssh-server; scripts/setup.sh --dev does it)"
    for tool in ("ip", "ssh", "ssh-keygen", "unshare"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


def _wait_for_port(address: str, netns: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            try:
                probe.connect((address, 22))
                return
            except OSError:
                time.sleep(0.05)
    raise RuntimeError(f"sshd in {netns} did not listen on {address}:22")


def _free_subnet(start: int) -> str:
    """A 10.250.N.0/24 no interface here uses yet (parallel test workers each build their own hosts)."""
    used = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True, check=False).stdout
    for offset in range(200):
        candidate = f"10.250.{(start + offset) % 200 + 20}"
        if f" {candidate}." not in used:
            return candidate
    raise RuntimeError("no free 10.250.N.0/24 subnet for the test hosts")


def _processes_in(netns: set[str]) -> list[int]:
    """Pids whose network namespace is one of `netns` (`net:[inode]`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "ns" / "net") in netns:
                    found.append(int(entry.name))
    return found


@contextlib.contextmanager
def namespace_hosts(folder: Path, count: int = 2) -> Iterator[SshHosts]:
    """Build `count` namespace hosts with sshd; remove them (by pid and name) when the block ends."""
    tag = f"{os.getpid() % 100000}"
    subnet = _free_subnet(os.getpid() % 200 + 20)
    bridge = f"baib{tag}"[:15]
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    (folder / "authorized_keys").write_text((folder / "id_ed25519.pub").read_text())
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    hosts: list[Host] = []
    made = SshHosts(hosts, bridge, key, folder, f"{subnet}.1")
    try:
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{subnet}.1/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        names = [f"bai-host{chr(ord('a') + index)}" for index in range(count)]
        hosts_file = "127.0.0.1 localhost\n" + "".join(
            f"{subnet}.{index + 2} {name}\n" for index, name in enumerate(names)
        )
        for index, name in enumerate(names):
            host = Host(
                name, f"{subnet}.{index + 2}", f"bai{tag}{chr(ord('a') + index)}", f"baiv{tag}{index}"
            )
            hosts.append(host)
            peer = f"baip{tag}{index}"
            _ip("netns", "add", host.netns)
            _ip("link", "add", host.veth, "type", "veth", "peer", "name", peer)
            _ip("link", "set", peer, "netns", host.netns)
            _ip("-n", host.netns, "link", "set", peer, "name", bridge)
            _ip("-n", host.netns, "addr", "add", f"{host.address}/24", "dev", bridge)
            _ip("-n", host.netns, "link", "set", bridge, "up")
            _ip("-n", host.netns, "link", "set", "lo", "up")
            _ip("link", "set", host.veth, "master", bridge)
            _ip("link", "set", host.veth, "up")
            etc = Path("/etc/netns") / host.netns
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "hosts").write_text(hosts_file)
            host_key = folder / f"{name}_host_key"
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True, timeout=30
            )
            config = folder / f"{name}_sshd_config"
            config.write_text(
                f"ListenAddress {host.address}\nPort 22\nHostKey {host_key}\n"
                f"PidFile {folder / (name + '.pid')}\nAuthorizedKeysFile {folder / 'authorized_keys'}\n"
                "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\nMaxStartups 100:30:200\nMaxSessions 100\n"
                # A session whose client vanished (a test took the link down) ends within seconds.
                "ClientAliveInterval 2\nClientAliveCountMax 3\n"
            )
            proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    host.netns,
                    "unshare",
                    "--uts",
                    "sh",
                    "-c",
                    f"hostname {name} && exec {SSHD} -D -e -f {config}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=open(folder / f"{name}_sshd.log", "ab"),  # noqa: SIM115 (lives as long as sshd)
            )
            made.procs.append(proc)
            host.sshd_pid = proc.pid
        deadline = time.monotonic() + 30
        for host in hosts:
            _wait_for_port(host.address, host.netns, deadline)
        yield made
    finally:
        # Whatever still runs in our namespaces was started by these sshds (sessions, workers): end it.
        inodes = {
            f"net:[{host.netns_inode()}]" for host in hosts if Path(f"/run/netns/{host.netns}").exists()
        }
        for pid in _processes_in(inodes):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in made.procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
        for proc in made.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for host in hosts:
            subprocess.run(["ip", "link", "del", host.veth], capture_output=True, check=False, timeout=30)
            subprocess.run(["ip", "netns", "del", host.netns], capture_output=True, check=False, timeout=30)
            shutil.rmtree(Path("/etc/netns") / host.netns, ignore_errors=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False, timeout=30)


@pytest.fixture(scope="session")
def ssh_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshHosts]:
    """Two namespace hosts for the whole session, or a clean skip where they cannot be built."""
    reason = missing_requirements()
    if reason:
        pytest.skip(f"ssh backend tests: {reason}")
    with namespace_hosts(tmp_path_factory.mktemp("ssh-hosts")) as made:
        yield made
