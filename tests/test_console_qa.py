"""Bugs found by driving the console in a real terminal (tmux) with the keyboard only, as pinned tests.

Each test replays what a user did at 80x24 and checks what they would then see.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from tests import test_console as base
from tests.test_console import (
    ACCOUNT,
    CLUSTER,
    EXPERIMENT,
    GROUP,
    TUTORIAL_JOB,
    WORKSPACE,
    go_to,
    job_form,
    make_app,
    until,
)
from tui.console.widgets.dialogs import FormDialog
from tui.console.widgets.job_form import JobForm

SMALL = (80, 24)
home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


async def focus_a_form_field(pilot, app) -> Input:  # type: ignore[no-untyped-def]
    """The Job tab up and the cursor in the job name field, as when the user is typing in the form."""
    await pilot.press("2")
    form = await job_form(pilot, app)
    field = form.query_one("#f-target-name", Input)
    field.focus()
    await until(pilot, lambda: app.focused is field, what="the form field to have focus")
    return field


async def test_tab_keys_work_while_the_job_form_has_focus(backend) -> None:  # type: ignore[no-untyped-def]
    """Typing in the form, then choosing "Show live log" left the Job tab up: the tab bounced back."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await focus_a_form_field(pilot, app)
        for tab in ("log", "nodes"):
            app.main.action_show_tab(tab)
            # On a busy machine the switch may take a while; once there, it must stay (it bounced back).
            await until(pilot, lambda tab=tab: app.main.pane_tabs.active == tab, what=f"the {tab} tab")
            await pilot.pause(0.2)
            assert app.main.pane_tabs.active == tab


async def test_escape_leaves_a_job_form_field_so_letter_keys_act_again(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """In a form field, s typed an "s" and Escape did nothing: there was no keyboard way to submit."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        form = await job_form(pilot, app)
        field = form.query_one("#f-target-name", Input)
        field.focus()
        await pilot.press("j", "1")
        assert field.value == "j1"
        await pilot.press("escape")
        assert not isinstance(app.focused, Input)
        await pilot.press("3")
        assert app.main.pane_tabs.active == "log"
        assert field.value == "j1"


async def test_submit_from_the_form_opens_the_live_log(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Submitting while a form field had focus left the Job tab up instead of showing the new job's log."""
    document = json.loads(json.dumps(TUTORIAL_JOB))
    document["properties"]["nodeCount"] = 1
    document["properties"].pop("horovodSettings")
    document["properties"]["customToolkitSettings"] = {"commandLine": "echo hello from the job"}
    path = tmp_path / "job.json"
    path.write_text(json.dumps(document))
    app = make_app(backend, job_path=path)
    async with app.run_test(size=SMALL) as pilot:
        form = await job_form(pilot, app)
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT)
        form.set_value("target.cluster", CLUSTER)
        form.set_value("target.storage_account", ACCOUNT)
        field = form.query_one("#f-target-name", Input)
        field.focus()
        field.value = "qa-submit"
        await pilot.pause(0.1)
        app.main.action_submit()
        await until(pilot, lambda: app.main.open_job_ref is not None, what="the job's log opened")
        await until(pilot, lambda: app.main.pane_tabs.active == "log", what="the log tab")
        await pilot.pause(0.3)
        assert app.main.pane_tabs.active == "log"  # and it stays there


async def test_node_counts_fit_at_80_columns(backend) -> None:  # type: ignore[no-untyped-def]
    """At 80x24 (and 100x30) the table was cut after Idle: Running..Unusable could not be seen."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await until(pilot, lambda: CLUSTER in app.nodes.clusters, what="the cluster row")
        await pilot.pause(0.2)
        table = app.nodes.query_one(DataTable)
        for size in (SMALL, (100, 30), SMALL):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.3)
            shown = table.scrollable_content_region.width
            right = 0
            for column in table.ordered_columns:
                right += column.get_render_width(table)
                if str(column.key.value) == "unusable":
                    break
            assert right <= shown, (size, [str(c.label) for c in table.ordered_columns])
            assert app.nodes.cell(CLUSTER, "idle") == "2"
            assert app.nodes.cell(CLUSTER, "vm_size") == "Standard_NC6"  # still there, further right
        await pilot.resize_terminal(200, 50)
        await pilot.pause(0.3)
        labels = [str(column.label) for column in table.ordered_columns]
        assert labels[:3] == ["Name", "VM size", "Priority"] and labels[-1] == "Unusable"  # az's order


async def test_dialog_focus_starts_on_the_first_empty_field(backend) -> None:  # type: ignore[no-untyped-def]
    """With the group selected, w put the cursor in the prefilled group field: typing the name replaced it."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), what="the dialog")
        name = app.screen.query_one("#field-name", Input)
        await until(pilot, lambda: app.focused is name, what="the name field to have focus")
        await pilot.press(*"ws2")
        assert app.screen.query_one("#field-group", Input).value == GROUP


async def test_cluster_dialog_fits_at_80x24(backend) -> None:  # type: ignore[no-untyped-def]
    """The six-field cluster dialog ran off an 80x24 screen: Target nodes and Create could not be seen."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), what="the dialog")
        dialog = app.screen
        ok = dialog.query_one("#ok")
        target = dialog.query_one("#field-target")
        await until(
            pilot, lambda: ok.region.height > 0 and target.region.height > 0, what="the dialog laid out"
        )
        assert ok.region.bottom <= SMALL[1] and ok.region.height > 0
        assert target.region.height > 0 and target.region.bottom <= SMALL[1]


async def test_footer_shows_help_and_quit_at_80_columns(backend) -> None:  # type: ignore[no-untyped-def]
    """At 80 columns the footer stopped after "d": neither ? (keys) nor q (quit) could be seen."""
    from textual.widgets import Footer

    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        footer = app.query_one(Footer)

        def drawn() -> bool:  # the footer is recomposed once the bindings settle: wait for that, not a pause
            shown = {item.key for item in footer.query("FooterKey") if item.region.width}
            return {"q", "question_mark"} <= shown

        await until(pilot, drawn, what="the footer's keys")
        await pilot.pause(0.1)
        keys = [item for item in footer.query("FooterKey")]
        assert keys, "no footer keys"
        palette = [item for item in keys if item.key == "ctrl+p"]
        edge = palette[0].region.x if palette else SMALL[0]
        for item in keys:
            if item not in palette:
                assert item.region.right <= edge, (item.description, item.region, edge)
        assert any(item.key == "q" for item in keys)
        assert any(item.key == "question_mark" for item in keys)


async def test_form_is_usable_to_submit_without_leaving_it(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The footer shows a key that submits while a form field has focus."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        form: JobForm = await job_form(pilot, app)
        form.query_one("#f-target-name", Input).focus()

        def shown() -> set[str]:
            active = app.active_bindings.values()
            return {binding.key for (_node, binding, _enabled, _tip) in active if binding.show}

        await until(pilot, lambda: "escape" in shown(), what="the Escape key in the footer")


async def test_a_refused_submit_names_the_first_problem_and_shows_its_field(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """At 80x24 the status said "1 problem(s): see the marked fields" with the marked field out of sight."""
    path = tmp_path / "job.json"
    path.write_text(json.dumps(TUTORIAL_JOB))  # the share URL needs a storage account: none given
    app = make_app(backend, job_path=path)
    async with app.run_test(size=SMALL) as pilot:
        form = await job_form(pilot, app)
        for name, value in (
            ("target.resource_group", GROUP),
            ("target.workspace", WORKSPACE),
            ("target.experiment", EXPERIMENT),
            ("target.cluster", CLUSTER),
            ("target.name", "no-account"),
        ):
            form.set_value(name, value)
        # The form fills the only storage account there is; this user has cleared it.
        await until(pilot, lambda: form._value("target.storage_account") == ACCOUNT, what="the prefill")
        form.set_value("target.storage_account", "")
        await pilot.pause(0.1)
        await pilot.press("s")
        status = form.query_one("#form-status")
        # The share URL's <AZURE_BATCHAI_STORAGE_ACCOUNT> is filled from the Storage account field (or
        # AZURE_BATCHAI_STORAGE_ACCOUNT): that field is the one marked (issue 9).
        await until(pilot, lambda: "Storage account" in str(status.render()), what="the first problem named")
        shares = form.query_one("#f-target-storage-account")
        scroller = form.query_one("VerticalScroll")
        await until(
            pilot, lambda: scroller.region.contains_region(shares.region), what="the field scrolled into view"
        )
        assert scroller.region.contains_region(shares.region), (shares.region, scroller.region)
        assert app.focused is shares


async def test_a_following_log_still_shows_its_end_after_the_terminal_shrinks(backend) -> None:  # type: ignore[no-untyped-def]
    """200x50 -> 100x30 on a finished run: the log sat at its top although the title said "following"."""
    from tests.test_console import file_source
    from tui.console.widgets.live_log import LiveLog

    sample = Path(__file__).parent / "data" / "logs" / "horovodrun-np2-sample.log"
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        log = app.query_one(LiveLog)
        log.open_source(file_source(sample), "job sample", "succeeded")
        await pilot.press("3")
        await until(pilot, lambda: log.finished, what="the whole file")
        await pilot.pause(0.3)
        for size in ((100, 30), SMALL, (200, 50), SMALL):
            await pilot.resize_terminal(*size)
            text = log.text
            await until(
                pilot,
                lambda size=size, text=text: (
                    text.size.width <= size[0]
                    and (text.max_scroll_y > 0 or size == (200, 50))
                    and text.scroll_y == text.max_scroll_y
                ),
                what=f"the log at its end at {size}",
            )
            assert log.following
            assert log.text.max_scroll_y > 0 or size == (200, 50)
            assert log.text.scroll_y == log.text.max_scroll_y, size


async def test_the_log_title_is_never_cut_at_80_columns(backend) -> None:  # type: ignore[no-untyped-def]
    """A failed run's title ended "failed · ✘" at 80 columns: which worker failed, and how, was cut off."""
    from tests.test_console import file_source
    from tui.console.widgets.live_log import LiveLog

    sample = Path(__file__).parent / "data" / "logs" / "np2-failing-rank.log"
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        log = app.query_one(LiveLog)
        log.open_source(file_source(sample), "job cifar_distributed_fails", "failed")
        await pilot.press("3")
        await until(pilot, lambda: log.finished, what="the whole file")
        await until(pilot, lambda: "worker 1 exit" in log.title_text(), what="the failed worker in the title")
        await pilot.pause(0.1)
        text = log.title_text()
        assert "worker 1 exit" in text, text
        title = log.query_one("#log-title")
        lines = [line.text.rstrip() for line in title.render_lines(title.region.reset_offset)]
        assert "worker 1 exit" in " ".join(lines), lines


async def test_the_open_log_follows_its_job_to_the_end_after_terminate(backend) -> None:  # type: ignore[no-untyped-def]
    """After t + y the tree said failed but the log's title said "running" for good."""
    from tui.console.widgets.live_log import LiveLog
    from tui.core.jobspec import parse_job_spec
    from tui.core.model import JobRef

    spec = parse_job_spec(
        {
            "properties": {
                "nodeCount": 1,
                "customToolkitSettings": {"commandLine": "echo tick; sleep 120"},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
            }
        }
    )
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, "stopme")
    await backend.jobs.create(ref, CLUSTER, spec)
    app = make_app(backend, poll_seconds=2.0)  # the tree's reload after t must win over the job poller
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT, "stopme")
        await until(pilot, lambda: "running" in str(app.tree.cursor_node.label), timeout=30, what="running")
        await pilot.press("enter")
        log = app.query_one(LiveLog)
        await until(pilot, lambda: log.job_state == "running", what="the log on the running job")
        await pilot.press("t", "y")
        final = await backend.jobs.wait(ref, poll_interval=0.2, timeout=60)
        state = final.execution_state.value
        await until(pilot, lambda: state in str(app.tree.cursor_node.label), timeout=15, what="tree final")
        await until(pilot, lambda: log.job_state == state, timeout=15, what=f"the log's title to say {state}")


async def test_deleting_the_group_clears_the_node_table_and_details(backend) -> None:  # type: ignore[no-untyped-def]
    """After d + y on the group the table kept the dead cluster and said "create it with bai group create"."""
    from textual.widgets import Static

    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await until(pilot, lambda: CLUSTER in app.nodes.clusters, what="the cluster row")
        await pilot.press("home")
        await pilot.pause(0.1)
        await pilot.press("d", "y")
        await until(pilot, lambda: "press g" in str(app.tree.root.children[0].label), what="empty")
        await pilot.pause(0.8)  # a few node polls
        hint = str(app.nodes.query_one("#nodes-hint", Static).render())
        assert "✘" not in hint and "bai group create" not in hint, hint
        assert app.nodes.table.row_count == 0
        assert GROUP not in str(app.main.pane_details.render())


def _contrast_in_16_colours(style) -> float:  # type: ignore[no-untyped-def]
    """WCAG contrast of a style's colours once a 16-colour terminal (TERM=xterm) has rounded them."""
    from rich.color import ColorSystem
    from rich.terminal_theme import DEFAULT_TERMINAL_THEME

    def luminance(color) -> float:  # type: ignore[no-untyped-def]
        rgb = color.downgrade(ColorSystem.STANDARD).get_truecolor(DEFAULT_TERMINAL_THEME)

        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(rgb.red) + 0.7152 * channel(rgb.green) + 0.0722 * channel(rgb.blue)

    high, low = sorted((luminance(style.color), luminance(style.bgcolor)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_inactive_tabs_are_readable_in_16_colours_in_every_theme(backend) -> None:  # type: ignore[no-untyped-def]
    """TERM=xterm with the light theme: the inactive tab names were light grey on white (contrast 1.8)."""
    import themes

    for theme in themes.THEMES:
        app = make_app(backend, theme=theme.name, remember_theme=False)
        async with app.run_test(size=SMALL) as pilot:
            await job_form(pilot, app)
            for tab in app.query("ContentTab"):
                contrast = _contrast_in_16_colours(tab.rich_style)
                assert contrast >= 3.0, (theme.name, str(tab.label), round(contrast, 1))


async def test_job_state_colours_are_readable_on_every_theme(backend) -> None:  # type: ignore[no-untyped-def]
    """The light theme drew "running" in ANSI cyan and "queued" in ANSI yellow on white: hard to read."""
    from rich.style import Style

    import themes
    from tui.console.widgets.tree_items import state_looks
    from tui.core.model import ExecutionState

    for theme in themes.THEMES:
        app = make_app(backend, theme=theme.name, remember_theme=False)
        async with app.run_test(size=SMALL) as pilot:
            await job_form(pilot, app)
            background = app.tree.rich_style.bgcolor
            looks = state_looks(app.theme_variables)
            for state in ExecutionState:
                _symbol, colour = looks[state]
                ink = Style.parse(colour).color if isinstance(colour, str) else colour
                contrast = _contrast_in_16_colours(Style(color=ink, bgcolor=background))
                assert contrast >= 3.0, (theme.name, state.value, round(contrast, 1))


async def test_open_job_json_keeps_the_dialog_open_on_a_wrong_path(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A mistyped path closed the dialog with a notice: the user had to press o and type it all again."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await job_form(pilot, app)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), what="the dialog")
        field = app.screen.query_one("#field-path", Input)
        field.value = str(tmp_path / "no-such-job.json")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: "no-such-job.json" in str(app.screen.query_one("#error-path").render()),
            what="the error",
        )
        assert isinstance(app.screen, FormDialog)
        error = str(app.screen.query_one("#error-path").render())
        assert "no-such-job.json" in error and "job.json" in error, error
        good = tmp_path / "job.json"
        good.write_text(json.dumps(TUTORIAL_JOB))
        field.value = str(good)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, FormDialog), what="the dialog to close")
        form = app.query_one(JobForm)
        await until(pilot, lambda: form.path == good, what="the job loaded")


async def test_empty_tree_hints_show_their_key_at_80_columns(home: Path) -> None:
    """At 80x24 a fresh console's tree read "no resource groups yet:": the key to press was cut off."""
    from tui.backends import open_backend

    backend = open_backend("local")
    app = make_app(backend)
    try:
        async with app.run_test(size=SMALL) as pilot:
            await until(pilot, lambda: app.tree.root.children, what="the tree")
            hint = app.tree.root.children[0]
            shown = app.tree.scrollable_content_region.width - 2  # guides and a margin
            assert "press g" in str(hint.label)[:shown], str(hint.label)
            await job_form(pilot, app)
            assert "press g" in str(app.main.pane_details.render())  # and the whole sentence beside it
    finally:
        await backend.close()


@pytest.mark.parametrize("key", ["right", "down"])
async def test_a_key_before_the_tree_places_its_cursor_acts_on_the_first_group(backend, key: str) -> None:  # type: ignore[no-untyped-def]
    """In tmux on a loaded machine: the first screen showed the group, Right came before the tree put its
    cursor on it (that happens a frame after the rows are drawn), and the key did nothing at all."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: app.tree.cursor_node is not None, what="the cursor")
        # The state between the rows being drawn and the cursor placed: Textual's Tree starts so, with
        # cursor_line -1 (which its validator would clamp if assigned) and no cursor node.
        app.tree.set_reactive(type(app.tree).cursor_line, -1)
        app.tree._cursor_node = None
        await pilot.pause(0.05)
        assert app.tree.cursor_node is None
        await pilot.press(key)
        group = app.tree.root.children[0]
        await until(pilot, lambda: app.tree.cursor_node is group, what="the cursor on the group")
        if key == "right":
            await until(pilot, lambda: group.is_expanded, what="the group opened")


async def test_a_late_focus_note_from_the_form_does_not_bring_its_tab_back(backend) -> None:  # type: ignore[no-untyped-def]
    """Under load the tab still bounced back: the note "a widget in the Job pane got focus", posted when the
    field was focused, was still queued when the user chose the log, and Textual switched back on it."""
    from textual.widgets import TabPane

    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await focus_a_form_field(pilot, app)
        app.main.action_show_tab("log")
        job_pane = app.query_one("#job", TabPane)
        job_pane.post_message(TabPane.Focused(job_pane))  # the late note, as a busy machine delivers it
        await pilot.pause(0.3)
        assert app.main.pane_tabs.active == "log"
        assert app.focused is app.tree
