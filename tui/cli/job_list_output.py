"""`bai job list`'s fast output: the same text `tui.cli.output.emit` prints for a job list, from per-job texts
that SQLite wrote from the templates here (the local backend), with `Job`s for the jobs it could not write.

Kept apart from `output.py` (az's output for every verb) because only this one verb's fast path needs it.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from tui.cli.output import az_shape, colour_json, job_row, output_format, tsv_lines

# ------------------------------------------------------------------------------------------- job lists
#
# `bai job list` on the local backend lets SQLite write each job's text from a template (see
# tui.backends.local.listing.template_sql: `{field}` is a Job field's az value as text, `{field!j}` its
# JSON) and gets the jobs it could not write as `Job`s. The templates below are exactly what `emit` prints
# for a job (tests/test_cli_job_list.py compares the two on varied jobs).

# One job as `json.dumps(az_shape(job), indent=2)` writes it inside a list.
JOB_JSON_TEMPLATE = """\
  {{
    "name": {name!j},
    "resourceGroup": {resource_group!j},
    "workspace": {workspace!j},
    "experiment": {experiment!j},
    "cluster": {cluster!j},
    "executionState": {execution_state!j},
    "nodeCount": {node_count!j},
    "toolkit": {toolkit!j},
    "jobOutputDirectoryPathSegment": {job_output_directory_path_segment!j},
    "stdOutErrPathPrefix": {std_out_err_path_prefix!j},
    "schedulingPriority": {scheduling_priority!j},
    "creationTime": {creation_time!j},
    "executionStateTransitionTime": {execution_state_transition_time!j},
    "startTime": {start_time!j},
    "endTime": {end_time!j},
    "exitCode": {exit_code!j},
    "errors": [],
    "warnings": [],
    "toolType": {toolkit!j},
    "executionInfo": {{
      "startTime": {start_time!j},
      "endTime": {end_time!j},
      "exitCode": {exit_code!j},
      "errors": []
    }}
  }}"""
# tsv: the job's scalar values, in the az dict's order (errors, warnings and executionInfo are not scalars).
JOB_TSV_TEMPLATE = "\t".join(
    f"{{{field}}}"
    for field in (
        "name",
        "resource_group",
        "workspace",
        "experiment",
        "cluster",
        "execution_state",
        "node_count",
        "toolkit",
        "job_output_directory_path_segment",
        "std_out_err_path_prefix",
        "scheduling_priority",
        "creation_time",
        "execution_state_transition_time",
        "start_time",
        "end_time",
        "exit_code",
        "toolkit",
    )
)
# job_row's columns, each a template of one cell.
JOB_TABLE_TEMPLATES = {
    "Name": "{name}",
    "Cluster": "{cluster}",
    "Cluster RG": "{resource_group}",
    "Cluster Workspace": "{workspace}",
    "Tool": "{toolkit}",
    "Nodes": "{node_count}",
    "State": "{execution_state}",
    "Exit code": "{exit_code}",
}


def job_list_templates(output: str | None) -> tuple[tuple[str, ...], bool]:
    """What `emit_job_list` needs written per job for this output format (-o, else $BAI_OUTPUT, else json;
    a bad $BAI_OUTPUT is said by `emit_job_list`, after the jobs are read, as `emit` says it), and whether
    as UTF-8 bytes (JSON and tsv are written to stdout as they come: no decoding and encoding again)."""
    from tui.core import settings

    output = output or settings.output_format() or "json"
    if output in ("json", "jsonc"):
        return (JOB_JSON_TEMPLATE,), True
    if output == "tsv":
        return (JOB_TSV_TEMPLATE,), True
    if output == "table":
        return tuple(JOB_TABLE_TEMPLATES.values()), False
    return (), False


def emit_job_list(jobs: list[Any], output: str | None, stream: IO[str] | None = None) -> None:
    """Print a job list as `emit(jobs, output, None, job_row)` does: per job, the tuple of its
    `job_list_templates(output)` filled in, or a `Job`."""
    stream = stream or sys.stdout
    output = output_format(output)
    if output == "none":
        return
    if output in ("json", "jsonc"):
        texts = [job[0] if type(job) is tuple else _indented_json(job) for job in jobs]
        text = b"[\n" + b",\n".join(texts) + b"\n]\n" if texts else b"[]\n"
        if output == "jsonc" and getattr(stream, "isatty", lambda: False)():
            text = colour_json(text.decode()).encode()
        _write(stream, text)
    elif output == "tsv":
        lines = [job[0] if type(job) is tuple else tsv_lines(az_shape(job))[0].encode() for job in jobs]
        _write(stream, b"".join(line + b"\n" for line in lines))
    elif jobs:
        rows = [job if type(job) is tuple else tuple(job_row(az_shape(job)).values()) for job in jobs]
        titles = tuple(JOB_TABLE_TEMPLATES)
        columns = zip(*rows, strict=True)
        widths = [max(len(title), *map(len, column)) for title, column in zip(titles, columns, strict=True)]
        line = "  ".join(f"%-{width}s" for width in widths)
        lines = [
            (line % titles).rstrip(),
            "  ".join("-" * width for width in widths),
            *map(str.rstrip, map(line.__mod__, rows)),
        ]
        stream.write("\n".join(lines) + "\n")


def _indented_json(job: Any) -> bytes:
    """A `Job` as `json.dumps` writes it inside an indented list."""
    text = json.dumps(az_shape(job), indent=2, ensure_ascii=False, default=str)
    return ("  " + text.replace("\n", "\n  ")).encode()


def _write(stream: IO[str], data: bytes) -> None:
    """UTF-8 `data` to a text stream: straight to its buffer when it writes UTF-8 (10 MB of JSON is not
    decoded and encoded again), else as text."""
    import codecs

    buffer = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None)
    if buffer is not None and encoding and codecs.lookup(encoding).name == "utf-8":
        stream.flush()
        view = memoryview(data)
        while view:  # unbuffered (python -u, PYTHONUNBUFFERED), stdout's buffer may write part of it
            view = view[buffer.write(view) or 0 :]
        buffer.flush()
    else:
        stream.write(data.decode())
