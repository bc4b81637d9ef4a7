"""`bai job ...`: submit, watch and collect jobs (az batchai job ...).

Only `create` and `validate` read job.json, so only they import the Azure SDK (about 0.3 s); the other verbs
stay fast.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui.cli.output import UsageError, job_file_row, job_row
from tui.cli.verbs._common import (
    add_backend_argument,
    add_experiment,
    add_name,
    add_resource_group,
    add_workspace,
    job_ref,
    leaf,
    noun,
    run_with_backend,
    show,
    warn,
)
from tui.core.errors import BaiError, UnsupportedError


def register(subparsers: Any) -> None:
    verbs = noun(subparsers, "job", "jobs: submit from job.json, watch, stream output, collect files")

    parser = leaf(verbs, "create", "submit a job described by a job.json file", _create)
    _add_ref(parser)
    parser.add_argument("-c", "--cluster", required=True, help="cluster to run on (in the same workspace)")
    parser.add_argument(
        "-f", "--config-file", required=True, type=Path, help="job.json (Batch AI 2018-05-01)"
    )
    parser.add_argument(
        "--storage-account-name",
        help="fills <AZURE_BATCHAI_STORAGE_ACCOUNT> in job.json (default: $AZURE_BATCHAI_STORAGE_ACCOUNT)",
    )
    parser.add_argument(
        "--run-job-preparation",
        action="store_true",
        help="local backend: run jobPreparation.commandLine on this machine (skipped by default: it may "
        "apt/pip install); Azure always runs it",
    )

    for verb, handler, text in (
        ("show", _show, "show a job"),
        ("wait", _wait, "wait until a job ends; print it; exit 1 if it failed or was canceled"),
        ("terminate", _terminate, "stop a running or queued job"),
        ("delete", _delete, "delete a job"),
    ):
        parser = leaf(verbs, verb, text, handler, output=verb != "delete")
        _add_ref(parser)
        if verb == "wait":
            parser.add_argument(
                "--interval", type=float, default=2.0, help="seconds between polls (default 2)"
            )
            parser.add_argument("--timeout", type=float, help="give up after this many seconds (exit 1)")
        if verb == "delete":
            parser.add_argument("-y", "--yes", action="store_true", help="accepted for az compatibility")

    parser = leaf(verbs, "list", "list the jobs of an experiment", _list)
    add_resource_group(parser)
    add_workspace(parser)
    add_experiment(parser)

    parser = verbs.add_parser(
        "validate",
        help="check a job.json without submitting it",
        description="check a job.json: prints OK or every problem, each naming its field",
    )
    add_backend_argument(parser)
    parser.add_argument("-f", "--config-file", required=True, type=Path, help="job.json")
    parser.add_argument(
        "--storage-account-name", help="also check that the storage placeholder can be filled"
    )
    parser.set_defaults(handler=_validate)

    files = noun(verbs, "file", "a job's output files")
    parser = leaf(files, "list", "list a job's output files (stdout.txt, stderr.txt, ...)", _file_list)
    _add_file_ref(parser)
    parser.add_argument("-p", "--path", default=".", help="folder inside the output directory (default: .)")

    parser = leaf(
        files,
        "stream",
        "write a job's output file to stdout as it grows, until the job ends",
        _file_stream,
        output=False,
    )
    _add_file_ref(parser)
    parser.add_argument("-f", "--file-name", required=True, help="e.g. stdout.txt")
    parser.add_argument("-p", "--path", default=".", help="folder inside the output directory (default: .)")
    parser.add_argument("--no-follow", action="store_true", help="print what is there now and stop")


def _add_ref(parser: argparse.ArgumentParser) -> None:
    add_resource_group(parser)
    add_workspace(parser)
    add_experiment(parser)
    add_name(parser, "-j", "--job-name", metavar="JOB", help_text="job name")


def _add_file_ref(parser: argparse.ArgumentParser) -> None:
    add_resource_group(parser)
    add_workspace(parser)
    add_experiment(parser)
    parser.add_argument(
        "-j",
        "--job-name",
        "--job",
        "-n",
        "--name",
        dest="name",
        required=True,
        metavar="JOB",
        help="job name",
    )
    parser.add_argument(
        "-d", "--output-directory-id", default="stdouterr", help="output directory id (default: stdouterr)"
    )


def _prepare(args: argparse.Namespace, *, fill: bool) -> Any:
    """job.json read once through the core's submit use case (every field error at once, the storage account
    resolved once: --storage-account-name, else $AZURE_BATCHAI_STORAGE_ACCOUNT)."""
    from tui.core.operations import prepare_job

    return prepare_job(
        args.config_file,
        args.storage_account_name,
        run_job_preparation=getattr(args, "run_job_preparation", False),
        fill=fill,
    )


def _create(args: argparse.Namespace) -> int:
    from tui.core.operations import submit_job

    prepared = _prepare(args, fill=True)
    name = args.config_file.name
    # Fields az dropped silently (earlier API versions): said once, not refused.
    for note in prepared.warnings:
        warn(f"{name}: {note}")
    prepared.warnings = []  # said above, with the file's name
    try:
        submitted = run_with_backend(
            args, lambda b: submit_job(b.jobs, job_ref(args), args.cluster, prepared, source=name), busy=True
        )
    except UnsupportedError as error:
        if error.message.startswith("properties"):  # about a field of the file: say which file
            error.message = f"{name}: {error.message}"
        raise
    for message in submitted.warnings:
        warn(message)
    return show(args, submitted.job, job_row)


def _validate(args: argparse.Namespace) -> int:
    prepared = _prepare(args, fill=False)
    for note in prepared.warnings:
        warn(f"{args.config_file.name}: {note}")
    sys.stdout.write("OK\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    return show(args, run_with_backend(args, lambda b: b.jobs.get(job_ref(args))), job_row)


def _list(args: argparse.Namespace) -> int:
    if not args.query and _list_local_jobs(args):
        return 0
    jobs = run_with_backend(args, lambda b: b.jobs.list(args.resource_group, args.workspace, args.experiment))
    return show(args, jobs, job_row)


def _list_local_jobs(args: argparse.Namespace) -> bool:
    """The local backend's jobs, read and printed without opening the backend (no event loop, no `Job` per
    row for jobs whose stored values are what az prints; see tui.backends.local.listing): 10,000 jobs in a
    fraction of a second. False, having printed nothing, where the general path must answer: another
    backend, or an experiment that does not exist (its error says which part is missing). --query needs the
    jobs as Python objects and takes the general path too."""
    from tui.backends import backend_name

    if backend_name(args.backend) != "local":
        return False
    from tui.backends.local.listing import quick_job_list
    from tui.cli.job_list_output import emit_job_list, job_list_templates

    templates, binary = job_list_templates(args.output)
    jobs = quick_job_list(args.resource_group, args.workspace, args.experiment, templates, binary)
    if jobs is None:
        return False
    emit_job_list(jobs, args.output)
    return True


def _wait(args: argparse.Namespace) -> int:
    import math

    from tui.core.model import ExecutionState

    if not (math.isfinite(args.interval) and 0 < args.interval <= 86400):
        raise UsageError("argument --interval: give a number of seconds above 0, at most 86400")
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout >= 0):
        raise UsageError("argument --timeout: give a number of seconds, 0 or more")
    job = run_with_backend(args, lambda b: b.jobs.wait(job_ref(args), args.interval, args.timeout), busy=True)
    show(args, job, job_row)
    if job.execution_state == ExecutionState.CANCELED:
        raise BaiError(f"job {job.name!r} was canceled before it ended (bai job show -n {job.name} ...)")
    if job.execution_state == ExecutionState.FAILED:
        detail = "; ".join(error.message for error in job.errors) or "see its stderr.txt"
        code = "" if job.exit_code is None else f" with exit code {job.exit_code}"
        raise BaiError(
            f"job {job.name!r} failed{code}: {detail} (bai job file stream ... -j {job.name} -f stderr.txt)"
        )
    return 0


def _terminate(args: argparse.Namespace) -> int:
    return show(args, run_with_backend(args, lambda b: b.jobs.terminate(job_ref(args)), busy=True), job_row)


def _delete(args: argparse.Namespace) -> int:
    run_with_backend(args, lambda b: b.jobs.delete(job_ref(args)), busy=True)
    return 0


def _file_list(args: argparse.Namespace) -> int:
    files = run_with_backend(
        args, lambda b: b.jobs.list_output_files(job_ref(args), args.output_directory_id, args.path)
    )
    return show(args, files, job_file_row)


def _file_stream(args: argparse.Namespace) -> int:
    """The file's raw bytes, written as they arrive (no decoding: progress bars keep their \\r and \\b)."""
    path = args.path.strip("/")
    name = args.file_name if path in ("", ".") else f"{path}/{args.file_name}"
    out = sys.stdout.buffer

    async def stream(backend: Any) -> None:
        async for chunk in backend.jobs.stream_file(
            job_ref(args), name, args.output_directory_id, offset=0, follow=not args.no_follow
        ):
            out.write(chunk)
            out.flush()

    with _reconnect_notes():
        run_with_backend(args, stream)
    return 0


@contextlib.contextmanager
def _reconnect_notes() -> Iterator[None]:
    """On a terminal, the stream's "reconnecting" notes go to stderr (a pipe gets the file's bytes only)."""
    if not sys.stderr.isatty():
        yield
        return
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bai: %(message)s"))
    logger = logging.getLogger("tui.backends")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
