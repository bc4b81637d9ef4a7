"""Compare runs (issue 11, item 12): an experiment's jobs side by side, from their real stdout.txt through
the log parser: state, nodes, epochs, best and final val accuracy, duration, the curves on one chart."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App

from tests import test_console as base
from tests.test_console import go_to, make_app, until
from tests.tutorial_resources import CLUSTER, EXPERIMENT, GROUP, WORKSPACE
from tui.console.widgets.compare_runs import (
    CompareRunsScreen,
    RunsChart,
    RunSummary,
    best_run,
    chart_rows,
)
from tui.core.model import ExperimentRef, JobRef

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


def keras_output(accuracies: list[float], epochs: int) -> str:
    """What Keras prints at the end of each epoch (the format the live log parses)."""
    lines = []
    for epoch, accuracy in enumerate(accuracies, start=1):
        lines.append(f"Epoch {epoch}/{epochs}")
        lines.append(
            "1563/1563 [==============================] - 12s 8ms/step - loss: 1.2 - accuracy: 0.5 - "
            f"val_loss: 1.1 - val_accuracy: {accuracy}"
        )
    return "\\n".join(lines) + "\\n"


async def submit(backend: Any, name: str, accuracies: list[float], epochs: int, nodes: int = 1) -> JobRef:
    from tui.core.jobspec import parse_job_spec

    command = f"printf '{keras_output(accuracies, epochs)}'"
    spec = parse_job_spec(
        {
            "properties": {
                "nodeCount": nodes,
                "customToolkitSettings": {"commandLine": command},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
            }
        }
    )
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, name)
    await backend.jobs.create(ref, CLUSTER, spec)
    return ref


@pytest.fixture
async def three_runs(backend):  # type: ignore[no-untyped-def]
    refs = [
        await submit(backend, "lr-0.01", [0.41, 0.52, 0.58], 3),
        await submit(backend, "lr-0.1", [0.45, 0.66, 0.63], 3, nodes=2),
        await submit(backend, "lr-1.0", [0.10], 3),
    ]
    for ref in refs:
        final = await backend.jobs.wait(ref, poll_interval=0.2, timeout=90)
        assert final.execution_state.value == "succeeded", final
    return backend


class Host(App[None]):
    def __init__(self, backend: Any) -> None:
        super().__init__()
        self.backend = backend

    def on_mount(self) -> None:
        self.push_screen(CompareRunsScreen(self.backend, ExperimentRef(GROUP, WORKSPACE, EXPERIMENT)))


async def test_the_runs_table_and_chart(three_runs) -> None:  # type: ignore[no-untyped-def]
    app = Host(three_runs)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "loaded", False), timeout=30, what="the runs")
        screen = app.screen
        assert isinstance(screen, CompareRunsScreen)
        rows = screen.table_rows()
        assert [row[:2] + row[3:7] for row in rows] == [
            ("1", "lr-0.01", "1", "3/3", "0.5800", "0.5800"),
            ("2", "★ lr-0.1", "2", "3/3", "0.6600", "0.6300"),
            ("3", "lr-1.0", "1", "1/3", "0.1000", "0.1000"),
        ]
        assert {row[2] for row in rows} == {"succeeded"}
        assert all(row[7] != "–" for row in rows)  # every run has a duration
        status = str(screen.query_one("#compare-status").render())
        assert "3 run(s); best: lr-0.1 (0.6600)" in status
        chart = "\n".join(screen.query_one(RunsChart).plain_rows())
        for marker in "123":
            assert marker in chart.split("\n", 2)[2]  # every run's points are drawn
        assert "0.660" in chart and "0.100" in chart  # the y axis spans the values
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareRunsScreen)


def test_chart_rows_put_each_run_where_its_values_are() -> None:
    runs = [RunSummary("a", "succeeded", 1, curve=[0.2, 0.8]), RunSummary("b", "running", 1, curve=[0.5])]
    rows, owners, caption = chart_rows(runs, 30, 5)
    assert rows[0].startswith(" 0.800 ") and rows[-1].startswith(" 0.200 ")
    assert rows[0].rstrip().endswith("1")  # a's last point: top right
    assert rows[-1][7] == "1"  # a's first point: bottom left
    assert "2" in rows[2]  # b's only point, half way up
    assert "·" in "".join(rows)  # a's points are joined
    assert owners[0][len(rows[0].rstrip()) - 1] == 0
    assert "epoch 2" in caption
    assert best_run(runs) == "a"
    assert best_run([RunSummary("x", "queued", 1)]) is None
    empty_rows, _owners, _caption = chart_rows([RunSummary("x", "queued", 1)], 60, 4)
    assert "no finished epoch" in empty_rows[0]


async def test_k_on_an_experiment_opens_the_comparison(three_runs) -> None:  # type: ignore[no-untyped-def]
    app = make_app(three_runs)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT)
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, CompareRunsScreen), what="the comparison")
        await until(pilot, lambda: app.screen.loaded, timeout=30, what="the runs")  # type: ignore[attr-defined]
        assert len(app.screen.table_rows()) == 3  # type: ignore[attr-defined]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CompareRunsScreen))
