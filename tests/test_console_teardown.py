"""The console closing while the job form is still mounting or checking must not raise.

Seen in CI under load (2 cores busy): a test that quit the app about when the job form mounts failed with
`NoMatches('#label' on SelectCurrent)` from Textual's Select mounting into a screen being torn down, and a
late validation failed with `NoMatches('#e-target-resource-group')` after the form's fields were removed.
On a user's screen either would be a traceback at exit. Teardown removes a form's children before the form,
which is what these tests do by hand, deterministically.
"""

from __future__ import annotations

import asyncio

import pytest

from tests import test_console as base
from tests.test_console import SIZE, job_form, make_app
from tui.console.widgets.job_form import JobForm
from tui.core.errors import FieldError

home = base.home  # the fixtures: a temporary BAI_HOME and a local backend on it
backend = base.backend


@pytest.mark.parametrize(
    "removed",
    [
        "VerticalScroll",  # every field at once
        # CI again: teardown had removed some of the form's labels but not yet the toolkit choice, which is
        # what the form looked at to tell a closing console, so a late check still failed on a missing label.
        "#e-target-resource-group",
        "#f-target-resource-group",  # the check an edit schedules reads every field
    ],
)
async def test_a_late_check_and_its_errors_are_dropped_once_fields_are_gone(backend, removed: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        form: JobForm = await job_form(pilot, app)
        await form.query_one(removed).remove()
        form.show_errors([FieldError("properties.nodeCount", "must be 1 or more")])
        form.validate_now()
        await pilot.pause(0.5)  # the check runs in a thread and reports back through the app
    assert app.return_code in (None, 0)


@pytest.mark.parametrize("turns", [0, 1, 2, 3, 5, 8, 13, 21, 34])
async def test_quitting_while_the_job_form_mounts_is_a_clean_exit(backend, turns: int) -> None:  # type: ignore[no-untyped-def]
    """CI once more: a test quit just as the job form mounted, and Textual's own Select, mounting into a
    screen being torn down, raised NoMatches('SelectOverlay'). Whatever a widget is doing, the console's
    teardown must not turn into a crash report. The form is mounted lazily, just after the first paint:
    each case quits a few event-loop turns after the start, some before that mount, some during it."""
    app = make_app(backend, job_path=None)
    async with app.run_test(size=SIZE):
        for _ in range(turns):
            await asyncio.sleep(0)
    assert app.return_code in (None, 0)
    assert app.crash_log.file() is None  # nothing reported


async def test_a_ready_note_from_a_form_removed_since_is_ignored(backend) -> None:  # type: ignore[no-untyped-def]
    """Under load the form's "ready" note was still queued when the form went away; what waited for a
    form (the tree's selection, filled into the target fields) then ran on the removed one and failed."""
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        form: JobForm = await job_form(pilot, app)
        await form.remove()
        app.main.with_form(lambda f: f.prefill_target(resource_group="demo"))
        app.main.post_message(JobForm.Ready(form))
        await pilot.pause(0.2)
        assert app.return_code is None  # still running, nothing reported
    assert app.return_code in (None, 0)
