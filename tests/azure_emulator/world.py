"""The emulator's state and its clock: what exists, and how clusters and jobs move over time.

Everything here runs on the emulator's event loop, so no locks are needed. `World.tick` advances the
simulation: nodes finish preparing or leaving, queued jobs get nodes, running jobs append the next piece of
replayed stdout, and finished jobs give their nodes back.
"""

from __future__ import annotations

import base64
import itertools
import os
import random
import re
import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MOUNT_ROOT = "/mnt/batch/tasks/shared/LS_root/mounts"
DATA = Path(__file__).with_name("data")
# What the replayed training leaves on the share: the saved model (an HDF5 signature and filler).
MODEL_BYTES = b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 8


def now_dt() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Timings:
    """How long simulated things take (seconds); tests use small values."""

    operation: float = 0.05  # an ARM long-running operation
    node_prepare: float = 0.3
    node_leave: float = 0.2
    job_preparation: float = 0.1
    replay: float = 1.5  # from the first to the last byte of stdout.txt
    replay_pieces: int = 24
    terminate: float = 0.1
    tick: float = 0.02
    sas_lifetime: float | None = None  # None: as the client asked (linkexpiryinminutes)
    retry_after: int | None = None  # seconds in `Retry-After` on 202s (the service's examples say 15)


@dataclass
class FileObject:
    data: bytearray = field(default_factory=bytearray)
    modified: datetime = field(default_factory=now_dt)


@dataclass
class Share:
    name: str
    quota: int
    created: datetime = field(default_factory=now_dt)
    directories: set[str] = field(default_factory=lambda: {""})
    files: dict[str, FileObject] = field(default_factory=dict)

    def write(self, path: str, data: bytes, append: bool = False) -> None:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        self.make_dirs(parent)
        entry = self.files.setdefault(path, FileObject())
        if not append:
            entry.data = bytearray()
        entry.data += data
        entry.modified = now_dt()

    def make_dirs(self, path: str) -> None:
        parts = [part for part in path.split("/") if part]
        for depth in range(1, len(parts) + 1):
            self.directories.add("/".join(parts[:depth]))


@dataclass
class Account:
    name: str
    resource_group: str
    location: str
    sku: str
    kind: str
    keys: list[str]
    state: str = "Creating"
    created: datetime = field(default_factory=now_dt)
    shares: dict[str, Share] = field(default_factory=dict)


@dataclass
class Group:
    name: str
    location: str
    state: str = "Succeeded"


@dataclass
class Workspace:
    resource_group: str
    name: str
    location: str
    state: str = "creating"
    created: datetime = field(default_factory=now_dt)
    state_time: datetime = field(default_factory=now_dt)


@dataclass
class Experiment:
    resource_group: str
    workspace: str
    name: str
    state: str = "creating"
    created: datetime = field(default_factory=now_dt)
    state_time: datetime = field(default_factory=now_dt)


@dataclass
class Node:
    id: str
    state: str  # idle, running, preparing, leaving, unusable
    until: float = 0.0
    job: tuple[str, ...] | None = None


@dataclass
class Cluster:
    resource_group: str
    workspace: str
    name: str
    properties: dict[str, Any]
    target: int
    nodes: list[Node] = field(default_factory=list)
    allocation: str = "resizing"
    allocation_time: datetime = field(default_factory=now_dt)
    state: str = "creating"
    created: datetime = field(default_factory=now_dt)
    state_time: datetime = field(default_factory=now_dt)


@dataclass
class Job:
    key: tuple[str, str, str, str]
    properties: dict[str, Any]  # as submitted, secrets removed
    cluster: tuple[str, str, str]
    node_count: int
    segment: str
    output_share: tuple[str, str]  # (account, share) of stdOutErrPathPrefix
    output_dir: str  # the job's folder on that share
    mounts: dict[str, tuple[str, str]]  # relativeMountPath -> (account, share)
    mount_error: dict[str, Any] | None = None
    state: str = "queued"
    provisioning: str = "creating"
    created: datetime = field(default_factory=now_dt)
    state_time: datetime = field(default_factory=now_dt)
    start: datetime | None = None
    end: datetime | None = None
    exit_code: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    pieces: list[tuple[float, bytes]] = field(default_factory=list)  # (due time, bytes) still to write
    finish_at: float = 0.0
    outcome: tuple[int, bytes] = (0, b"")  # exit code and stderr when the pieces are written
    terminate_at: float | None = None
    replay_from: float = 0.0  # when its output starts (after preparation): a pause only holds it from there


@dataclass
class Operation:
    id: str
    done_at: float
    on_done: Callable[[], None] | None
    result: Callable[[], dict[str, Any] | None] | None = None
    status: str = "InProgress"
    error: dict[str, Any] | None = None  # set: the operation ends Failed with this ARM error
    started: datetime = field(default_factory=now_dt)
    ended: datetime | None = None


def new_key() -> str:
    return base64.b64encode(os.urandom(64)).decode()


def _split(data: bytes, pieces: int, seed: str) -> list[bytes]:
    """Cut `data` at arbitrary byte offsets (not at newlines): streams must not care where chunks end."""
    if pieces <= 1 or len(data) < pieces:
        return [data]
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), pieces - 1))
    bounds = [0, *cuts, len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


class World:
    def __init__(self, subscription: str, timings: Timings, stdout: bytes | None = None) -> None:
        self.subscription = subscription
        self.timings = timings
        self.stdout = stdout if stdout is not None else (DATA / "horovod-np2-stdout.txt").read_bytes()
        self.groups: dict[str, Group] = {}
        self.accounts: dict[str, Account] = {}
        self.workspaces: dict[tuple[str, str], Workspace] = {}
        self.experiments: dict[tuple[str, str, str], Experiment] = {}
        self.clusters: dict[tuple[str, str, str], Cluster] = {}
        self.jobs: dict[tuple[str, str, str, str], Job] = {}
        self.operations: dict[str, Operation] = {}
        self.paused_since: float | None = None  # running jobs make no progress while set (see pause)
        # Called with a group's (lower-case) name as it is deleted, so other services' resources go too.
        self.group_hooks: list[Callable[[str], None]] = []

    # ---- long-running operations ----

    def start_operation(
        self,
        on_done: Callable[[], None] | None,
        result: Callable[[], dict[str, Any] | None] | None = None,
        delay: float | None = None,
    ) -> Operation:
        op = Operation(
            id=str(uuid.uuid4()),
            done_at=time.monotonic() + (self.timings.operation if delay is None else delay),
            on_done=on_done,
            result=result,
        )
        self.operations[op.id] = op
        return op

    # ---- lookups ----

    def group(self, name: str) -> Group | None:
        return self.groups.get(name.lower())

    def account_share(self, account: str, share: str) -> Share | None:
        record = self.accounts.get(account)
        return None if record is None else record.shares.get(share)

    # ---- deletion cascades ----

    def delete_group(self, name: str) -> None:
        key = name.lower()
        for ws_key in [k for k in self.workspaces if k[0] == key]:
            self.delete_workspace(*ws_key)
        for account in [a for a in self.accounts.values() if a.resource_group.lower() == key]:
            del self.accounts[account.name]
        self.groups.pop(key, None)
        for hook in self.group_hooks:
            hook(key)

    def delete_workspace(self, group: str, name: str) -> None:
        for cluster_key in [k for k in self.clusters if k[:2] == (group, name)]:
            del self.clusters[cluster_key]
        for exp_key in [k for k in self.experiments if k[:2] == (group, name)]:
            self.delete_experiment(*exp_key)
        self.workspaces.pop((group, name), None)

    def delete_experiment(self, group: str, workspace: str, name: str) -> None:
        for job_key in [k for k in self.jobs if k[:3] == (group, workspace, name)]:
            self.release_nodes(self.jobs.pop(job_key))
        self.experiments.pop((group, workspace, name), None)

    def release_nodes(self, job: Job) -> None:
        cluster = self.clusters.get(job.cluster)
        if cluster is None:
            return
        for node in cluster.nodes:
            if node.job == job.key:
                node.state, node.job = "idle", None

    # ---- clusters ----

    def set_allocation(self, cluster: Cluster, state: str) -> None:
        if cluster.allocation != state:
            cluster.allocation = state
            cluster.allocation_time = now_dt()

    def _reconcile(self, cluster: Cluster, now: float) -> None:
        for node in cluster.nodes:
            if node.state == "preparing" and now >= node.until:
                node.state = "idle"
        cluster.nodes = [n for n in cluster.nodes if not (n.state == "leaving" and now >= n.until)]
        active = [n for n in cluster.nodes if n.state != "leaving"]
        if len(active) < cluster.target:
            for _ in range(cluster.target - len(active)):
                index = len(cluster.nodes) + 1
                node_id = f"tvm-{random.randrange(10**9, 10**10)}_{index}-{now_dt():%Y%m%dt%H%M%Sz}"
                cluster.nodes.append(Node(node_id, "preparing", now + self.timings.node_prepare))
        elif len(active) > cluster.target:
            surplus = len(active) - cluster.target
            for wanted in ("idle", "preparing"):
                for node in active:
                    if surplus and node.state == wanted:
                        node.state, node.until, surplus = (
                            "leaving",
                            now + self.timings.node_leave,
                            surplus - 1,
                        )
        busy = any(n.state in ("preparing", "leaving") for n in cluster.nodes)
        settled = len([n for n in cluster.nodes if n.state != "leaving"]) == cluster.target
        self.set_allocation(cluster, "steady" if settled and not busy else "resizing")

    # ---- jobs ----

    def resolve(self, job: Job, path: str) -> tuple[str, str, str] | None:
        """(account, share, share path) of a `$AZ_BATCHAI_JOB_MOUNT_ROOT/<mount>/...` path, if mounted."""
        for prefix in ("$AZ_BATCHAI_JOB_MOUNT_ROOT/", "${AZ_BATCHAI_JOB_MOUNT_ROOT}/", MOUNT_ROOT + "/"):
            if path.startswith(prefix):
                mount, _, rest = path[len(prefix) :].partition("/")
                if mount in job.mounts:
                    account, share = job.mounts[mount]
                    return account, share, rest.strip("/")
        return None

    def _write(self, job: Job, name: str, data: bytes, append: bool = True) -> None:
        share = self.account_share(*job.output_share)
        if share is not None:
            share.write(f"{job.output_dir}/stdouterr/{name}", data, append=append)

    def _start_job(self, job: Job, cluster: Cluster, now: float) -> None:
        idle = [n for n in cluster.nodes if n.state == "idle"][: job.node_count]
        for node in idle:
            node.state, node.job = "running", job.key
        job.nodes = [node.id for node in idle]
        job.state, job.state_time, job.start = "running", now_dt(), now_dt()
        for name in ("stdout.txt", "stderr.txt"):
            self._write(job, name, b"", append=False)
        for node_id in job.nodes:
            self._write(
                job, f"execution-{node_id}.log", f"{now_dt():%Y-%m-%d %H:%M:%S} starting job\n".encode()
            )
        prep = (job.properties.get("jobPreparation") or {}).get("commandLine")
        if prep:
            for node_id in job.nodes:
                self._write(job, f"stdout-job_prep-{node_id}.txt", f"$ {prep}\n".encode())
                self._write(job, f"stderr-job_prep-{node_id}.txt", b"")
        if job.mount_error is not None:
            self._finish(job, exit_code=None, errors=[job.mount_error])
            return
        horovod = job.properties.get("horovodSettings") or job.properties.get("customMpiSettings") or {}
        script = horovod.get("pythonScriptFilePath")
        if script:
            where = self.resolve(job, script)
            share = where and self.account_share(where[0], where[1])
            if not share or where[2] not in share.files:
                shown = script.replace("$AZ_BATCHAI_JOB_MOUNT_ROOT", MOUNT_ROOT)
                message = f"python: can't open file '{shown}': [Errno 2] No such file or directory\n"
                job.outcome = (2, message.encode())
                job.finish_at = job.replay_from = now + self.timings.job_preparation
                return
        begin = job.replay_from = now + self.timings.job_preparation
        pieces = _split(self.stdout, self.timings.replay_pieces, "/".join(job.key))
        step = self.timings.replay / max(len(pieces), 1)
        job.pieces = [(begin + step * (index + 1), piece) for index, piece in enumerate(pieces)]
        job.finish_at = begin + self.timings.replay
        job.outcome = (0, b"")

    def _save_model(self, job: Job) -> None:
        horovod = job.properties.get("horovodSettings") or {}
        args = shlex.split(horovod.get("commandLineArgs") or "")
        target = None
        for index, arg in enumerate(args):
            if arg.startswith("--dir="):
                target = arg.split("=", 1)[1]
            elif arg == "--dir" and index + 1 < len(args):
                target = args[index + 1]
        where = target and self.resolve(job, target)
        if where:
            share = self.account_share(where[0], where[1])
            if share is not None:
                base = f"{where[2]}/" if where[2] else ""
                share.write(f"{base}saved_models/keras_cifar10_trained_model.h5", MODEL_BYTES)

    def _finish(self, job: Job, exit_code: int | None, errors: list[dict[str, Any]] | None = None) -> None:
        job.state = "succeeded" if exit_code == 0 and not errors else "failed"
        job.state_time = job.end = now_dt()
        job.exit_code = exit_code
        job.errors = errors or []
        job.pieces = []
        for node_id in job.nodes:
            self._write(job, f"execution-{node_id}.log", f"job finished, exit code {exit_code}\n".encode())
        self.release_nodes(job)

    def terminate(self, job: Job) -> None:
        if job.state in ("succeeded", "failed"):
            return
        job.state, job.state_time = "terminating", now_dt()
        job.terminate_at = time.monotonic() + self.timings.terminate

    def _advance(self, job: Job, now: float) -> None:
        if job.state == "terminating":
            if job.terminate_at is not None and now >= job.terminate_at:
                self._finish(
                    job,
                    exit_code=None,
                    errors=[
                        {
                            "code": "JobTerminated",
                            "message": "The job was terminated by the user.",
                            "details": [],
                        }
                    ],
                )
            return
        while job.pieces and job.pieces[0][0] <= now:
            self._write(job, "stdout.txt", job.pieces.pop(0)[1])
        if not job.pieces and now >= job.finish_at:
            exit_code, stderr = job.outcome
            if stderr:
                self._write(job, "stderr.txt", stderr)
            if exit_code == 0:
                self._save_model(job)
            self._finish(job, exit_code)

    def pause(self) -> None:
        """Hold every running job where it is (so a test can look at a job mid-run, however slow it is)."""
        if self.paused_since is None:
            self.paused_since = time.monotonic()

    def resume(self) -> None:
        """Let held jobs go on from where they were: each job's output is late by the time it was held
        (a job started during the pause, or paused before it was submitted, only from when its output began).
        """
        if self.paused_since is None:
            return
        paused_since, self.paused_since = self.paused_since, None
        now = time.monotonic()
        for job in self.jobs.values():
            held = held_time(paused_since, job.replay_from, now)
            job.pieces = [(due + held, piece) for due, piece in job.pieces]
            job.finish_at += held

    def tick(self) -> None:
        now = time.monotonic()
        for op in list(self.operations.values()):
            if op.status == "InProgress" and now >= op.done_at:
                op.ended = now_dt()
                if op.error is not None:
                    op.status = "Failed"
                    continue
                if op.on_done is not None:
                    op.on_done()
                op.status = "Succeeded"
        for cluster in list(self.clusters.values()):
            if cluster.state == "succeeded":
                self._reconcile(cluster, now)
        for job in list(self.jobs.values()):
            if job.state == "terminating" or (job.state == "running" and self.paused_since is None):
                self._advance(job, now)
        queued = sorted(
            (job for job in self.jobs.values() if job.state == "queued" and job.provisioning == "succeeded"),
            key=lambda job: job.created,
        )
        for job in queued:
            cluster = self.clusters.get(job.cluster)
            if cluster is None:
                continue
            idle = [n for n in cluster.nodes if n.state == "idle"]
            if len(idle) >= job.node_count:
                self._start_job(job, cluster, now)


def held_time(paused_since: float, replay_from: float, now: float) -> float:
    """How long a pause from `paused_since` to `now` held a job whose output began at `replay_from`."""
    return max(0.0, now - max(paused_since, replay_from))


_NAME = re.compile(r"^[-\w_]{1,64}$")


def valid_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name))
