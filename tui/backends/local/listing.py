"""Reading jobs out of the local state: a row as a `Job`, and the quick read behind `bai job list`.

A list is the one read whose size has no bound: a user with 10,000 jobs in an experiment runs `bai job
list` and waits for it. The general way (open the backend, a `Job` per row, an az-shaped dict per row, then
JSON) costs about 0.1 ms a job in Python plus the backend's imports (asyncio, the scheduler, the planner).
Yet a job's values are stored in the form az prints them: a time as the ISO text `datetime.isoformat`
writes, a state as its value. So `read_job_list` lets SQLite write each job's text from a template the
caller gives (tui.cli.job_list_output has one per output format): one string per job comes back to Python, and
nothing is converted there. Only a job whose stored values need converting (db.PLAIN_JOB says which:
errors or warnings to decode, a time not in the stored form, a value of a type bai never writes) comes back
as a `Job`, made the general way; the partial index jobs_unusual finds those without reading the others.
tests/test_cli_job_list.py checks that both give the text the general path prints.

This module imports only the state's own modules: `bai job list` pays for what it uses.
"""

from __future__ import annotations

import json
import sqlite3
import string
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING

from tui.backends.local import db
from tui.backends.local.home import Layout

if TYPE_CHECKING:
    from tui.core.model import ExecutionState, Job

# What `job_from_values` reads, in the order of `Job`'s fields: a list selects only these (a job's plan is
# kilobytes), as plain tuples.
JOB_COLUMN_NAMES = (
    "name",
    "resource_group",
    "workspace",
    "experiment",
    "cluster_name",
    "state",
    "node_count",
    "toolkit",
    "segment",
    "std_out_err_path_prefix",
    "priority",
    "created",
    "transition_time",
    "start_time",
    "end_time",
    "exit_code",
    "errors",
    "warnings",
)
JOB_COLUMNS = ", ".join(JOB_COLUMN_NAMES)

# The states `lifecycle.reconcile` has work for: a running job may have lost its supervisor, a queued one
# may be waiting for a dispatch that never came.
RECONCILED_STATES = ("running", "terminating", "queued")

_PRIORITY_NAME = " ".join(
    ["CASE priority", *(f"WHEN {value} THEN '{name}'" for name, value in db.PRIORITIES.items()), "END"]
)
# A template's fields: a `Job` field (the az dict's key in snake case) and the SQL giving its az value.
FIELDS = {
    "name": "name",
    "resource_group": "resource_group",
    "workspace": "workspace",
    "experiment": "experiment",
    "cluster": "cluster_name",
    "execution_state": "state",
    "node_count": "node_count",
    "toolkit": "toolkit",
    "job_output_directory_path_segment": "segment",
    "std_out_err_path_prefix": "std_out_err_path_prefix",
    "scheduling_priority": _PRIORITY_NAME,
    "creation_time": "created",
    "execution_state_transition_time": "transition_time",
    "start_time": "start_time",
    "end_time": "end_time",
    "exit_code": "exit_code",
}
# Each field's JSON in a plain job (db.PLAIN_JOB): its text needs no escaping, so it is written between
# quotes as it is; a state or priority is a plain word, a node count a number, an exit code a number or
# null, a start or end time a time or null.
_JSON = {
    **{field: ('"%s"', column) for field, column in FIELDS.items()},
    "node_count": ("%d", "node_count"),
    "exit_code": ("%s", "IFNULL(exit_code, 'null')"),
    "start_time": ("%s", "IFNULL('\"' || start_time || '\"', 'null')"),
    "end_time": ("%s", "IFNULL('\"' || end_time || '\"', 'null')"),
}
_WHERE = " FROM jobs WHERE resource_group = ? AND workspace = ? AND experiment = ?"


def template_sql(template: str) -> tuple[str, list[str]]:
    """A template as an SQLite printf format and its arguments (SQL).

    The template is `str.format`-like: `{field}` is a `Job` field's az value as text (None as "", a number
    in decimal), `{field!j}` its JSON text (of a plain job, whose text needs no escaping: see _JSON); `{{`
    and `}}` are braces."""
    format_parts: list[str] = []
    arguments: list[str] = []
    for literal, field, _spec, conversion in string.Formatter().parse(template):
        format_parts.append(literal.replace("%", "%%"))
        if field is None:
            continue
        if field not in FIELDS or conversion not in (None, "j"):
            raise ValueError(f"unknown template field {{{field}!{conversion}}}")
        piece, column = _JSON[field] if conversion == "j" else ("%s", FIELDS[field])
        format_parts.append(piece)
        arguments.append(column)
    return "".join(format_parts), arguments


def quick_job_list(
    resource_group: str, workspace: str, experiment: str, templates: tuple[str, ...], binary: bool = False
) -> list[tuple | Job] | None:
    """`read_job_list` on `$BAI_HOME`, set up first as opening the local backend does."""
    from tui.backends.local.context import LocalContext
    from tui.backends.local.home import default_home

    layout = Layout(default_home())
    LocalContext(layout)  # makes BAI_HOME's folders, or says in one line why it cannot
    return read_job_list(layout, resource_group, workspace, experiment, templates, binary)


def read_job_list(
    layout: Layout,
    resource_group: str,
    workspace: str,
    experiment: str,
    templates: tuple[str, ...],
    binary: bool = False,
) -> list[tuple | Job] | None:
    """The jobs of an experiment in submission order: per plain job (db.PLAIN_JOB), the tuple of its
    `templates` filled in (see `template_sql`; UTF-8 bytes when `binary`), per other job a `Job`. None when
    the experiment (or its workspace or group) does not exist: the general path then says which part is
    missing, in its own words.

    What `LocalJobs.list` does first is done here too: jobs whose supervisor died are failed and queued
    jobs dispatched (`lifecycle.reconcile`, imported only when some job is queued or running)."""
    formats: list[str] = []
    selected = ["id"]
    for template in templates:
        text, arguments = template_sql(template)
        formats.append(text)
        written = f"printf(?, {', '.join(arguments)})" if arguments else "?"
        selected.append(f"CAST({written} AS BLOB)" if binary else written)
    where = (resource_group, workspace, experiment)
    try:
        with db.opened(layout.database) as conn:
            reconciled = ", ".join("?" for _ in RECONCILED_STATES)
            if conn.execute(
                f"SELECT EXISTS (SELECT 1 FROM jobs WHERE state IN ({reconciled}))", RECONCILED_STATES
            ).fetchone()[0]:
                from tui.backends.local import lifecycle

                lifecycle.reconcile(layout)
            found = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM resource_groups WHERE name = ?)"
                " AND EXISTS (SELECT 1 FROM workspaces WHERE resource_group = ? AND name = ?)"
                " AND EXISTS (SELECT 1 FROM experiments WHERE resource_group = ? AND workspace = ?"
                " AND name = ?)",
                (resource_group, resource_group, workspace, resource_group, workspace, experiment),
            ).fetchone()[0]
            if not found:
                return None
            cursor = conn.cursor()
            cursor.row_factory = None  # plain tuples, read by position
            conn.execute("BEGIN")  # one snapshot for both reads
            try:
                # Usually none: the partial index jobs_unusual holds only these.
                unusual = cursor.execute(
                    f"SELECT id, {JOB_COLUMNS}{_WHERE} AND {db.UNUSUAL_JOB} ORDER BY id", where
                ).fetchall()
                plain = cursor.execute(
                    f"SELECT {', '.join(selected)}{_WHERE} AND id NOT IN"
                    f" (SELECT id{_WHERE} AND {db.UNUSUAL_JOB}) ORDER BY id",
                    (*formats, *where, *where),
                ).fetchall()
            finally:
                conn.execute("COMMIT")
    except sqlite3.Error as error:
        raise db.state_error(error, layout.database) from error
    if not unusual:
        return list(map(_AFTER_ID, plain))
    made = [(row[0], job_from_values(row[1:])) for row in unusual]
    return [item for _, item in sorted(chain(((row[0], row[1:]) for row in plain), made), key=_ID)]


_AFTER_ID = itemgetter(slice(1, None))
_ID = itemgetter(0)


_STATES: dict[str, ExecutionState] = {}  # by value, filled on first use (the console lists thousands)


def _json_list(text: str) -> list:
    return [] if text == "[]" else json.loads(text)


def job_from_row(row) -> Job:  # type: ignore[no-untyped-def]
    return job_from_values(tuple(map(row.__getitem__, JOB_COLUMN_NAMES)))


def job_from_values(values: tuple) -> Job:
    """A job from the values of JOB_COLUMNS, in that order (a list reads them as tuples: no name lookups)."""
    from tui.core.model import BatchAIError, ExecutionState, Job

    if not _STATES:
        _STATES.update((state.value, state) for state in ExecutionState)
    (
        name,
        resource_group,
        workspace,
        experiment,
        cluster,
        state,
        node_count,
        toolkit,
        segment,
        prefix,
        priority,
        created,
        transition_time,
        start_time,
        end_time,
        exit_code,
        errors,
        warnings,
    ) = values
    parse_time = db.parse_time
    return Job(
        name=name,
        resource_group=resource_group,
        workspace=workspace,
        experiment=experiment,
        cluster=cluster,
        execution_state=_STATES.get(state) or ExecutionState(state),
        node_count=node_count,
        toolkit=toolkit,
        job_output_directory_path_segment=segment,
        std_out_err_path_prefix=prefix,
        scheduling_priority=db.PRIORITY_NAMES[priority],
        creation_time=parse_time(created),
        execution_state_transition_time=parse_time(transition_time),
        start_time=parse_time(start_time),
        end_time=parse_time(end_time),
        exit_code=exit_code,
        errors=[
            BatchAIError(code=item["code"], message=item["message"], details=item.get("details") or {})
            for item in _json_list(errors)
        ],
        warnings=_json_list(warnings),
    )
