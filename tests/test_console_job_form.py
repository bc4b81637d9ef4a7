"""The job form on its own (issue 11, items 8 and 10): a refused submit scrolls the field with the problem
into view, even inside the advanced fold at 80x24, and the form shows which field has the cursor."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label

from tests import test_console as base
from tui.console.widgets import job_form
from tui.console.widgets.job_form import JobForm

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend

TUTORIAL_JOB = json.loads((Path(__file__).parent / "data/jobs/tutorial-job.json").read_text())
DEADLINE = 30.0  # seconds; only reached when something is broken


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


async def until(pilot, condition: Callable[[], object], what: str) -> None:  # type: ignore[no-untyped-def]
    """Drive the app until `condition()` holds (a loaded machine lays out and checks later)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def status(form: JobForm) -> str:
    return str(form.query_one("#form-status").render())


def marks(form: JobForm, name: str) -> str:
    """The message shown under a field ('' when none)."""
    return str(form.query_one(f"#e-{name.replace('_', '-').replace('.', '-')}").render())


def fill_target(form: JobForm) -> None:
    for name, value in (("resource_group", "rg"), ("workspace", "ws"), ("experiment", "exp"),
                        ("cluster", "c"), ("name", "job1")):  # fmt: skip
        form.set_value(f"target.{name}", value)


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
        fill_target(form)
        await until(pilot, lambda: status(form) == "✔ ready to submit", "the form's own check")
        fold = form.query_one("#advanced-fold")
        assert fold.collapsed  # type: ignore[attr-defined]
        # A bad value typed and submitted at once, before the form's check marks it: the fold opens on submit
        form.set_value("max_wall_clock_time", "forever")
        assert form.request_submit() is False
        await until(pilot, lambda: on_screen(form, "max_wall_clock_time"), "the field in view")
        assert app.focused is form._widget("max_wall_clock_time")
        scroll = form.query_one(VerticalScroll)
        where = (form._widget("max_wall_clock_time").region, scroll.region, scroll.scroll_y)
        assert on_screen(form, "max_wall_clock_time"), where


async def test_a_late_check_of_older_values_leaves_the_refused_field_marked_and_in_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a loaded machine the form's background check of the values from before the bad one came back after
    the refused submit: it unmarked the field ('ready to submit'), and when the newer check marked it again
    the longer status line pushed the field a row below the view. Here the checks are held at gates, so the
    older one lands after the submit on any machine."""
    older, newer = threading.Event(), threading.Event()  # gates: a check of values without / with 'forever'
    started: list[str] = []
    real = job_form.check_document

    def held(document: dict[str, Any]) -> Any:
        if threading.current_thread() is not threading.main_thread():  # the background check, not Submit's
            bad = "forever" in json.dumps(document)
            started.append("newer" if bad else "older")
            assert (newer if bad else older).wait(DEADLINE)
        return real(document)

    monkeypatch.setattr(job_form, "check_document", held)
    older.set()
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await ready_form(pilot)
        form.load_document(TUTORIAL_JOB)
        fill_target(form)
        await until(pilot, lambda: status(form) == "✔ ready to submit", "the form's own check")
        older.clear()
        started.clear()
        form.set_value("target.name", "job2")  # an edit: its check is held
        await until(pilot, lambda: started == ["older"], "the check of the edit")
        checking = [w for w in app.workers if w.group == "job-form-validate" and not w.is_finished]
        assert len(checking) == 1
        form.set_value("max_wall_clock_time", "forever")
        assert form.request_submit() is False
        shown = marks(form, "max_wall_clock_time")
        assert shown.startswith("✘ ") and "forever" in shown, shown
        older.set()  # the older check lands now, after the submit
        await until(pilot, lambda: checking[0].is_finished, "the older check")
        assert marks(form, "max_wall_clock_time") == shown  # still marked
        assert status(form).startswith("✘ 1 problem(s); first: Max wall clock"), status(form)
        await until(pilot, lambda: "newer" in started, "the newer check")
        newer.set()
        await until(
            pilot,
            lambda: all(w.is_finished for w in app.workers if w.group == "job-form-validate"),
            "the newer check",
        )
        assert marks(form, "max_wall_clock_time") == shown
        assert app.focused is form._widget("max_wall_clock_time")
        await until(pilot, lambda: on_screen(form, "max_wall_clock_time"), "the field in view")


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
