"""The supervisor of one local job: a detached process that runs the job and records how it ended.

Started by the scheduler as `python -m tui.backends.local.supervisor --detach JOB_UUID`; it forks away from
its starter and starts its own session, so the job outlives the console or `bai` command that submitted it.
It records its pid and start time (readers use them to notice a supervisor that died), sets up the job's
mount root, temp folder and output folders, writes the job preparation files, runs the toolkit's command in
a process group of its own with stdout/stderr going to stdout.txt/stderr.txt, and watches it: a terminate
request or the maxWallClockTime stops the whole job (SIGTERM, grace period, SIGKILL). Then it records the
exit code, errors and end time, frees the nodes and starts whatever queued job now fits.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tui.backends.local import db, failure, launcher, lifecycle, nodes, procs, scheduler, secrets
from tui.backends.local.home import Layout
from tui.backends.local.jobs import SECRETS_FILE, terminate_grace_seconds
from tui.backends.local.plan import LaunchPlan
from tui.core.model import ExecutionState, NodeState

POLL_SECONDS = 0.2
CONTROL_POLL_SECONDS = 0.5
# A disk with less room than this (beyond the state's reserve) counts as full once the job's output stops
# growing for DISK_STALL_SECONDS: horovodrun's output thread dies on ENOSPC, the ranks block on their pipes.
DISK_LOW_BYTES = db.RESERVE_BYTES + (256 << 10)
DISK_STALL_SECONDS = 5.0


class Stopped(Exception):
    """The job was stopped before it ended on its own; carries the error to record."""

    def __init__(self, error: dict[str, object]):
        super().__init__(error["message"])
        self.error = error


class Deleted(Exception):
    """The job's row is gone (deleted): stop everything and record nothing."""


class Supervisor:
    def __init__(self, layout: Layout, job_uuid: str):
        self.layout = layout
        self.job_uuid = job_uuid
        self.conn = db.connect(layout.database)
        row = self.conn.execute("SELECT * FROM jobs WHERE uuid = ?", (job_uuid,)).fetchone()
        if row is None:
            raise Deleted
        self.row = row
        self.job_id: int = row["id"]
        self.plan = LaunchPlan.from_dict(json.loads(row["plan"]))
        self.node_ids = nodes.job_node_ids(self.conn, self.job_id)
        self.dispatched = db.parse_time(row["dispatched_at"]) or db.now()
        self.stdouterr = Path(self.plan.stdouterr_real)
        self.pgid: int | None = None
        self.signalled: int | None = None
        self._last_control = 0.0
        self._output_sizes: tuple[int, ...] = ()
        self._stalled_since: float | None = None
        self.secret_values: list[str] = []
        self.secret_env: dict[str, str] = {}
        self.record = layout.job_dir(job_uuid) / procs.RECORD_FILE
        self.cgroup: Path | None = None
        self.running: subprocess.Popen[bytes] | None = None

    # -------------------------------------------------------------------------------------------- recording

    def register(self) -> bool:
        started = procs.start_time(os.getpid())
        with db.immediate(self.conn):
            changed = self.conn.execute(
                "UPDATE jobs SET supervisor_pid = ?, supervisor_started = ? WHERE id = ? AND state IN (?, ?)",
                (os.getpid(), started, self.job_id, *lifecycle.ACTIVE),
            ).rowcount
        return bool(changed)

    def log(self, message: str) -> None:
        """One line in each node's execution log (execution-<node>.log), as the service's node agent wrote."""
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        for node in self.node_ids:
            # A full disk must not stop the supervisor: the line is lost, the job is still recorded.
            with contextlib.suppress(OSError), open(self.stdouterr / f"execution-{node}.log", "a") as writer:
                writer.write(f"{stamp} {message}\n")

    def finish(self, state: ExecutionState, exit_code: int | None, errors: list[dict[str, object]]) -> None:
        errors = [self.redact(error) for error in errors]
        with db.immediate(self.conn):
            lifecycle.finish(self.conn, self.job_id, state, exit_code, errors)
        lifecycle.discard_secrets(self.layout, self.job_uuid)
        procs.remove_cgroup(self.job_uuid)

    def redact(self, error: dict[str, object]) -> dict[str, object]:
        """Error messages quote the job's output, which may echo a secret: never store its value."""
        text = json.dumps(error)
        for value in self.secret_values:
            text = text.replace(json.dumps(value)[1:-1], "***")
        return json.loads(text)

    # ------------------------------------------------------------------------------------------------ setup

    def prepare_folders(self) -> None:
        plan = self.plan
        for folder in (plan.job_temp, Path(plan.job_dir) / "shared", plan.mount_root, plan.stdouterr_real):
            Path(folder).mkdir(parents=True, exist_ok=True)
        for mount in plan.mounts:
            link = Path(plan.mount_root) / mount.relative_mount_path
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                link.symlink_to(mount.target, target_is_directory=True)
        for folder in plan.output_dirs.values():
            Path(folder).mkdir(parents=True, exist_ok=True)
        # $AZ_BATCHAI_MPI_HOST_FILE: a slot per node of the job (all of them this machine), so a custom
        # toolkit's `mpirun --hostfile` starts as many processes as on the service's nodes.
        slots = max(plan.node_count, plan.process_count)
        (Path(plan.job_dir) / "hostfile").write_text(f"localhost slots={slots}\n")
        for name in ("stdout.txt", "stderr.txt"):
            (self.stdouterr / name).touch()

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("BAI_TERMINATE_GRACE_SECONDS", None)
        env.update(self.plan.environment)
        secrets_path = Path(self.plan.job_dir) / SECRETS_FILE
        if secrets_path.exists():
            self.secret_env = json.loads(secrets_path.read_text())
            env.update(self.secret_env)  # jobPreparation's bash gets them in its environment, not its argv
            self.secret_values = [value for value in self.secret_env.values() if value]
            secrets_path.unlink()  # the ranks read them from the launcher's 0600 env file from here on
        env[procs.JOB_MARKER] = self.job_uuid
        return env

    # ---------------------------------------------------------------------------------------------- control

    def check_control(self) -> None:
        """Raise Stopped/Deleted when the job must stop: terminate requested, wall clock, or row deleted."""
        if self.signalled is not None:
            raise Stopped(
                lifecycle.error(
                    "SupervisorStopped",
                    f"the job supervisor received {signal.Signals(self.signalled).name} and stopped the job",
                )
            )
        elapsed = (db.now() - self.dispatched).total_seconds()
        if elapsed > self.plan.max_wall_clock_seconds:
            limit = self.plan.max_wall_clock_seconds
            raise Stopped(
                lifecycle.error(
                    "MaxWallClockTimeExceeded",
                    f"the job ran longer than its maxWallClockTime ({limit:g} s) and was stopped",
                )
            )
        now = time.monotonic()
        if now - self._last_control < CONTROL_POLL_SECONDS:
            return
        self._last_control = now
        self.track()
        self.check_disk(now)
        row = self.conn.execute(
            "SELECT state, terminate_requested_at FROM jobs WHERE id = ?", (self.job_id,)
        ).fetchone()
        if row is None:
            raise Deleted
        if row["terminate_requested_at"] or row["state"] == ExecutionState.TERMINATING.value:
            raise Stopped(lifecycle.error("JobTerminated", "the job was terminated by the user"))

    def check_disk(self, now: float) -> None:
        """Stop the job when a disk it writes to is full and its output has stalled (see DISK_LOW_BYTES)."""
        sizes = tuple(_size(self.stdouterr / name) for name in ("stdout.txt", "stderr.txt"))
        grew = sizes != self._output_sizes
        self._output_sizes = sizes
        full = None
        if not grew:
            folders = [
                self.stdouterr,
                self.layout.root,
                Path(self.plan.job_temp),
                *self.plan.output_dirs.values(),
            ]
            for folder in folders:
                free = db.free_bytes(Path(folder))
                if free is not None and free < DISK_LOW_BYTES:
                    full = Path(folder)
                    break
        if full is None:
            self._stalled_since = None
            return
        if self._stalled_since is None:
            self._stalled_since = now
            return
        if now - self._stalled_since < DISK_STALL_SECONDS:
            return
        mount = _mount_point(full)
        raise Stopped(
            lifecycle.error(
                "DiskFull",
                f"disk full at {mount}: the job's output could not be written and it stalled for "
                f"{DISK_STALL_SECONDS:g} s, so it was stopped; free space on {mount} and submit it again",
                path=str(full),
            )
        )

    def track(self) -> None:
        """Without a cgroup, record the job's process tree (this process is its subreaper: whatever the job
        starts stays below it, setsid or not), so a sweep finds processes that shed the job's marker."""
        if self.cgroup is None:
            running = self.running.pid if self.running else None
            procs.record_tree(self.record, os.getpid(), skip_reaping=running)

    def stop(self, grace: float, reap: Callable[[], object] | None = None) -> None:
        self.track()
        procs.stop_job(self.job_uuid, self.pgid, grace, reap=reap, record=self.record)

    def run_watched(self, args: list[str], env: dict[str, str], stdout: Path, stderr: Path, cwd: str) -> int:
        """Run a command in its own process group (and the job's cgroup), watching for stop conditions;
        returns its exit code."""
        with open(stdout, "ab") as out, open(stderr, "ab") as err:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=cwd,
                env=env,
                process_group=0,
                preexec_fn=procs.enter_cgroup(self.cgroup),
            )
        self.running = process
        self.pgid = process.pid
        if self.cgroup is not None and process.pid not in procs.cgroup_pids(self.job_uuid):
            # The machine let us make the cgroup but not move into it (delegation rules): record the tree.
            self.cgroup = None
            self.track()
        with db.immediate(self.conn):
            self.conn.execute("UPDATE jobs SET job_pgid = ? WHERE id = ?", (process.pid, self.job_id))
        try:
            while process.poll() is None:
                self.check_control()
                time.sleep(POLL_SECONDS)
        except (Stopped, Deleted):
            grace = terminate_grace_seconds()
            self.log(f"stopping the job: SIGTERM to all its processes, SIGKILL after {grace:g} s")
            self.stop(grace, reap=process.poll)
            process.wait()
            raise
        finally:
            # Ranks live in sessions of their own, and a process may leave the session and the marker
            # behind: make sure none outlives the launcher.
            self.track()
            if procs.job_alive(self.job_uuid, self.pgid, self.record):
                self.stop(grace=2.0, reap=process.poll)
        code = process.returncode
        return code if code >= 0 else 128 - code

    # -------------------------------------------------------------------------------------------------- run

    def job_preparation(self, env: dict[str, str]) -> None:
        plan = self.plan
        if plan.job_preparation is None:
            return
        for node in self.node_ids:
            out = self.stdouterr / f"stdout-job_prep-{node}.txt"
            err = self.stdouterr / f"stderr-job_prep-{node}.txt"
            if not plan.run_job_preparation:
                out.write_text(
                    "jobPreparation skipped by the local backend (it may install packages on this machine); "
                    "ask for it at submission (or set BAI_RUN_JOB_PREPARATION=1) to run it.\n"
                    f"Command line: {plan.job_preparation}\n"
                )
                err.write_text("")
                continue
            self.log(f"job preparation on node {node}: {plan.job_preparation}")
            code = self.run_watched(["bash", "-c", plan.job_preparation], env, out, err, plan.job_temp)
            self.log(f"job preparation on node {node} exited with code {code}")
            if code != 0:
                line = failure.last_error_line(failure.tail(err).splitlines())
                raise Stopped(
                    lifecycle.error(
                        "JobPreparationFailed",
                        f"jobPreparation failed on node {node} with exit code {code}"
                        + (f": {line}" if line else ""),
                        node=node,
                        exitCode=str(code),
                    )
                )
        if not plan.run_job_preparation:
            self.log("job preparation skipped (ask for it at submission, or set BAI_RUN_JOB_PREPARATION=1)")

    def launch_command(self, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """Write the job's launcher script; the command that runs it and the environment to run it with (the
        ssh backend's runs on its hosts)."""
        plan = self.plan
        secrets_file = None
        if self.secret_env:
            secrets_file = secrets.write_env_file(Path(plan.job_dir) / secrets.ENV_FILE, self.secret_env)
            env = secrets.without(env, self.secret_env)  # horovodrun copies its environment into argv
        script = launcher.write_launcher(plan, secrets_file)
        return launcher.command(plan, script), env

    def run(self) -> None:
        if not self.register():
            return
        self.prepare_folders()
        procs.become_subreaper()
        self.cgroup = procs.make_cgroup(self.job_uuid)
        plan = self.plan
        self.log(
            f"job {self.row['name']} ({self.job_uuid}) runs on nodes {', '.join(self.node_ids)} "
            f"of cluster {self.row['cluster_name']}"
        )
        for warning in json.loads(self.row["warnings"]):
            self.log(f"warning: {warning}")
        env = self.environment()
        try:
            self.job_preparation(env)
            args, env = self.launch_command(env)
            with db.immediate(self.conn):
                nodes.set_job_nodes(self.conn, self.job_id, NodeState.RUNNING)
                self.conn.execute("UPDATE jobs SET start_time = ? WHERE id = ?", (db.now_text(), self.job_id))
            self.log(f"started: {launcher.describe(plan)}")
            code = self.run_watched(
                args,
                env,
                self.stdouterr / "stdout.txt",
                self.stdouterr / "stderr.txt",
                plan.job_temp,
            )
        except Deleted:
            return
        except Stopped as stopped:
            self.log(f"job stopped: {stopped.error['message']}")
            self.finish(ExecutionState.FAILED, None, [stopped.error])
            return
        if code == 0:
            self.log("job succeeded (exit code 0)")
            self.finish(ExecutionState.SUCCEEDED, 0, [])
        else:
            error = failure.describe(self.stdouterr, code)
            self.log(f"job failed with exit code {code}: {error['message']}")
            self.finish(ExecutionState.FAILED, code, [error])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _mount_point(path: Path) -> Path:
    """The mount point of the file system holding `path` (what `df` names), for the "disk full" line."""
    path = path if path.exists() else path.parent
    try:
        device = path.stat().st_dev
        while path.parent != path and path.parent.stat().st_dev == device:
            path = path.parent
    except OSError:
        pass
    return path


def _supervise(layout: Layout, job_uuid: str, kind: type[Supervisor] = Supervisor) -> None:
    try:
        supervisor = kind(layout, job_uuid)
    except Deleted:
        return

    def on_signal(number: int, _frame: object) -> None:
        supervisor.signalled = number

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        supervisor.run()
    except BaseException as error:  # record, never leave a job "running" with nobody behind it
        with contextlib.suppress(Exception):
            supervisor.stop(grace=2.0)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            where = _mount_point(Path(error.filename)) if error.filename else layout.root
            failed = lifecycle.error(
                "DiskFull", f"disk full at {where}: the job could not be set up; free space there and retry"
            )
        else:
            failed = lifecycle.error("SupervisorError", f"the local job supervisor failed: {error}")
        with contextlib.suppress(Exception):
            supervisor.finish(ExecutionState.FAILED, None, [failed])
        raise
    finally:
        with contextlib.suppress(Exception):
            scheduler.dispatch(layout)


def main(
    argv: list[str] | None = None,
    layout_from_env: Callable[[], Layout] = lambda: Layout(Path(os.environ["BAI_HOME"])),
    kind: type[Supervisor] = Supervisor,
) -> int:
    """Run one job's supervisor; the ssh backend passes its own layout and Supervisor subclass."""
    parser = argparse.ArgumentParser(prog=f"python -m {kind.__module__}")
    parser.add_argument("--detach", action="store_true", help="fork away, print the supervisor's pid, exit")
    parser.add_argument("job_uuid")
    args = parser.parse_args(argv)
    if args.detach:
        pid = os.fork()
        if pid:
            print(pid, flush=True)
            os._exit(0)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
    _supervise(layout_from_env(), args.job_uuid, kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
