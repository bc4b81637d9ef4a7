"""The job form on its own (issue 11, items 8 and 10): a refused submit scrolls the field with the problem
into view, even inside the advanced fold at 80x24, and the form shows which field has the cursor."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label

from tests import test_console as base
from tui.console.widgets.job_form import JobForm

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend

TUTORIAL_JOB = json.loads((Path(__file__).parent / "data/jobs/tutorial-job.json").read_text())


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield JobForm(id="form")


async def ready_form(pilot) -> JobForm:  # type: ignore[no-untyped-def]
    form = pilot.app.query_one(JobForm)
    for _ in range(200):
        if form.is_ready:
            return form
        await pilot.pause(0.02)
    raise AssertionError("the form never became ready")


def on_screen(form: JobForm, name: str) -> bool:
    """True when the field's row lies inside the form's scrolled view (what the user can see)."""
    widget = form._widget(name)
    scroll = form.query_one(VerticalScroll)
    region = widget.region
    return region.height > 0 and scroll.region.contains_region(region)


async def test_a_refused_submit_scrolls_the_advanced_field_into_view() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await ready_form(pilot)
        form.load_document(TUTORIAL_JOB)
        for name, value in (("resource_group", "rg"), ("workspace", "ws"), ("experiment", "exp"),
                            ("cluster", "c"), ("name", "job1")):  # fmt: skip
            form.set_value(f"target.{name}", value)
        await pilot.pause(0.6)  # the form's own check has run: nothing to show
        fold = form.query_one("#advanced-fold")
        assert fold.collapsed  # type: ignore[attr-defined]
        # A bad value typed and submitted at once, before the form's check marks it: the fold opens on submit
        form.set_value("max_wall_clock_time", "forever")
        assert form.request_submit() is False
        for _ in range(100):
            if on_screen(form, "max_wall_clock_time"):
                break
            await pilot.pause(0.02)
        assert app.focused is form._widget("max_wall_clock_time")
        scroll = form.query_one(VerticalScroll)
        where = (form._widget("max_wall_clock_time").region, scroll.region, scroll.scroll_y)
        assert on_screen(form, "max_wall_clock_time"), where


async def test_the_field_with_the_cursor_is_marked() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await ready_form(pilot)
        node_count = form._widget("node_count")
        node_count.focus()
        await pilot.pause()
        marked = [label for label in form.query(Label) if label.has_class("-current")]
        assert [str(label.content) for label in marked] == ["Node count"]
        other = form._widget("script")
        assert isinstance(other, Input)
        assert node_count.styles.background != other.styles.background  # the field itself stands out
        other.focus()
        await pilot.pause()
        marked = [str(label.content) for label in form.query(Label) if label.has_class("-current")]
        assert marked == ["Script / command"]


async def test_job_json_gets_the_only_group_workspace_experiment_cluster(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`bai --job job.json` with one of each in the state: the form is ready to submit without typing."""
    from tests.test_console import job_form, make_app, until, write_job
    from tests.tutorial_resources import ACCOUNT, CLUSTER, EXPERIMENT, GROUP, WORKSPACE

    app = make_app(backend, job_path=write_job(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        form = await job_form(pilot, app)
        await until(pilot, lambda: form._value("target.cluster") == CLUSTER, timeout=20, what="the cluster")
        target, errors = form.target()
        assert (target.resource_group, target.workspace, target.experiment, target.cluster) == (
            GROUP,
            WORKSPACE,
            EXPERIMENT,
            CLUSTER,
        )
        assert target.storage_account == ACCOUNT
        assert [error.path for error in errors] == ["target.name"]  # only the job's own name is left
