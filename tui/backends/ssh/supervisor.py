"""The supervisor of one ssh job: the local supervisor, launching across hosts and ending workers over SSH.

Started detached on the jump box like the local one (`python -m tui.backends.ssh.supervisor --detach UUID`),
so the job keeps running when the console closes. What differs:

- horovodrun runs with a small, chosen environment (PATH with the backend's ssh wrapper first, HOME, USER,
  the locale): horovodrun copies its whole environment onto every ssh command line, where `ps` on every
  host shows it. The job's environment variables and secrets go into a 0600 file in the job's folder on the
  storage root, which each worker's launcher reads on its host; it is removed as soon as every worker has
  read it (and whenever the job ends).
- Every worker records its host and process group (`procs/rank-N` in the job's folder); horovodrun never
  kills remote workers, so whenever the job ends (terminate, maxWallClockTime, a failed rank, a lost host)
  the supervisor ends those process groups over SSH, on every host, before recording the end.
- A host that cannot be reached when the job ends is named in the error and marked unusable.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from tui.backends.local import db, lifecycle, secrets
from tui.backends.local.supervisor import Deleted, Stopped, Supervisor
from tui.backends.local.supervisor import main as local_main
from tui.backends.ssh import remote
from tui.backends.ssh.clusters import access_of, mark_unusable
from tui.backends.ssh.layout import SshLayout
from tui.core.model import ExecutionState

ENV_FILE = secrets.ENV_FILE  # the local backend's 0600 file of `export NAME='value'` lines
# What horovodrun (and so every ssh command line it writes) gets from this process's environment.
PASSED_ON = ("HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")


def host_of_rank(hosts: list[remote.HostSpec], rank: int) -> str | None:
    """horovodrun's placement: ranks fill the hosts' slots in the order given."""
    for host in hosts:
        if rank < host.slots:
            return host.name
        rank -= host.slots
    return None


class SshSupervisor(Supervisor):
    def __init__(self, layout: SshLayout, job_uuid: str):
        super().__init__(layout, job_uuid)
        self.ssh_layout = layout
        if self.row["cluster_id"] is None:
            raise Deleted
        self.cluster_id: int = self.row["cluster_id"]
        self.access = access_of(self.conn, self.cluster_id)
        rows = self.conn.execute(
            "SELECT h.name, h.slots FROM nodes n JOIN ssh_hosts h ON h.node_id = n.id "
            "WHERE n.job_id = ? ORDER BY n.rank_base",
            (self.job_id,),
        ).fetchall()
        self.hosts = [remote.HostSpec(row["name"], row["slots"]) for row in rows]
        self.access.hosts = self.hosts
        self.job_dir = Path(self.plan.job_dir)
        if self.plan.process_count <= 0:
            self.plan.process_count = (
                sum(host.slots for host in self.hosts) if self.plan.toolkit != "custom" else 1
            )
        self.unreachable: dict[str, str] = {}

    # ------------------------------------------------------------------------------------------------ setup

    def prepare_folders(self) -> None:
        super().prepare_folders()
        (self.job_dir / remote.PROCS_FOLDER).mkdir(exist_ok=True)
        (self.job_dir / remote.HOSTS_FILE).write_text(self.access.to_json())
        (self.job_dir / "hostfile").write_text(
            "".join(f"{host.name} slots={host.slots}\n" for host in self.hosts)
        )
        wrapper = self.job_dir / "bin" / "ssh"
        wrapper.parent.mkdir(exist_ok=True)
        # horovodrun calls `ssh -o StrictHostKeyChecking=no HOST ...`: the wrapper gives it the backend's own
        # config, user and known_hosts, and keeps a changed host key refused.
        options = " ".join(shlex.quote(option) for option in self.access.options())
        wrapper.write_text(
            "#!/usr/bin/env bash\n# Written by bai's ssh backend: horovodrun's ssh, the backend's options.\n"
            'args=()\nfor arg in "$@"; do\n'
            "    [[ $arg == StrictHostKeyChecking=no ]] && arg=StrictHostKeyChecking=accept-new\n"
            '    args+=("$arg")\ndone\n'
            f'exec {shlex.quote(remote.ssh_binary())} {options} "${{args[@]}}"\n'
        )
        wrapper.chmod(0o700)

    def environment(self) -> dict[str, str]:
        """Write the workers' environment file (0600) and return horovodrun's small environment."""
        values = dict(self.plan.environment)
        secrets_path = self.job_dir / lifecycle.SECRETS_FILE
        if secrets_path.exists():
            self.secret_env = json.loads(secrets_path.read_text())
            values.update(self.secret_env)
            self.secret_values = [value for value in self.secret_env.values() if value]
            secrets_path.unlink()
        values[remote.JOB_MARKER] = self.job_uuid
        values.setdefault("PYTHONUNBUFFERED", "1")
        secrets.write_env_file(self.job_dir / ENV_FILE, values)
        env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
        path_list = [str(self.job_dir / "bin"), str(Path(sys.executable).parent)]
        env["PATH"] = os.pathsep.join([*path_list, os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")])
        from tui.backends.local import procs

        env[procs.JOB_MARKER] = self.job_uuid  # finds horovodrun's ssh clients here (never reaches a worker)
        return env

    def discard_environment(self) -> None:
        secrets.remove(self.job_dir / ENV_FILE)

    def _preamble(self, record_as: str, host: str | None) -> str:
        """Shell lines every script run on a host starts with: read the environment file, record the
        process group (host, pgid, its leader's start time), go to the job's temp folder."""
        folder = shlex.quote(str(self.job_dir))
        default_host = shlex.quote(host or "")
        return (
            "#!/usr/bin/env bash\n"
            "# Written by bai's ssh backend: runs on a host of the job.\n"
            f"unset BAI_LOCAL_JOB_ID\n"
            f"if ! {secrets.source_line(self.job_dir / ENV_FILE)}; then\n"
            "    echo 'bai: the job environment is gone' >&2; exit 97\nfi\n"
            f"bai_host=${{HOROVOD_HOSTNAME:-{default_host}}}\n"
            "read -r -a bai_stat < /proc/$$/stat\n"
            "read -r -a bai_lead < /proc/${bai_stat[4]}/stat\n"
            'printf "%s %s %s\\n" "$bai_host" "${bai_stat[4]}" "${bai_lead[21]}"'
            f" > {folder}/procs/{record_as}\n"
            'cd "$AZ_BATCHAI_JOB_TEMP" || exit 97\n'
        )

    # ------------------------------------------------------------------------------------------------- run

    def launch_command(self, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """The launcher every worker runs on its host, and the command that starts them all."""
        plan = self.plan
        path = self.job_dir / "launcher.sh"
        first = self.hosts[0].name if self.hosts else None
        if plan.toolkit == "horovod":
            body = f"exec {shlex.quote(plan.python)} {shlex.quote(plan.script)} {plan.script_args}\n"
        else:
            body = plan.command_line + "\n"
        rank = "rank-${HOROVOD_RANK:-0}"
        announce = (
            'echo "[bai] rank ${HOROVOD_RANK:-0} of the job runs on host $bai_host ($(hostname)), pid $$"\n'
        )
        path.write_text(self._preamble(rank, first) + announce + body)
        path.chmod(0o700)
        for rank_number in range(plan.process_count if plan.toolkit != "custom" else 1):
            self.log(f"rank {rank_number} runs on host {host_of_rank(self.hosts, rank_number)}")
        if plan.toolkit == "custom":
            return self.access.command(first or "", "bash", str(path)), env
        hosts = ",".join(f"{host.name}:{host.slots}" for host in self.hosts)
        args = [plan.launcher_tool, "-np", str(plan.process_count), "--gloo", "-H", hosts, "--disable-cache"]
        if self.access.interface:
            args += ["--network-interface", self.access.interface]
        if self.access.port:
            args += ["-p", str(self.access.port)]
        if self.access.key:
            args += ["-i", self.access.key]
        return [*args, "bash", str(path)], env

    def check_hosts(self) -> None:
        """Before anything starts: every host of the job answers over SSH within seconds, else the job fails
        naming the host (horovodrun itself would retry for about 50 s)."""
        timeout = remote.CONNECT_TIMEOUT + 5
        results = remote.parallel(
            [host.name for host in self.hosts],
            lambda host: (host, remote.run(self.access, host, ["true"], timeout=timeout)),
        )
        for host, result in results:
            if result.returncode != 0:
                self.unreachable[host] = remote.connection_problem(self.access, host, result.stderr)
        if self.unreachable:
            lost = ", ".join(self.unreachable)
            raise Stopped(
                lifecycle.error(
                    "HostUnreachable",
                    f"host {lost} could not be reached when the job started ("
                    + "; ".join(self.unreachable.values())
                    + "); marked unusable: submit the job again",
                    hosts=lost,
                )
            )

    def job_preparation(self, env: dict[str, str]) -> None:
        self.check_hosts()
        plan = self.plan
        if plan.job_preparation is None or not plan.run_job_preparation:
            super().job_preparation(env)
            return
        for index, host in enumerate(self.hosts):
            node = self.node_ids[index] if index < len(self.node_ids) else host.name
            script = self.job_dir / f"prep-{index}.sh"
            script.write_text(self._preamble(f"prep-{index}", host.name) + plan.job_preparation + "\n")
            script.chmod(0o700)
            out = self.stdouterr / f"stdout-job_prep-{node}.txt"
            err = self.stdouterr / f"stderr-job_prep-{node}.txt"
            self.log(f"job preparation on host {host.name}: {plan.job_preparation}")
            code = self.run_watched(
                self.access.command(host.name, "bash", str(script)), env, out, err, plan.job_temp
            )
            self.log(f"job preparation on host {host.name} exited with code {code}")
            if code != 0:
                from tui.backends.local import failure

                line = failure.last_error_line(failure.tail(err).splitlines())
                raise Stopped(
                    lifecycle.error(
                        "JobPreparationFailed",
                        f"jobPreparation failed on host {host.name} with exit code {code}"
                        + (f": {line}" if line else ""),
                        node=node,
                        exitCode=str(code),
                    )
                )

    def run_watched(self, args: list[str], env: dict[str, str], stdout: Path, stderr: Path, cwd: str) -> int:
        try:
            return super().run_watched(args, env, stdout, stderr, cwd)
        finally:
            self.stop_remote()

    def stop_remote(self) -> None:
        """End whatever the job still runs on its hosts; remember the hosts that could not be reached."""
        grace = min(5.0, _grace())
        results = remote.stop_workers(
            self.ssh_layout, self.job_dir, grace, [host.name for host in self.hosts]
        )
        for host, (reached, text) in results.items():
            if not reached:
                self.unreachable[host] = text
            elif text:
                self.log(f"host {host}: {text}")

    def check_control(self) -> None:
        super().check_control()
        # Every worker has read the environment file once each has recorded itself: the secrets go.
        procs = self.job_dir / remote.PROCS_FOLDER
        if (self.job_dir / ENV_FILE).exists() and self.plan.toolkit != "custom":
            started = sum(1 for path in procs.glob("rank-*"))
            if started >= self.plan.process_count:
                self.discard_environment()

    def finish(self, state: ExecutionState, exit_code: int | None, errors: list[dict[str, object]]) -> None:
        """Record the end and, in the same transaction, mark the hosts that could not be reached unusable
        (so no queued job is given a lost host in between)."""
        self.discard_environment()
        errors = [self.redact(self.explain(error)) for error in errors]
        with db.immediate(self.conn):
            lifecycle.finish(self.conn, self.job_id, state, exit_code, errors)
            for host, problem in self.unreachable.items():
                mark_unusable(self.conn, self.cluster_id, host, problem)
        lifecycle.discard_secrets(self.layout, self.job_uuid)

    def explain(self, error: dict[str, object]) -> dict[str, object]:
        """Name the host: of the failing rank, and of every host that could not be reached at the end."""
        details = dict(error.get("details") or {})  # type: ignore[call-overload]
        message = str(error["message"])
        rank = details.get("rank")
        if isinstance(rank, str) and rank.isdigit():
            host = host_of_rank(self.hosts, int(rank))
            if host:
                details["host"] = host
                message = message.replace(f"rank {rank} ", f"rank {rank} on host {host} ", 1)
        quiet = ("JobTerminated", "MaxWallClockTimeExceeded", "HostUnreachable")
        if self.unreachable and error.get("code") not in quiet:
            lost = ", ".join(sorted(self.unreachable))
            details["unreachableHosts"] = lost
            first = next(iter(self.unreachable.values()))
            message = f"host {lost} was lost during the job ({first}); marked unusable. {message}"
            return {"code": "HostLost", "message": message, "details": details}
        return {**error, "message": message, "details": details}


def _grace() -> float:
    from tui.backends.local.jobs import terminate_grace_seconds

    return terminate_grace_seconds()


def main(argv: list[str] | None = None) -> int:
    return local_main(argv, lambda: SshLayout.from_env(os.environ["BAI_HOME"]), SshSupervisor)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
