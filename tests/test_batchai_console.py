"""The console on the batchai backend (the real SDK pipeline against the Azure emulator): the same panes as on
the local backend — resource tree, node table, job form, live log — with nothing in them knowing which
backend is behind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from azure_emulator import AzureEmulator, Timings
from azure_emulator.testing import ACCOUNT, CLUSTER, CLUSTER_REF, EXP, JOB_JSON, RG, WS, tutorial_setup
from test_console import SIZE, go_to, labels, make_app, until

from tui.backends.batchai import open_batchai_backend
from tui.console.widgets.job_form import JobForm
from tui.console.widgets.live_log import LiveLog
from tui.core.model import ExperimentRef

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def timings() -> Timings:
    return Timings(replay=3.0)  # the emulator (conftest.py) replays a job's log over 3 s


@pytest.fixture
async def backend(emulator: AzureEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator:
    monkeypatch.setenv("BAI_HOME", str(tmp_path / "bai-home"))
    monkeypatch.chdir(tmp_path)
    backend = open_batchai_backend(emulator.env())
    await tutorial_setup(backend, tmp_path, nodes=2)
    yield backend
    await backend.close()


async def test_the_console_drives_batchai(backend, emulator: AzureEmulator, tmp_path: Path) -> None:
    job_path = tmp_path / "job.json"
    job_path.write_text(json.dumps(JOB_JSON, indent=4))
    app = make_app(backend, job_path=job_path, backend_name="batchai")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: labels(app), what="the first level")
        assert labels(app) == [f"rg {RG}"]
        await go_to(pilot, app, RG, WS)
        await pilot.press("right")
        await until(pilot, lambda: any(f"cluster {CLUSTER}" in text for text in labels(app)))
        assert f"exp {EXP}" in labels(app) and f"storage {ACCOUNT}" in labels(app)

        await go_to(pilot, app, CLUSTER)
        nodes = app.nodes
        await until(pilot, lambda: nodes.cell(CLUSTER, "idle") == "2", what="2 idle nodes in the table")
        assert nodes.cell(CLUSTER, "vm_size") == "Standard_NC6"

        await pilot.press("up")  # the experiment, then its cluster fills the form
        await until(pilot, lambda: app.tree.cursor_node.data.name == EXP, what="the experiment")
        await pilot.press("down")
        form = app.query_one(JobForm)
        await until(pilot, lambda: form._value("target.cluster") == CLUSTER, what="the form's cluster")
        form.set_value("target.name", "cifar_distributed")
        form.set_value("target.storage_account", ACCOUNT)
        await pilot.press("s")
        await until(pilot, lambda: app.tree.cursor_node.data.name == "cifar_distributed", what="the job")

        log = app.query_one(LiveLog)
        await until(pilot, lambda: nodes.cell(CLUSTER, "running") == "2", timeout=30, what="2 running nodes")
        await until(pilot, lambda: "succeeded" in str(app.tree.cursor_node.label), timeout=60, what="success")
        await until(pilot, lambda: log.finished, timeout=30, what="the whole stdout")
        await until(pilot, lambda: any("Test accuracy" in line for line in log.text.lines), what="the end")
        rows = log.query_one("#progress").row_texts()
        assert len(rows) == 2 and rows[0].startswith("w0") and rows[1].startswith("w1")
        await until(pilot, lambda: nodes.cell(CLUSTER, "idle") == "2", what="nodes idle again")
        assert (await backend.clusters.get(CLUSTER_REF)).node_state_counts.running_node_count == 0
        await pilot.press("q")


@pytest.fixture
async def bare_backend(
    emulator: AzureEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator:
    monkeypatch.setenv("BAI_HOME", str(tmp_path / "bai-home"))
    monkeypatch.chdir(tmp_path)
    backend = open_batchai_backend(emulator.env())
    await backend.groups.create(RG, "eastus")
    await backend.workspaces.create(RG, WS)
    await backend.experiments.create(ExperimentRef(RG, WS, EXP))
    yield backend
    await backend.close()


async def test_the_tree_shows_a_job_state_this_version_does_not_know(
    bare_backend, emulator: AzureEmulator
) -> None:
    # A real listed job (tests/azure_emulator/data/real) in a state newer than 2018-05-01, under our names.
    text = (Path(__file__).parent / "azure_emulator/data/real/job_list_by_experiment.json").read_text()
    for old, new in (("demo_resource_group", RG), ("demo_workspace", WS), ("demo_experiment", EXP)):
        text = text.replace(old, new)
    body = json.loads(text)
    body["value"][0]["properties"]["executionState"] = "Preempted"
    emulator.add_fault(rf"/experiments/{EXP}/jobs$", method="GET", status=200, body=body, times=10_000)
    emulator.add_fault(r"/jobs/demo_job$", method="GET", status=200, body=body["value"][0], times=10_000)
    app = make_app(bare_backend, backend_name="batchai")
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, RG, WS, EXP)
        await pilot.press("right")
        await until(
            pilot, lambda: "? demo_job preempted" in labels(app), timeout=30, what="the job, its state"
        )
        await go_to(pilot, app, "demo_job")
        await until(
            pilot, lambda: "executionState: preempted" in str(app.main.pane_details.render()), 30, "details"
        )
        await pilot.press("q")
