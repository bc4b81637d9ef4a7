"""`bai job list` with many jobs: the same JSON and table as before, read with only the columns printed.

The list reads fewer columns than `bai job show` (not the job plan) and prints its JSON with a faster
encoder for long lists: both must give exactly what a user saw before. Jobs are written straight into the
local backend's database (running hundreds of real jobs would take minutes), finished, with errors and
warnings of their own so every field has something to show.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_cli import Bai
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


async def test_a_state_written_before_the_index_gets_it_on_first_use(tmp_path: Path) -> None:
    bai = Bai(tmp_path)
    home = Path(bai.env["BAI_HOME"])
    await fill(home, 3)
    with sqlite3.connect(Layout(home).database) as conn:  # as the previous bai (schema 1) left it
        conn.execute("DROP INDEX jobs_by_experiment")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    assert [job["name"] for job in bai.json("job", "list", "-g", RG, "-w", WS, "-e", EXP)] == [
        "job-000",
        "job-001",
        "job-002",
    ]
    with sqlite3.connect(Layout(home).database) as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT name FROM jobs WHERE resource_group = ? AND workspace = ?"
                " AND experiment = ? ORDER BY id",
                (RG, WS, EXP),
            )
        )
        assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
    conn.close()
    assert "jobs_by_experiment" in plan
