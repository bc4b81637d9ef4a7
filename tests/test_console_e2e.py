"""End to end, as the tutorial goes, from the console: job.json into the form, a real 2-worker Horovod job
on the local backend (test-made CIFAR-10 data, 2 epochs), and the live log's rows and chart filling up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.tutorial_resources import (
    ACCOUNT,
    CLUSTER,
    EXPERIMENT,
    GROUP,
    WORKSPACE,
    create_tutorial_resources,
    write_tutorial_job,
)
from tui.backends import open_backend
from tui.console.app import BaiApp
from tui.console.widgets.job_form import JobForm
from tui.console.widgets.live_log import LiveLog
from tui.core.model import ExecutionState, JobRef

EPOCHS = 2


@pytest.mark.slow
async def test_submit_a_two_worker_job_and_watch_it_train(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAI_HOME", str(tmp_path / "home"))
    backend = open_backend("local")
    await create_tutorial_resources(backend, tmp_path, train_per_batch=30, test_images=32)

    app = BaiApp(
        backend,
        job_path=write_tutorial_job(tmp_path / "job.json", EPOCHS, train_images=128, test_images=32),
        poll_seconds=0.5,
        node_poll_seconds=0.5,
        remember_theme=False,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        loop = asyncio.get_running_loop()

        async def until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
            deadline = loop.time() + timeout
            while not condition():
                if loop.time() > deadline:
                    raise AssertionError(f"timed out waiting for {what}")
                await pilot.pause(0.2)

        await until(
            lambda: app.query(JobForm) and app.query_one(JobForm).path is not None, 20, "the job.json"
        )
        form = app.query_one(JobForm)
        assert form._value("node_count") == "2"
        for name, value in (
            ("resource_group", GROUP),
            ("workspace", WORKSPACE),
            ("experiment", EXPERIMENT),
            ("cluster", CLUSTER),
            ("name", "cifar_distributed"),
            ("storage_account", ACCOUNT),
        ):
            form.set_value(f"target.{name}", value)
        await pilot.press("s")
        await until(
            lambda: (
                app.tree.cursor_node is not None and app.tree.cursor_node.data.name == "cifar_distributed"
            ),
            30,
            "the new job selected in the tree",
        )
        log = app.query_one(LiveLog)
        assert app.query_one("#tabs").active == "log"

        def trained() -> bool:
            ranks = log.stream.ranks
            workers = [ranks.get(name) for name in ("0", "1")]
            return all(w is not None and w.epoch == EPOCHS and len(w.history) == EPOCHS for w in workers)

        await until(trained, 400, "both workers to finish the last epoch")
        await until(lambda: log.query_one("#chart").filled_epochs == EPOCHS, 10, "the chart to fill")
        rows = log.query_one("#progress").row_texts()
        assert [row.split()[0] for row in rows] == ["w0", "w1"]
        assert all(f"ep {EPOCHS}/{EPOCHS}" in row for row in rows), rows
        assert all("loss " in row and "acc " in row for row in rows)
        await until(lambda: log.finished, 120, "the end of stdout.txt")
        job = await backend.jobs.wait(JobRef(GROUP, WORKSPACE, EXPERIMENT, "cifar_distributed"), 0.5, 120)
        assert job.execution_state is ExecutionState.SUCCEEDED
        await until(lambda: "succeeded" in str(app.tree.cursor_node.label), 20, "the tree to show succeeded")
        assert log.stream.test is not None and log.stream.test.accuracy is not None
        # Opened again on the finished job (Enter on it): the same rows and chart, from the file alone.
        await pilot.press("enter")
        await until(
            lambda: log.finished and log.query_one("#chart").filled_epochs == EPOCHS, 60, "the replay"
        )
        progress = log.query_one("#progress")
        await until(
            lambda: (
                len(progress.row_texts()) == 2
                and all(f"ep {EPOCHS}/{EPOCHS}" in row for row in progress.row_texts())
            ),
            20,
            "the replayed rows drawn",
        )
        replayed = progress.row_texts()
        assert len(replayed) == 2 and all(f"ep {EPOCHS}/{EPOCHS}" in row for row in replayed), replayed
        assert "succeeded" in log.title_text() and "end of file" in log.title_text()
        app.save_screenshot("console-live-log.svg", str(tmp_path))
        (tmp_path / "rows.txt").write_text("\n".join(rows))
    await backend.close()
