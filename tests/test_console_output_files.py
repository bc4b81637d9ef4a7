"""A job's output files in the console (issue 11, item 5): the job expands in the tree to the files
`bai job file list` lists, with size and time; Enter shows one in the log pane, f downloads it."""

from __future__ import annotations

from pathlib import Path

from tests import test_console as base
from tests.test_console import go_to, labels, make_app, notices, until
from tests.tutorial_resources import CLUSTER, EXPERIMENT, GROUP, WORKSPACE
from tui.console.widgets.dialogs import FormDialog
from tui.console.widgets.live_log import LiveLog
from tui.core.model import JobRef

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


async def finished_job(backend, name: str = "hello") -> JobRef:  # type: ignore[no-untyped-def]
    from tui.core.jobspec import parse_job_spec

    spec = parse_job_spec(
        {
            "properties": {
                "nodeCount": 1,
                "customToolkitSettings": {"commandLine": "echo hello from the job; echo a warning >&2"},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
            }
        }
    )
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, name)
    await backend.jobs.create(ref, CLUSTER, spec)
    final = await backend.jobs.wait(ref, poll_interval=0.2, timeout=90)
    assert final.execution_state.value == "succeeded", final
    return ref


async def test_a_job_lists_views_and_downloads_its_output_files(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref = await finished_job(backend)
    listed = {entry.name: entry for entry in await backend.jobs.list_output_files(ref)}  # bai job file list
    assert {"stdout.txt", "stderr.txt"} <= set(listed)
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT, "hello")
        await pilot.press("right")
        await until(pilot, lambda: any(t.startswith("stdout.txt") for t in labels(app)), what="the files")
        shown = {text.split()[0]: text for text in labels(app) if text.split()[0] in listed}
        assert set(shown) == set(listed)  # the same files as bai job file list
        stdout_label = shown["stdout.txt"]
        assert f"{listed['stdout.txt'].size} B" in stdout_label  # size
        assert stdout_label.split()[-1].count(":") == 2  # and time (hh:mm:ss today)
        await go_to(pilot, app, "stderr.txt")  # the files are in name order, as bai job file list has them
        details = str(app.screen.pane_details.render())  # type: ignore[attr-defined]
        assert "output file: stderr.txt of job hello" in details
        await pilot.press("enter")
        log = app.screen.query_one(LiveLog)
        assert app.screen.query_one("#tabs").active == "log"
        await until(pilot, lambda: log.file_name == "stderr.txt", what="stderr.txt opened")
        await until(pilot, lambda: "a warning" in "\n".join(log.text.lines), what="stderr.txt shown")
        assert "stderr.txt" in log.title_text()
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), what="the download dialog")
        destination = tmp_path / "saved-stderr.txt"
        field = app.screen.query_one("#field-destination")
        assert field.value.endswith("stderr.txt")  # type: ignore[attr-defined]
        field.value = str(destination)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, destination.exists, timeout=30, what="the download")
        assert destination.read_text() == "a warning\n"
        await until(pilot, lambda: any("Saved" in n for n in notices(app)))
        await go_to(pilot, app, "stdout.txt")
        await pilot.press("enter")
        await until(pilot, lambda: "hello from the job" in "\n".join(log.text.lines), what="stdout shown")
        assert log.file_name == "stdout.txt"
