"""The console closing while the job form is still mounting or checking must not raise.

Seen in CI under load (2 cores busy): a test that quit the app about when the job form mounts failed with
`NoMatches('#label' on SelectCurrent)` from Textual's Select mounting into a screen being torn down, and a
late validation failed with `NoMatches('#e-target-resource-group')` after the form's fields were removed.
On a user's screen either would be a traceback at exit. Teardown removes a form's children before the form,
which is what these tests do by hand, deterministically.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets._select import SelectCurrent

from tests import test_console as base
from tests.test_console import SIZE, job_form, make_app
from tui.services.base import FieldError
from tui.widgets.job_form import JobForm

home = base.home  # the fixtures: a temporary BAI_HOME and a local backend on it
backend = base.backend


async def test_errors_arriving_after_the_fields_were_removed_are_dropped(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        form: JobForm = await job_form(pilot, app)
        await form.query_one(VerticalScroll).remove()
        form.show_errors([FieldError("properties.nodeCount", "must be 1 or more")])
        form.validate_now()
        await pilot.pause(0.5)  # the check runs in a thread and reports back through the app
    assert app.return_code in (None, 0)


async def test_toolkit_choice_set_while_its_label_is_gone_does_not_raise(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        form: JobForm = await job_form(pilot, app)
        select = form.query_one("#f-toolkit")
        await select.query_one(SelectCurrent).query_one("#label").remove()
        select.value = "customToolkit"
        await pilot.pause(0.1)
    assert app.return_code in (None, 0)


async def test_errors_arriving_while_teardown_is_half_done_are_dropped(backend) -> None:  # type: ignore[no-untyped-def]
    """CI again: teardown had removed some of the form's labels but not yet the toolkit choice, which is
    what the form looked at to tell a closing console, so a late check still failed on a missing label."""
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        form: JobForm = await job_form(pilot, app)
        await form.query_one("#e-target-resource-group").remove()
        form.show_errors([FieldError("properties.nodeCount", "must be 1 or more")])
        form.validate_now()
        await pilot.pause(0.5)  # the check runs in a thread and reports back through the app
    assert app.return_code in (None, 0)


async def test_a_check_due_while_teardown_is_half_done_is_dropped(backend) -> None:  # type: ignore[no-untyped-def]
    """The check an edit schedules reads every field: one already removed must not end in a traceback."""
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        form: JobForm = await job_form(pilot, app)
        await form.query_one("#f-target-resource-group").remove()
        form.validate_now()
        await pilot.pause(0.5)
    assert app.return_code in (None, 0)
