"""The job's command line and the small launcher script it runs, per toolkit.

horovodrun's own argument parser accepts abbreviations, so a script argument such as `--n 1000` placed after
the script would be taken by horovodrun (`ambiguous option: --n`). The script and its arguments therefore go
into a generated `launcher.sh` that horovodrun (or mpirun) starts once per rank; horovodrun sees no argument
of the script at all. The arguments are written as the user gave them, so the shell expands `$VARS` in them
as it did on a Batch AI node.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from tui.backends.local import secrets
from tui.backends.local.plan import LaunchPlan


def write_launcher(plan: LaunchPlan, secrets_file: Path | None = None) -> Path:
    """The script each rank runs; with `secrets_file`, it first loads the job's secrets from that 0600 file
    (see tui.backends.local.secrets: they never travel on a command line)."""
    path = Path(plan.job_dir) / "launcher.sh"
    header = "#!/usr/bin/env bash\n# Written by bai's local backend: runs one rank of the job.\n"
    if secrets_file is not None:
        header += secrets.source_line(secrets_file) + "\n"
    if plan.toolkit == "horovod":
        body = f"exec {shlex.quote(plan.python)} {shlex.quote(plan.script)} {plan.script_args}\n"
    else:
        body = plan.command_line + "\n"
    path.write_text(header + body)
    path.chmod(0o700)
    return path


def command(plan: LaunchPlan, launcher: Path) -> list[str]:
    count = str(plan.process_count)
    if plan.toolkit == "horovod":
        return [plan.launcher_tool, "-np", count, "--gloo", "-H", f"localhost:{count}", str(launcher)]
    if plan.toolkit == "custommpi":
        extra = ["--allow-run-as-root"] if os.geteuid() == 0 else []
        return [
            plan.launcher_tool,
            *extra,
            "--tag-output",
            "-np",
            count,
            "-H",
            f"localhost:{count}",
            str(launcher),
        ]
    return ["bash", str(launcher)]


def describe(plan: LaunchPlan) -> str:
    """What runs, for the execution log (no environment: secrets live there)."""
    if plan.toolkit == "horovod":
        run = f"{plan.python} {plan.script} {plan.script_args}".strip()
        return f"horovodrun -np {plan.process_count} --gloo: {run}"
    if plan.toolkit == "custommpi":
        return f"mpirun -np {plan.process_count}: {plan.command_line}"
    return f"bash: {plan.command_line}"
