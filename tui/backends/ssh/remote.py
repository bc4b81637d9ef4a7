"""Talking to the hosts: the backend's own ssh options, host checks, and ending a job's workers over SSH.

Every connection uses `$BAI_HOME/ssh/config` (`ssh -F`, so `~/.ssh/config` is never read) with the backend's
own known_hosts: the first key a host shows is kept (StrictHostKeyChecking accept-new) and a changed key
refuses the host, as OpenSSH does; the user's `~/.ssh/known_hosts` is never written. BatchMode (never a
password prompt), ConnectTimeout (an unreachable host answers within seconds, not minutes) and
ServerAliveInterval/CountMax (a host lost mid-run drops its connection within seconds, not after Gloo's
30 s) apply to bai's own calls and, through a small `ssh` wrapper first in horovodrun's PATH, to horovodrun's.

Scripts that run on a host go on ssh's stdin, not its command line, so nothing long or private shows in
`ps` there.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tui.core.errors import BaiError, FieldError, JobSpecError

if TYPE_CHECKING:
    from tui.backends.ssh.layout import SshLayout

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT = 4
ALIVE_INTERVAL = 2
ALIVE_COUNT = 2
# A probe must answer within a few seconds per host (they run in parallel).
PROBE_TIMEOUT = CONNECT_TIMEOUT + 10
HOSTS_FILE = "hosts.json"  # in a job's folder: how to reach its hosts, for whoever must stop it
PROCS_FOLDER = "procs"  # in a job's folder: one file per worker: "<host> <pgid> <pgid start time>"
JOB_MARKER = "BAI_SSH_JOB_ID"  # in every worker's environment (never on a command line)


def ssh_binary() -> str:
    found = shutil.which("ssh")
    if found is None:
        raise BaiError(
            "the ssh backend needs OpenSSH's client (ssh): install it (apt install openssh-client)"
        )
    return found


def config_text(layout: SshLayout) -> str:
    return (
        "# Written by bai's ssh backend: its own options and known_hosts (~/.ssh/config is not read).\n"
        "Host *\n"
        "    BatchMode yes\n"
        f"    ConnectTimeout {CONNECT_TIMEOUT}\n"
        f"    ServerAliveInterval {ALIVE_INTERVAL}\n"
        f"    ServerAliveCountMax {ALIVE_COUNT}\n"
        "    StrictHostKeyChecking accept-new\n"
        f'    UserKnownHostsFile "{layout.known_hosts}"\n'
        "    GlobalKnownHostsFile /dev/null\n"
        "    HashKnownHosts no\n"
        "    PasswordAuthentication no\n"
        "    KbdInteractiveAuthentication no\n"
        "    ForwardAgent no\n"
        "    ControlMaster no\n"
        "    ControlPath none\n"
        "    RequestTTY no\n"
        "    LogLevel INFO\n"  # INFO: "Timeout, server H not responding." reaches the job's stderr
    )


def write_config(layout: SshLayout) -> None:
    layout.ssh_folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = config_text(layout)
    path = layout.ssh_config
    if not path.exists() or path.read_text() != text:
        temporary = path.with_suffix(f".{uuid.uuid4().hex}")
        temporary.write_text(text)
        temporary.chmod(0o600)
        temporary.replace(path)


@dataclass
class HostSpec:
    name: str
    slots: int = 1


@dataclass
class Access:
    """How to reach a cluster's hosts (what `cluster create` was given)."""

    config: str
    known_hosts: str
    user: str | None = None
    port: int | None = None
    key: str | None = None
    python: str = ""
    interface: str | None = None
    hosts: list[HostSpec] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Access:
        data = json.loads(text)
        data["hosts"] = [HostSpec(**host) for host in data.get("hosts", [])]
        return cls(**data)

    def options(self) -> list[str]:
        """ssh's options for these credentials, after the backend's config file."""
        args = ["-F", self.config]
        if self.user:
            args += ["-l", self.user]
        if self.port:
            args += ["-p", str(self.port)]
        if self.key:
            args += ["-i", self.key, "-o", "IdentitiesOnly=yes"]
        return args

    def command(self, host: str, *remote: str) -> list[str]:
        return [ssh_binary(), *self.options(), "--", host, *remote]

    def who(self) -> str:
        parts = [f"user {self.user}" if self.user else "your user name"]
        if self.key:
            parts.append(f"key {self.key}")
        if self.port:
            parts.append(f"port {self.port}")
        return ", ".join(parts)


def run(
    access: Access, host: str, remote: list[str], stdin: str | None = None, timeout: float = PROBE_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """One ssh call; a call that outlives `timeout` reads as ssh's own failure (exit 255)."""
    try:
        return subprocess.run(
            access.command(host, *remote),
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(remote, 255, "", f"ssh: no answer within {timeout:g} s")


def parallel(items: Iterable[T], work: Callable[[T], R]) -> list[R]:
    listed = list(items)
    if not listed:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(listed))) as pool:
        return list(pool.map(work, listed))


def connection_problem(access: Access, host: str, stderr: str) -> str:
    """One line naming the host, what went wrong and what to do, from ssh's own stderr."""
    text = stderr.strip()
    last = text.splitlines()[-1].strip() if text else "no answer"
    if "IDENTIFICATION HAS CHANGED" in text or "Host key verification failed" in text:
        return (
            f"host {host}: its SSH host key is not the one bai saw first, so it is refused: if the host was "
            f"reinstalled, remove the old key with `ssh-keygen -R {host} -f {access.known_hosts}`"
        )
    if "Permission denied" in text:
        return (
            f"host {host}: SSH refused the login ({access.who()}): give the cluster the right SSH user and "
            "key, or add the public key to the host's ~/.ssh/authorized_keys"
        )
    if "Connection refused" in text:
        port = access.port or 22
        return (
            f"host {host}: nothing accepts SSH on port {port}: start sshd there "
            "or give the cluster its SSH port"
        )
    if "Could not resolve hostname" in text or "Name or service not known" in text:
        return f"host {host}: the name does not resolve here: give its address or add it to DNS/hosts"
    return f"host {host}: cannot be reached over SSH ({last}): check that it is up and reachable from here"


class HostCheckError(JobSpecError):
    """Failed host checks: `bai` prints one line per check (`bai: error: host H: what is wrong: what to do`),
    as it prints a job.json's field errors, but never prefixed with the job file's name (hosts are not in it).
    """

    @property
    def source(self) -> None:
        return None

    @source.setter
    def source(self, _value: object) -> None:
        """`job create` names its file on the errors it raises; these are about the hosts instead."""


def host_check_error(problems: list[str], outcome: str) -> HostCheckError:
    """One line per failed check, each naming its host and what to do, then what it means (`outcome`)."""
    errors = []
    for line in problems:
        path, _, message = line.partition(": ")
        errors.append(FieldError(path, f"{message} ({outcome})"))
    return HostCheckError(errors)


# ------------------------------------------------------------------------------------------------ probes


@dataclass
class Probe:
    """What one host check found."""

    host: str
    reachable: bool
    problems: list[str] = field(default_factory=list)
    gpus: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reachable and not self.problems


_PYTHON_CHECK = """
import importlib.util, pathlib, sys
try:
    spec = importlib.util.find_spec("horovod.tensorflow")
except Exception as error:
    spec = None
if spec is None or not spec.origin:
    print("BAI-PYTHON horovod.tensorflow is not installed for this Python")
elif not list(pathlib.Path(spec.origin).parent.glob("mpi_lib*.so")):
    print("BAI-PYTHON horovod is installed without its TensorFlow extension (rebuild it against TensorFlow)")
elif importlib.util.find_spec("tensorflow") is None:
    print("BAI-PYTHON tensorflow is not installed for this Python")
else:
    print("BAI-PYTHON ok")
"""

_GPU_QUERY = (
    "nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits"
)


def probe_script(python: str, token_path: Path | None) -> str:
    """A POSIX sh script (sent on stdin) whose output lines say what the host has."""
    lines = ["echo BAI-REACHED"]
    if token_path is not None:
        quoted = shlex.quote(str(token_path))
        lines.append(
            f'if [ -r {quoted} ]; then echo "BAI-STORAGE $(cat {quoted})"; else echo BAI-STORAGE; fi'
        )
    check = shlex.quote(_PYTHON_CHECK)
    lines.append(f"{shlex.quote(python)} -c {check} 2>&1 || echo 'BAI-PYTHON cannot run'")
    lines.append(f"if command -v nvidia-smi >/dev/null 2>&1; then {_GPU_QUERY} | sed 's/^/BAI-GPU /'; fi")
    return "\n".join(lines) + "\n"


def probe_hosts(
    layout: SshLayout, access: Access, hosts: list[str], check_storage: bool = True
) -> list[Probe]:
    """Check every host in parallel: reachable with these credentials, the job Python has horovod.tensorflow,
    the storage root is the same folder there (a token written here must be read back), GPUs."""
    token = uuid.uuid4().hex
    token_path = layout.probes / token if check_storage else None
    if token_path is not None:
        layout.probes.mkdir(parents=True, exist_ok=True)
        token_path.write_text(token)
    try:
        return parallel(hosts, lambda host: _probe(access, host, token_path, token))
    finally:
        if token_path is not None:
            token_path.unlink(missing_ok=True)


def _probe(access: Access, host: str, token_path: Path | None, token: str) -> Probe:
    script = probe_script(access.python, token_path)
    result = run(access, host, ["sh", "-s"], stdin=script)
    out = result.stdout.splitlines()
    if "BAI-REACHED" not in out:
        return Probe(host, False, [connection_problem(access, host, result.stderr)])
    probe = Probe(host, True)
    python_lines = [line[len("BAI-PYTHON ") :] for line in out if line.startswith("BAI-PYTHON ")]
    if python_lines != ["ok"]:
        why = python_lines[0] if python_lines else "did not answer"
        probe.problems.append(
            f"host {host}: the job Python {access.python} cannot run Horovod there ({why}): install the same "
            "Python environment on every host, or give --python PATH"
        )
    if token_path is not None and f"BAI-STORAGE {token}" not in out:
        probe.problems.append(
            f"host {host}: the storage root {token_path.parent.parent.parent} is not the same folder there: "
            "mount it at the same path on every host (NFS), or set BAI_SSH_STORAGE_ROOT to a shared folder"
        )
    probe.gpus = parse_gpus(out)
    return probe


def parse_gpus(lines: list[str]) -> list[dict[str, object]]:
    """The probe's `BAI-GPU index, name, utilization %, memory used MiB, memory total MiB` lines (nvidia-smi's
    csv,noheader,nounits); a value nvidia-smi cannot read ("[N/A]") is kept as text."""
    gpus: list[dict[str, object]] = []
    for line in lines:
        if line.startswith("BAI-GPU "):
            fields = [part.strip() for part in line[len("BAI-GPU ") :].split(",")]
            if len(fields) == 5:
                gpus.append(
                    {
                        "index": _number(fields[0]),
                        "name": fields[1],
                        "utilizationPercent": _number(fields[2]),
                        "memoryUsedMiB": _number(fields[3]),
                        "memoryTotalMiB": _number(fields[4]),
                    }
                )
    return gpus


def _number(text: str) -> int | str:
    return int(text) if text.isdigit() else text


# ----------------------------------------------------------------------------------------- stopping jobs

_STOP_SCRIPT = """
import os, signal, sys, time
groups = {GROUPS}
marker = {MARKER}.encode()
grace = {GRACE}

def leader_matches(pgid, started):
    try:
        text = open("/proc/%d/stat" % pgid).read()
    except OSError:
        return False
    return text[text.rindex(")") + 2:].split()[19] == started

def members():
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            text = open("/proc/%s/stat" % entry).read()
            fields = text[text.rindex(")") + 2:].split()
            if fields[0] in ("Z", "X"):
                continue
            if int(fields[2]) in live_groups:
                found.append(int(entry))
                continue
            if marker in open("/proc/%s/environ" % entry, "rb").read().split(b"\\0"):
                found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found

live_groups = {{pgid for pgid, started in groups if leader_matches(pgid, started)}}

def send(sig):
    for pid in members():
        try:
            os.kill(pid, sig)
        except OSError:
            pass

found = len(members())
if found:
    send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while members() and time.monotonic() < deadline:
        time.sleep(0.1)
    if members():
        send(signal.SIGKILL)
        deadline = time.monotonic() + 5
        while members() and time.monotonic() < deadline:
            time.sleep(0.05)
print("BAI-STOPPED %d LEFT %d" % (found, len(members())))
"""


def recorded_workers(job_dir: Path) -> dict[str, list[tuple[int, str]]]:
    """The process groups the job's launchers recorded, by host: {host: [(pgid, start time), ...]}."""
    found: dict[str, list[tuple[int, str]]] = {}
    folder = job_dir / PROCS_FOLDER
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        with contextlib.suppress(OSError, ValueError):
            host, pgid, started = path.read_text().split()[:3]
            found.setdefault(host, []).append((int(pgid), started))
    return found


def job_access(job_dir: Path) -> Access | None:
    with contextlib.suppress(OSError, ValueError, TypeError):
        return Access.from_json((job_dir / HOSTS_FILE).read_text())
    return None


def stop_workers(
    layout: SshLayout, job_dir: Path, grace: float, hosts: list[str] | None = None
) -> dict[str, tuple[bool, str]]:
    """End the job's workers on every host it used (recorded process groups and the job's marker), over SSH
    and in parallel; returns {host: (reached, what happened)}."""
    access = job_access(job_dir)
    if access is None:
        return {}
    recorded = recorded_workers(job_dir)
    targets = hosts if hosts is not None else [host.name for host in access.hosts]
    job_uuid = job_dir.name

    def stop(host: str) -> tuple[bool, str]:
        script = _STOP_SCRIPT.format(
            GROUPS=repr(recorded.get(host, [])), MARKER=repr(f"{JOB_MARKER}={job_uuid}"), GRACE=repr(grace)
        )
        result = run(access, host, [access.python or "python3", "-"], stdin=script, timeout=grace + 20)
        for line in result.stdout.splitlines():
            if line.startswith("BAI-STOPPED "):
                _, found, _, left = line.split()
                if found == "0":
                    return True, ""
                return True, f"{found} process(es) of the job stopped" + (
                    f", {left} still alive" if left != "0" else ""
                )
        return False, connection_problem(access, host, result.stderr)

    return dict(zip(targets, parallel(targets, stop), strict=True))
