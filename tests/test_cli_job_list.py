"""`bai job list` with many jobs: the same JSON and table as before, read with only the columns printed.

The list reads fewer columns than `bai job show` (not the job plan) and prints its JSON with a faster
encoder for long lists: both must give exactly what a user saw before. Jobs are written straight into the
local backend's database (running hundreds of real jobs would take minutes), finished, with errors and
warnings of their own so every field has something to show.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_cli import BAI, Bai
from tui.backends.local import db, open_local_backend
from tui.backends.local.home import Layout
from tui.cli.output import json_text
from tui.core.model import ExperimentRef

RG, WS, EXP, CLUSTER = "rg", "ws", "exp", "c1"

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.text(max_size=4), values, max_size=4), min_size=1, max_size=6))
def test_json_text_is_json_dumps_indented(items: list) -> None:
    data = items * (64 // len(items) + 1)  # a list long enough for the fast way
    assert json_text(data) == json.dumps(data, indent=2, ensure_ascii=False, default=str)


async def fill(home: Path, jobs: int) -> None:
    backend = open_local_backend(home)
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    await backend.experiments.create(ExperimentRef(RG, WS, EXP))
    from tui.core.model import ClusterRef

    await backend.clusters.create(ClusterRef(RG, WS, CLUSTER), "Standard_NC6", 1)
    await backend.close()
    with db.opened(Layout(home).database) as conn, db.immediate(conn):
        cluster_id = conn.execute("SELECT id FROM clusters").fetchone()["id"]
        for index in range(jobs):
            stamp = f"2026-12-0{1 + index % 9}T10:00:{index % 60:02d}+00:00"
            conn.execute(
                "INSERT INTO jobs (uuid, resource_group, workspace, experiment, name, cluster_id,"
                " cluster_name, state, priority, node_count, toolkit, plan, segment, std_out_err_path_prefix,"
                " stdouterr_dir, created, transition_time, start_time, end_time, exit_code, errors, warnings)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    str(uuid.uuid4()),
                    RG,
                    WS,
                    EXP,
                    f"job-{index:03d}",
                    cluster_id,
                    CLUSTER,
                    "failed" if index % 3 else "succeeded",
                    index % 3 - 1,
                    1 + index % 4,
                    "horovod" if index % 2 else "custom",
                    json.dumps({"command": "x" * 2000}),
                    f"seg/{index}",
                    "$AZ_BATCHAI_MOUNT_ROOT/afs",
                    "/tmp/out",
                    stamp,
                    stamp,
                    stamp,
                    None if index % 5 == 0 else stamp,
                    index % 3 or None,
                    json.dumps([{"code": "JobFailed", "message": f"exit {index} — é"}] if index % 3 else []),
                    json.dumps([f"warning {index}"] if index % 4 == 0 else []),
                ),
            )


async def test_job_list_shows_every_field_of_every_job_as_job_show_does(tmp_path: Path) -> None:
    bai = Bai(tmp_path)
    await fill(Path(bai.env["BAI_HOME"]), 150)
    listed = bai("job", "list", "-g", RG, "-w", WS, "-e", EXP)
    jobs = json.loads(listed.stdout)
    assert [job["name"] for job in jobs] == [f"job-{index:03d}" for index in range(150)]
    for index in (1, 149):
        shown = bai.json("job", "show", "-g", RG, "-w", WS, "-e", EXP, "-n", f"job-{index:03d}")
        assert jobs[index] == shown
    # The text itself is json.dumps(..., indent=2) of those jobs, as it was before.
    assert listed.stdout == json.dumps(jobs, indent=2, ensure_ascii=False) + "\n"
    table = bai("job", "list", "-g", RG, "-w", WS, "-e", EXP, "-o", "table").stdout.splitlines()
    assert table[0].split()[:2] == ["Name", "Cluster"]
    assert sum(line.startswith("job-") for line in table) == 150
    assert "job-001  c1" in table[3] and "failed" in table[3]


async def test_a_state_written_before_the_indexes_gets_them_on_first_use(tmp_path: Path) -> None:
    bai = Bai(tmp_path)
    home = Path(bai.env["BAI_HOME"])
    await fill(home, 3)
    with sqlite3.connect(Layout(home).database) as conn:  # as bai before schema 2 left it
        conn.execute("DROP INDEX jobs_by_experiment")
        conn.execute("DROP INDEX jobs_unusual")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    assert [job["name"] for job in bai.json("job", "list", "-g", RG, "-w", WS, "-e", EXP)] == [
        "job-000",
        "job-001",
        "job-002",
    ]
    where = " FROM jobs WHERE resource_group = ? AND workspace = ? AND experiment = ?"
    with sqlite3.connect(Layout(home).database) as conn:
        plans = [
            " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", (RG, WS, EXP)))
            for query in (f"SELECT name{where} ORDER BY id", f"SELECT name{where} AND {db.UNUSUAL_JOB}")
        ]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
    conn.close()
    # The list reads every job through the first and finds the few it prints the general way through the
    # second, without looking at the others.
    assert "jobs_by_experiment" in plans[0] and "jobs_unusual" in plans[1]


def test_the_quick_list_knows_the_states_and_what_reconcile_looks_at() -> None:
    from tui.backends.local import lifecycle, listing
    from tui.core.model import ExecutionState

    assert tuple(state.value for state in ExecutionState) == db.JOB_STATES
    assert set(listing.RECONCILED_STATES) == {*lifecycle.ACTIVE, ExecutionState.QUEUED.value}


# ------------------------------------------------------------------ the quick read against the general path

# Values a job's columns take: every state, priority and exit code, missing times, text JSON writes as it
# is (unicode, U+2028, DEL). Every other job is unusual in one way (errors, warnings, text JSON escapes, an
# odd time in one column, a value of a type bai never writes, a NUL), so that each reason alone is seen to
# take the general way.
NAMES = ["job-a", "ünï cødé 😀", "\u2028sep\x7f", " "]
ESCAPED = ['q"uote', "back\\slash", "tab\tand\nnewline\r", "bell\x07"]
TIMES = ["2026-12-07T04:31:51.368507+00:00", "2026-12-07T04:31:51+00:00", None]
ODD_TIMES = [
    "2026-12-07T04:31:51.000000+00:00",  # isoformat prints it without the zeros
    "2026-12-07T06:31:51.5+02:00",
    "2026-12-07T04:31:51Z",
    "2026-12-07 04:31:51+00:00",
    "",
]
TIME_COLUMNS = ("created", "transition_time", "start_time", "end_time")
UNUSUAL: list[dict] = [
    {"errors": json.dumps([{"code": "JobFailed", "message": "exit 3 — é", "details": {"exit": "3"}}])},
    {"warnings": json.dumps(["disk almost full ü"])},
    {"node_count": 2.5},
    {"segment": "sub/nul-\x00-byte"},  # SQLite compares names only up to a NUL: not in a unique name
    *({"name": f"{text}-{{index}}"} for text in ESCAPED),
    *({column: text} for text in ESCAPED for column in ("cluster_name", "toolkit", "segment")),
    *({column: time} for time in ODD_TIMES for column in TIME_COLUMNS),
]


def job_values(index: int) -> dict:
    """The columns of a job, varied with its index (see above)."""
    values = {
        "name": f"{NAMES[index % len(NAMES)]}-{index}",
        "state": ("queued", "running", "terminating", "succeeded", "failed", "canceled")[index // 3 % 6],
        "priority": (-1, 0, 1)[index // 5 % 3],
        "node_count": 1 + index % 4,
        "toolkit": ("horovod", "custom", "custommpi", "cntk ✓")[index % 4],
        "created": TIMES[index // 2 % 2],
        "transition_time": TIMES[index // 3 % 2],
        "start_time": TIMES[index // 2 % 3],
        "end_time": TIMES[index // 5 % 3],
        "exit_code": (None, 0, 1, -9, 2**40)[index // 2 % 5],
        "errors": "[]",
        "warnings": "[]",
        "cluster_name": ("c1", "clüster")[index // 4 % 2],
        "segment": f"sub/{NAMES[index // 2 % len(NAMES)]}/{index}",
    }
    if index % 2:
        unusual = UNUSUAL[index // 2 % len(UNUSUAL)]
        values.update(
            {
                key: value.replace("{index}", str(index)) if type(value) is str else value
                for key, value in unusual.items()
            }
        )
    return values


def add_jobs(home: Path, experiment: str, count: int) -> None:
    with db.opened(Layout(home).database) as conn, db.immediate(conn):
        for index in range(count):
            values = {
                **job_values(index),
                "uuid": str(uuid.uuid4()),
                "resource_group": RG,
                "workspace": WS,
                "experiment": experiment,
                "cluster_id": None,  # on no cluster: a queued job stays queued, never dispatched here
                "plan": "{}",
                "std_out_err_path_prefix": "$AZ_BATCHAI_MOUNT_ROOT/afs",
                "stdouterr_dir": "/tmp/out",
            }
            conn.execute(
                f"INSERT INTO jobs ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                tuple(values.values()),
            )


async def general_output(home: Path, experiment: str, output: str) -> bytes:
    """What `bai job list` printed before it had a quick way: the backend's `Job`s through `emit`."""
    import io

    from tui.cli.output import emit, job_row

    backend = open_local_backend(home)
    try:
        jobs = await backend.jobs.list(RG, WS, experiment)
    finally:
        await backend.close()
    stream = io.StringIO(newline="")
    emit(jobs, output, None, job_row, stream)
    return stream.getvalue().encode()


async def test_the_quick_list_prints_byte_for_byte_what_the_general_path_prints(tmp_path: Path) -> None:
    bai = Bai(tmp_path)
    home = Path(bai.env["BAI_HOME"])
    await fill(home, 0)
    backend = open_local_backend(home)
    for experiment in ("few", "many", "empty"):
        await backend.experiments.create(ExperimentRef(RG, WS, experiment))
    await backend.close()
    add_jobs(home, "few", 24)  # json.dumps prints a short list; json_text a long one
    add_jobs(home, "many", 200)
    # A running job whose supervisor is gone: the quick list fails it first, as the general list does.
    with db.opened(Layout(home).database) as conn, db.immediate(conn):
        conn.execute(
            "UPDATE jobs SET state = 'running', dispatched_at = '2026-01-01T00:00:00+00:00',"
            " supervisor_pid = NULL WHERE experiment = 'few' AND name LIKE 'job-a-%'"
        )
    lost = json.loads(bai("job", "list", "-g", RG, "-w", WS, "-e", "few").stdout)[0]
    assert (lost["executionState"], lost["errors"][0]["code"]) == ("failed", "SupervisorLost")
    for experiment in ("few", "many", "empty"):
        for output in ("json", "jsonc", "table", "tsv", "none"):
            quick = subprocess.run(
                [*BAI, "job", "list", "-g", RG, "-w", WS, "-e", experiment, "-o", output],
                capture_output=True,
                env=bai.env,
                check=True,
            ).stdout
            assert quick == await general_output(home, experiment, output), (experiment, output)
    with db.opened(Layout(home).database) as conn:  # both ways were taken, often
        unusual = conn.execute(f"SELECT count(*) FROM jobs WHERE {db.UNUSUAL_JOB}").fetchone()[0]
    assert min(unusual, 24 + 200 - unusual) >= 100
