"""Jobs on the ssh backend: the local backend's jobs (queue, state, outputs, streaming, terminate), with the
plan made for hosts and the cluster's hosts checked before anything is created.

At submission every host of the cluster is probed in parallel (seconds, not horovodrun's 50 s of ssh
retries): a host that cannot be reached or fails its checks is marked unusable, and when the job cannot run
without it, `job create` fails naming it. horovodSettings and customMpiSettings run under the venv's
horovodrun (which starts every rank over SSH); customToolkitSettings runs on the first host over SSH.
"""

from __future__ import annotations

import copy
import shutil
import sqlite3
import sys
from pathlib import Path

from tui.backends.local import db
from tui.backends.local.jobs import LocalJobs
from tui.backends.local.plan import LaunchPlan, PlanInput, build_plan
from tui.backends.ssh import remote
from tui.backends.ssh.clusters import access_of, host_rows, record_probes
from tui.backends.ssh.layout import SshLayout
from tui.core.errors import UnsupportedError
from tui.core.model import NodeState


def horovodrun_path() -> str:
    """The venv's horovodrun (the one next to this Python), else one on PATH."""
    beside = Path(sys.executable).parent / "horovodrun"
    if beside.exists():
        return str(beside)
    found = shutil.which("horovodrun")
    if found is None:
        raise UnsupportedError(
            f"horovodrun is not installed next to {sys.executable}: run scripts/setup.sh to build Horovod, "
            "or use customToolkitSettings"
        )
    return found


class SshJobs(LocalJobs):
    def _plan(self, request: PlanInput, shares: dict[str, set[str]], cluster_row: sqlite3.Row) -> LaunchPlan:
        from tui.core import jobspec

        layout: SshLayout = self._ctx.layout  # type: ignore[assignment]
        spec = request.spec
        toolkit = jobspec.toolkit_of(spec)
        with self._ctx.connection() as conn:
            access = access_of(conn, cluster_row["id"])
        if toolkit == "customMpi":
            # Built as a custom toolkit (the command line, expanded), then run under horovodrun: mpirun is
            # not needed on this machine.
            settings = spec.custom_mpi_settings
            as_custom = copy.deepcopy(spec)
            from azure.mgmt.batchai.models import CustomToolkitSettings

            as_custom.custom_toolkit_settings = CustomToolkitSettings(command_line=settings.command_line)
            as_custom.custom_mpi_settings = None
            plan = build_plan(
                layout,
                PlanInput(request.job_uuid, request.segment, as_custom, request.run_job_preparation),
                shares,
            )
            plan.toolkit = "custommpi"
            plan.process_count = settings.process_count or 0
            plan.launcher_tool = horovodrun_path()
        else:
            plan = build_plan(layout, request, shares)
            if plan.toolkit == "horovod":
                plan.launcher_tool = horovodrun_path()
                plan.process_count = spec.horovod_settings.process_count or 0
                if not spec.horovod_settings.python_interpreter_path:
                    plan.python = access.python
        # process_count 0: one rank per slot of the hosts the job gets (decided when it is dispatched).
        plan.warnings += self._check_hosts(cluster_row, access, spec.node_count)
        return plan

    def _check_hosts(self, cluster_row: sqlite3.Row, access: remote.Access, node_count: int) -> list[str]:
        """Probe the cluster's hosts now; fail naming them when the job cannot run without the bad ones,
        else return a warning per bad host (marked unusable: the job runs on the others)."""
        layout: SshLayout = self._ctx.layout  # type: ignore[assignment]
        with self._ctx.connection() as conn:
            hosts = [
                row
                for row in host_rows(conn, cluster_row["id"])
                if row["node_id"] is not None and row["state"] != NodeState.LEAVING.value
            ]
            probes = remote.probe_hosts(layout, access, [row["name"] for row in hosts])
            with db.immediate(conn):
                record_probes(conn, cluster_row["id"], probes)
        bad = [probe for probe in probes if not probe.ok]
        good = len(probes) - len(bad)
        if bad and good < node_count <= len(probes):
            lines = [problem for probe in bad for problem in probe.problems]
            raise remote.host_check_error(
                lines,
                f"marked unusable; the job needs {node_count} of the cluster's {len(probes)} host(s): "
                "job not created",
            )
        return [
            f"{problem} (marked unusable; the job runs on the other hosts)"
            for probe in bad
            for problem in probe.problems
        ]
