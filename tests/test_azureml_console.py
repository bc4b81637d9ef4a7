"""The console on the azureml backend (its REST pipelines against the emulator's Azure ML API): the tree,
the node table, the job form submitting the tutorial's job.json, and the live log with one progress row per
rank read from the per-rank log files; `b` reaches azureml from local; the cold start never imports it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from azure_emulator import AzureEmulator, Timings
from azure_emulator.testing import ACCOUNT, CLUSTER, CLUSTER_REF, EXP, JOB_JSON, RG, SHARE, WS
from test_console import SIZE, fill_dialog, go_to, labels, make_app, until

from tui.backends.azureml import open_azureml_backend
from tui.console.widgets.job_form import JobForm
from tui.console.widgets.live_log import LiveLog
from tui.core.model import ExperimentRef

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def emulator() -> Iterator[AzureEmulator]:
    with AzureEmulator(Timings(replay=3.0, node_prepare=0.3)) as emu:
        yield emu


@pytest.fixture
async def backend(emulator: AzureEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator:
    monkeypatch.setenv("BAI_HOME", str(tmp_path / "bai-home"))
    monkeypatch.chdir(tmp_path)
    backend = open_azureml_backend({**emulator.ml_env(), "BAI_HOME": str(tmp_path / "bai-home")})
    await backend.groups.create(RG, "eastus")
    await backend.storage.create_account(RG, ACCOUNT, "eastus")
    await backend.storage.create_share(ACCOUNT, SHARE)
    await backend.storage.create_directory(ACCOUNT, SHARE, "cifar")
    script = tmp_path / "cifar_cnn_distributed.py"
    script.write_text("print('the trainer')\n")
    await backend.storage.upload_file(ACCOUNT, SHARE, "cifar", script)
    await backend.workspaces.create(RG, WS, storage_account=ACCOUNT)
    await backend.experiments.create(ExperimentRef(RG, WS, EXP))
    await backend.clusters.create(CLUSTER_REF, "Standard_NC4as_T4_v3", 2)
    yield backend
    await backend.close()


async def test_the_console_drives_azureml(backend, emulator: AzureEmulator, tmp_path: Path) -> None:
    job_path = tmp_path / "job.json"
    job_path.write_text(json.dumps(JOB_JSON, indent=4))
    app = make_app(backend, job_path=job_path, backend_name="azureml")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: labels(app), what="the first level")
        assert labels(app) == [f"rg {RG}"]
        await go_to(pilot, app, RG, WS)
        await pilot.press("right")
        await until(pilot, lambda: any(f"cluster {CLUSTER}" in text for text in labels(app)), 20)
        assert f"exp {EXP}" in labels(app)

        await go_to(pilot, app, CLUSTER)
        nodes = app.nodes
        await until(pilot, lambda: nodes.cell(CLUSTER, "idle") == "2", 30, what="2 idle nodes in the table")
        assert nodes.cell(CLUSTER, "vm_size") == "Standard_NC4as_T4_v3"

        await pilot.press("up")  # the experiment, then its cluster fills the form
        await until(pilot, lambda: app.tree.cursor_node.data.name == EXP, what="the experiment")
        await pilot.press("down")
        form = app.query_one(JobForm)
        await until(pilot, lambda: form._value("target.cluster") == CLUSTER, what="the form's cluster")
        form.set_value("target.name", "cifar_distributed")
        form.set_value("target.storage_account", ACCOUNT)
        await pilot.press("s")
        await until(pilot, lambda: app.tree.cursor_node.data.name == "cifar_distributed", 30, what="the job")

        log = app.query_one(LiveLog)
        await until(pilot, lambda: nodes.cell(CLUSTER, "running") == "2", timeout=30, what="2 running nodes")
        await until(pilot, lambda: "succeeded" in str(app.tree.cursor_node.label), timeout=60, what="success")
        await until(pilot, lambda: log.finished, timeout=30, what="every rank's log")
        await until(pilot, lambda: any("Test accuracy" in line for line in log.text.lines), what="the end")
        rows = log.query_one("#progress").row_texts()
        assert len(rows) == 2 and rows[0].startswith("w0") and rows[1].startswith("w1")
        await until(pilot, lambda: nodes.cell(CLUSTER, "idle") == "2", 30, what="nodes idle again")

        def preempt() -> None:  # Azure takes a low-priority node back
            emulator.ml.workspaces[(RG.lower(), WS.lower())].computes[CLUSTER].nodes[0].state = "preempted"

        emulator.call(preempt)
        hint = app.query_one("#nodes-hint")
        await until(pilot, lambda: f"{CLUSTER} (1 preempted)" in str(hint.render()), 30, what="the hint")

        await go_to(pilot, app, CLUSTER)
        await pilot.press("c")  # a retired size is sent as given, with a warning naming today's equivalent
        await fill_dialog(pilot, {"name": "old", "target": "0", "vm_size": "Standard_NC6"})
        await until(pilot, lambda: any(t.startswith("cluster old") for t in labels(app)), 30, "the cluster")
        await until(
            pilot,
            lambda: any("Standard_NC4as_T4_v3" in text for text, _ in app.sent),  # type: ignore[attr-defined]
            what="the retired-size warning",
        )
        await pilot.press("q")


def test_the_cold_start_does_not_import_the_azureml_backend(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from tui.console.app import BaiApp\n"
        "from tui.backends import open_backend, BACKENDS\n"
        "backend = open_backend('local')\n"
        "print('azureml' in BACKENDS, any(m.startswith('tui.backends.azureml') for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**__import__("os").environ, "BAI_HOME": str(tmp_path)},
    )
    assert result.stdout.split() == ["True", "False"]


async def test_b_cycles_local_batchai_azureml(
    emulator: AzureEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.backends import open_backend

    for name, value in {**emulator.ml_env(), "BAI_HOME": str(tmp_path / "home")}.items():
        monkeypatch.setenv(name, value)
    app = make_app(open_backend("local"), backend_name="local")
    async with app.run_test(size=SIZE) as pilot:
        for expected in ("batchai", "azureml"):
            await pilot.press("b")
            await until(
                pilot,
                lambda expected=expected: app.backend_name == expected,
                20,
                what=f"the {expected} backend",
            )
            await until(
                pilot,
                lambda expected=expected: app.sub_title == f"{expected} backend",
                20,
                what="the subtitle",
            )
        await pilot.press("q")
