"""What the service (or `bai job create`) warns about at submission reaches the console's user too.

`bai job create` prints a `bai: warning:` line for every job.json field the service ignored (legacy fields
such as `priority`) and for each of the job's warnings (the local backend skipping jobPreparation, ignoring
containerSettings); the console's submit showed none of them, so a console user never learned that the
tutorial's `apt install ...` job preparation did not run. They go to the job's details (a notice says so
in one line: at 80x24 a toast per warning covered the log).
"""

from __future__ import annotations

from pathlib import Path

from tests import test_console as base
from tests.test_console import (
    ACCOUNT,
    CLUSTER,
    EXPERIMENT,
    GROUP,
    SIZE,
    WORKSPACE,
    go_to,
    job_form,
    make_app,
    notices,
    until,
    write_job,
)

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


def warned_job_document() -> dict:
    """The tutorial's job.json shape with a legacy field (priority) and fields the local backend ignores."""
    return {
        "properties": {
            "nodeCount": 1,
            "priority": "high",
            "customToolkitSettings": {"commandLine": "echo hello"},
            "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/logs",
            "mountVolumes": {
                "azureFileShares": [
                    {
                        "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/myshare",
                        "relativeMountPath": "myshare",
                    }
                ]
            },
            "jobPreparation": {"commandLine": "apt update; pip install keras horovod"},
            "containerSettings": {"imageSourceRegistry": {"image": "tensorflow/tensorflow:1.8.0-gpu"}},
        }
    }


async def test_submit_shows_ignored_fields_and_the_jobs_warnings(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend, job_path=write_job(tmp_path, warned_job_document()))
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT)
        await pilot.press("down")  # the cluster: fills the form's cluster field
        form = await job_form(pilot, app)
        await until(pilot, lambda: form._value("target.cluster") == CLUSTER)
        form.set_value("target.name", "warned")
        form.set_value("target.storage_account", ACCOUNT)
        await pilot.press("s")
        await until(pilot, lambda: any("submitted" in notice for notice in notices(app)), what="the submit")
        await until(pilot, lambda: app.main.open_job_ref is not None, what="the job selected")
        await pilot.press(
            "1"
        )  # in full in the job's details, under the node table (one short notice said so)
        assert any("3 warning(s): see the job's details" in notice for notice in notices(app))
        said = str(app.main.pane_details.render())
        assert "properties.priority: ignored" in said and "schedulingPriority" in said
        assert "jobPreparation skipped" in said
        assert "containerSettings ignored" in said
