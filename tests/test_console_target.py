"""The job form's target follows the tree (issue 10 item 2): with groups aaa-dev and zzz-prod, each holding
ws1/cifar/cl, opening zzz-prod, selecting its cluster and pressing 2 showed aaa-dev (filled in when the
console opened) and the job was created there, silently. Now each target field follows the tree's selection
until the user edits it, and a submit whose target differs from what the tree shows asks first, naming it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests import test_console as base
from tests.test_console import SIZE, go_to, job_form, make_app, until, write_job
from tui.backends import open_backend
from tui.console.widgets.dialogs import ConfirmDialog
from tui.core.model import ClusterRef, ExperimentRef

home = base.home  # the fixture: a temporary BAI_HOME
GROUPS = ("aaa-dev", "zzz-prod")
DOCUMENT = {
    "properties": {
        "nodeCount": 1,
        "customToolkitSettings": {"commandLine": "echo where am I"},
        "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/logs",
        "mountVolumes": {
            "azureFileShares": [
                {
                    "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/myshare",
                    "relativeMountPath": "myshare",
                }
            ]
        },
    }
}


@pytest.fixture
async def two_groups(home: Path) -> AsyncIterator[object]:
    backend = open_backend("local")
    for group in GROUPS:
        await backend.groups.create(group, "eastus")
        await backend.workspaces.create(group, "ws1")
        await backend.experiments.create(ExperimentRef(group, "ws1", "cifar"))
        await backend.clusters.create(ClusterRef(group, "ws1", "cl"), "Standard_NC6", 1)
    await backend.storage.create_account("aaa-dev", "acct1", "eastus")
    await backend.storage.create_share("acct1", "myshare")
    yield backend
    await backend.close()


def target(form) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    return tuple(
        form._value(f"target.{name}") for name in ("resource_group", "workspace", "experiment", "cluster")
    )


async def test_the_form_follows_the_tree_to_the_other_group(two_groups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(two_groups, job_path=write_job(tmp_path, DOCUMENT))
    async with app.run_test(size=SIZE) as pilot:
        form = await job_form(pilot, app)
        await go_to(pilot, app, "aaa-dev", "ws1", "cifar")
        await until(pilot, lambda: target(form) == ("aaa-dev", "ws1", "cifar", ""), what="aaa-dev's target")
        await pilot.press("left", "left")  # back up to the group
        await go_to(pilot, app, "zzz-prod", "ws1", "cl")
        await pilot.press("2")
        await until(pilot, lambda: target(form)[0] == "zzz-prod", what="the form to follow to zzz-prod")
        assert target(form) == ("zzz-prod", "ws1", "cifar", "cl")


async def test_a_typed_target_stays_and_a_submit_elsewhere_asks_first(two_groups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backend = two_groups
    app = make_app(backend, job_path=write_job(tmp_path, DOCUMENT))
    async with app.run_test(size=SIZE) as pilot:
        form = await job_form(pilot, app)
        await go_to(pilot, app, "aaa-dev", "ws1", "cifar")
        await until(pilot, lambda: target(form)[:3] == ("aaa-dev", "ws1", "cifar"), what="the target")
        await pilot.press("2")
        field = form._widget("target.cluster")
        field.focus()
        await pilot.press(*"cl")  # typed by the user: it stays whatever the tree shows next
        await pilot.press("escape")
        form._widget("target.name").focus()
        await pilot.press(*"j1", "escape")
        form._widget("target.storage_account").focus()
        await pilot.press(*"acct1", "escape")
        await pilot.press("left", "left")
        await go_to(pilot, app, "zzz-prod", "ws1", "cl")
        await until(pilot, lambda: target(form)[0] == "zzz-prod", what="the untouched group to follow")
        form._widget("target.resource_group").focus()
        await pilot.press("end", *["backspace"] * len("zzz-prod"), *"aaa-dev", "escape")  # the user's too
        assert target(form) == ("aaa-dev", "ws1", "cifar", "cl")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="a question before submitting")
        question = str(app.screen.query_one("#question").render())
        assert "aaa-dev/ws1/cifar" in question and "cl" in question and "zzz-prod" in question
        await pilot.press("n")
        for group in GROUPS:
            assert await backend.jobs.list(group, "ws1", "cifar") == []
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question again")
        await pilot.press("y")

        for _ in range(600):  # the submit runs in a worker: poll the backend for the job
            if [job.name for job in await backend.jobs.list("aaa-dev", "ws1", "cifar")] == ["j1"]:
                break
            await pilot.pause(0.05)
        else:
            raise AssertionError("j1 was not created in aaa-dev")
        assert await backend.jobs.list("zzz-prod", "ws1", "cifar") == []
