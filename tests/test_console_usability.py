"""The console as a k9s or lazygit user expects it (issue 11): focus, the key list, re-attach, honest states.

Each test drives the app with keys only at 80x24, as such a user did in tmux, and checks what the screen
shows: which pane has the keyboard and says so, what `?` lists, where a reopened console starts, whether a
following log shows its last line, where a submit's warnings go, and what a hint or dialog tells the user.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import DataTable, Input

from tests import test_console as base
from tests.test_console import (
    ACCOUNT,
    CLUSTER,
    EXPERIMENT,
    GROUP,
    WORKSPACE,
    go_to,
    job_form,
    labels,
    make_app,
    notices,
    until,
    write_job,
)
from tests.test_console_warnings import warned_job_document
from tui.console.widgets.dialogs import ChoiceDialog, ConfirmDialog, FormDialog
from tui.core.jobspec import parse_job_spec
from tui.core.model import ClusterRef, JobRef

SMALL = (80, 24)
THEMES = ("bai-dark", "bai-light", "bai-high-contrast")
home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows now, as plain text (the screenshot's characters)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)


def footer_words(app) -> str:  # type: ignore[no-untyped-def]
    """The footer's keys and descriptions, as drawn."""
    keys = app.screen.query("FooterKey")
    return " | ".join(f"{key.key_display} {key.description}" for key in keys if key.region.width)


def job_spec(command: str, nodes: int = 1):  # type: ignore[no-untyped-def]
    return parse_job_spec(
        {
            "properties": {
                "nodeCount": nodes,
                "customToolkitSettings": {"commandLine": command},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
            }
        }
    )


def lines_source(lines: list[str], delay: float = 0.0) -> Callable[[str], AsyncIterator[bytes]]:
    """A log source writing `lines` one by one (as a job's stdout.txt grows), then ending."""

    async def source(name: str) -> AsyncIterator[bytes]:
        if name != "stdout.txt":
            return
        for line in lines:
            yield (line + "\n").encode()
            await asyncio.sleep(delay)

    return source


# ---------------------------------------------------------------------------------- item 1: focus and Esc


def border_colour(widget):  # type: ignore[no-untyped-def]
    return widget.styles.border_top[1]


@pytest.mark.parametrize("theme", THEMES)
async def test_the_focused_pane_is_marked_in_every_theme(backend, theme: str) -> None:  # type: ignore[no-untyped-def]
    """After a search nothing showed where the keyboard was: the focused pane's border says so."""
    app = make_app(backend, theme=theme, remember_theme=False)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: labels(app), what="the tree")
        await pilot.press("3")
        tree_pane, right_pane = app.query_one("#tree-pane"), app.query_one("#tabs")
        app.tree.focus()
        await pilot.pause(0.1)
        tree_on, right_off = border_colour(tree_pane), border_colour(right_pane)
        app.live_log.text.focus()
        await pilot.pause(0.1)
        tree_off, right_on = border_colour(tree_pane), border_colour(right_pane)
        assert tree_on == right_on and tree_off == right_off, (tree_on, right_on, tree_off, right_off)
        assert tree_on != tree_off and tree_on.a > 0 and tree_off.a > 0
        if theme == "bai-high-contrast":  # 16 colours: both are the terminal's own ANSI colours
            assert tree_on.ansi is not None and tree_off.ansi is not None
            assert tree_on.ansi != tree_off.ansi
        else:
            assert abs(tree_on.brightness - tree_off.brightness) > 0.15 or tree_on.hsl.h != tree_off.hsl.h


async def test_escape_goes_back_one_level_then_to_the_tree(backend) -> None:  # type: ignore[no-untyped-def]
    """After `/`, a word, Enter, Esc: Down scrolled the log and Esc did nothing; the tree was lost."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        log = app.live_log
        log.open_source(lines_source([f"line {n}" for n in range(80)]), "job sample", "succeeded")
        await until(pilot, lambda: log.finished, what="the whole file")
        await pilot.press("slash", *"line 4", "enter")
        search = log.query_one("#log-search", Input)
        assert app.focused is search
        await pilot.press("escape")  # one level back: the search closes, the log has the keyboard
        assert app.focused is log.text and not search.has_class("-visible")
        await pilot.press("escape")  # and then the tree
        assert app.focused is app.tree
        await pilot.press("z")  # a tree action works again on the cluster still selected
        await until(pilot, lambda: isinstance(app.screen, FormDialog), what="the resize dialog")
        await pilot.press("escape")
        assert not isinstance(app.screen, FormDialog) and app.focused is app.tree
        # the node table and a form field go back to the tree too
        await pilot.press("1", "tab")
        assert isinstance(app.focused, DataTable)
        await pilot.press("escape")
        assert app.focused is app.tree
        await pilot.press("2")
        await job_form(pilot, app)
        await pilot.press("tab")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert app.focused is app.tree


async def test_tab_and_shift_tab_cycle_the_panes(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: labels(app), what="the tree")
        await pilot.press("3")
        app.tree.focus()
        await pilot.pause(0.05)
        await pilot.press("tab")
        assert app.focused is app.live_log.text
        await pilot.press("tab")
        assert app.focused is app.tree
        await pilot.press("shift+tab")
        assert app.focused is app.live_log.text
        await pilot.press("shift+tab")
        assert app.focused is app.tree
        await pilot.press("1", "tab")
        assert isinstance(app.focused, DataTable)
        await pilot.press("shift+tab")
        assert app.focused is app.tree


async def test_the_footer_shows_the_keys_of_the_focused_pane(backend) -> None:  # type: ignore[no-untyped-def]
    """The footer was the same for the tree and the log: the log's keys (p, /, x) were never shown."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: labels(app), what="the tree")
        await until(pilot, lambda: "Submit" in footer_words(app), what="the tree's keys in the footer")
        assert "Keys" in footer_words(app) and "Quit" in footer_words(app)
        await pilot.press("3", "tab")
        assert app.focused is app.live_log.text
        await until(pilot, lambda: "Search" in footer_words(app), what="the log's keys in the footer")
        words = footer_words(app)
        assert "Follow" in words and "stderr" in words and "Upload" not in words, words
        assert "esc Back" in words, words  # how to get out: the search, then the tree
        assert "Keys" in words and "Quit" in words
        await pilot.press("1", "tab")
        await until(pilot, lambda: "Resize" in footer_words(app), what="the node table's keys")
        assert "Scale to 0" in footer_words(app)


# ---------------------------------------------------------------------------------- item 2: the key list


async def test_question_mark_lists_every_action_with_its_key_and_id(backend) -> None:  # type: ignore[no-untyped-def]
    """`?` showed Textual's Tree keys: g/w/e/c were missing, it could not scroll and Esc did not close it."""
    from tui.console.actions import ACTIONS, GROUPS

    app = make_app(backend, keymap={"bai.submit": "ctrl+s"})
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: labels(app), what="the tree")
        main = app.screen
        await pilot.press("question_mark")
        await until(pilot, lambda: app.screen is not main, what="the key list")
        keys_screen = app.screen
        seen = [screen_text(app)]
        for _ in range(30):  # page down to the end: everything must be reachable from the keyboard
            await pilot.press("pagedown")
            await pilot.pause(0.05)
            seen.append(screen_text(app))
            if seen[-1] == seen[-2]:
                break
        assert seen[-1] != seen[0], "the key list does not scroll at 80x24"
        shown = "\n".join(seen)
        for spec in ACTIONS:
            assert spec.binding_id in shown and spec.title in shown, spec
        for group in GROUPS:
            assert group in shown, group
        assert "ctrl+s" in shown  # the remapped key, not s
        submit_line = next(line for line in shown.splitlines() if "bai.submit" in line)
        assert "ctrl+s" in submit_line, submit_line
        await pilot.press("escape")
        assert app.screen is main
        await pilot.press("question_mark")
        await until(pilot, lambda: app.screen is not main, what="the key list again")
        assert type(app.screen) is type(keys_screen)
        await pilot.press("question_mark")
        assert app.screen is main


# ---------------------------------------------------------------------------------- item 3: re-attach


async def test_reopening_comes_back_to_the_selected_item_and_tab(backend, home: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await pilot.press("2")
        await pilot.press("q")
    settings = json.loads((home / "console.json").read_text())
    assert "local" in json.dumps(settings)  # kept per backend
    again = make_app(backend)
    async with again.run_test(size=SMALL) as pilot:
        await until(
            pilot,
            lambda: (
                again.tree.cursor_node is not None
                and again.tree.cursor_node.data is not None
                and again.tree.cursor_node.data.name == CLUSTER
            ),
            what="the cluster selected again",
        )
        assert again.main.pane_tabs.active == "job"


async def test_reopening_reattaches_the_log_of_a_running_job(backend, home: Path) -> None:  # type: ignore[no-untyped-def]
    """Submit, q, bai again: the tree started collapsed on the Nodes tab; seven keys to get the log back."""
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, "longrun")
    await backend.jobs.create(ref, CLUSTER, job_spec("echo started-work; sleep 120"))
    try:
        app = make_app(backend)
        async with app.run_test(size=SMALL) as pilot:
            await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT, "longrun")
            await pilot.press("enter")  # watch it
            await until(pilot, lambda: app.main.open_job_ref == ref, what="the log opened")
            await go_to(pilot, app, CLUSTER)  # then look elsewhere before leaving
            await pilot.press("1", "q")
        again = make_app(backend)
        async with again.run_test(size=SMALL) as pilot:
            await until(pilot, lambda: again.main.open_job_ref == ref, timeout=30, what="the job re-attached")
            await until(
                pilot,
                lambda: (
                    again.tree.cursor_node is not None
                    and again.tree.cursor_node.data is not None
                    and again.tree.cursor_node.data.name == "longrun"
                ),
                what="the job selected",
            )
            assert again.main.pane_tabs.active == "log"
            log = again.live_log
            assert log.following
            await until(
                pilot, lambda: "started-work" in "\n".join(log.text.lines), timeout=30, what="its output"
            )
    finally:
        await backend.jobs.terminate(ref)
        await backend.jobs.wait(ref, poll_interval=0.2, timeout=60)


# ---------------------------------------------------------------------------------- item 4: the log's end


@pytest.mark.parametrize("hidden", [False, True], ids=["log-shown", "log-written-while-hidden"])
async def test_a_following_log_always_shows_its_last_line(backend, hidden: bool) -> None:  # type: ignore[no-untyped-def]
    """A job printing 150 lines then LAST-LINE never showed LAST-LINE at 80x24."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: labels(app), what="the tree")
        await pilot.press("1" if hidden else "3")
        log = app.live_log
        lines = [f"output line {n}" for n in range(150)] + ["LAST-LINE"]
        log.open_source(lines_source(lines, delay=0.001), "job printer", "running")
        await until(pilot, lambda: log.finished, timeout=30, what="the whole output")
        log.set_state("succeeded")
        await pilot.press("3")
        assert log.following
        await until(pilot, lambda: "LAST-LINE" in screen_text(app), what="LAST-LINE on screen")
        for size in ((120, 40), (100, 30), SMALL):
            await pilot.resize_terminal(*size)
            await until(pilot, lambda: "LAST-LINE" in screen_text(app), what=f"LAST-LINE at {size}")


async def test_a_following_log_shows_its_end_when_the_chart_appears(backend) -> None:  # type: ignore[no-untyped-def]
    """The rows and chart grow as a run goes on: the last lines (Test loss, accuracy) sat below the view."""
    sample = Path(__file__).parent / "data" / "logs" / "horovodrun-np2-sample.log"
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        log = app.live_log
        log.open_source(base.file_source(sample, chunk=200), "job sample", "running")
        await until(pilot, lambda: log.finished, timeout=30, what="the whole file")
        # The text pane takes the parsed lines on its redraw tick, so the file's last line is read from the
        # parser's output (finished can be true a tick before the pane has them).
        last = next(line.strip() for line in reversed(log.stdout_lines) if line.strip())
        await until(pilot, lambda: last[:40] in screen_text(app), timeout=30, what=f"{last!r} on screen")


# ---------------------------------------------------------------------------------- item 7: notifications


async def test_submit_warnings_go_to_the_jobs_details_and_one_short_toast(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two long warnings on every submit covered the log at 80x24."""
    app = make_app(backend, job_path=write_job(tmp_path, warned_job_document()))
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT)
        await pilot.press("down")
        form = await job_form(pilot, app)
        await until(pilot, lambda: form._value("target.cluster") == CLUSTER)
        form.set_value("target.name", "warned")
        form.set_value("target.storage_account", ACCOUNT)
        await pilot.press("s")
        await until(pilot, lambda: app.main.open_job_ref is not None, what="the job's log")
        await pilot.pause(0.3)
        warnings = [message for message, severity in app.sent if severity == "warning"]
        assert len(warnings) == 1, warnings
        assert "\n" not in warnings[0] and len(warnings[0]) <= 76, warnings[0]
        assert "3 warning" in warnings[0]
        await pilot.press("1")
        details = str(app.main.pane_details.render())
        assert "properties.priority: ignored" in details
        assert "jobPreparation skipped" in details and "containerSettings ignored" in details


async def test_no_toast_over_a_dialog_and_long_messages_wrap(backend) -> None:  # type: ignore[no-untyped-def]
    """The scale-to-0 question was unreadable under two warnings at 80x24."""
    app = make_app(backend)
    async with app.run_test(size=SMALL, notifications=True) as pilot:  # tests draw no toasts by default
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        app.notify("said-before-the-dialog", timeout=30)
        await until(pilot, lambda: "said-before-the-dialog" in screen_text(app), what="the first toast")
        await pilot.press("0")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the dialog")
        words = [f"word{n:02d}" for n in range(40)]
        app.notify(" ".join(words), title="Long", severity="warning", timeout=30)
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "said-before-the-dialog" not in shown and "word00" not in shown, shown
        assert "Scale" in shown
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog), what="the dialog to close")
        await until(pilot, lambda: "word39" in screen_text(app), what="the held toast, whole")
        shown = screen_text(app)
        assert all(word in shown for word in words), shown


# ---------------------------------------------------------------------------------- item 9: honest states


async def test_scale_to_zero_says_the_service_waits_and_offers_to_terminate(backend) -> None:  # type: ignore[no-untyped-def]
    """The dialog said "Jobs running on it are stopped" while the job ran on and the nodes sat in Leaving."""
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, "busy")
    await backend.jobs.create(ref, CLUSTER, job_spec("echo busy; sleep 120"))
    try:
        app = make_app(backend)
        async with app.run_test(size=SMALL) as pilot:
            await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
            await until(
                pilot,
                lambda: app.nodes.cell(CLUSTER, "running") == "1" if CLUSTER in app.nodes.clusters else False,
                timeout=30,
                what="the job running",
            )
            await pilot.press("0")
            await until(pilot, lambda: isinstance(app.screen, ChoiceDialog), what="the dialog")
            question = str(app.screen.query_one("#question").render())
            assert "are stopped" not in question
            assert "busy" in question and "wait" in question, question
            assert "t" in screen_text(app) and "Terminate" in screen_text(app)
            await pilot.press("t")
            final = await backend.jobs.wait(ref, poll_interval=0.2, timeout=60)
            assert final.execution_state.is_final
            # then the cluster is scaled (after the terminate call returns)
            await until(pilot, lambda: any("resizing to 0" in n for n in notices(app)), what="the resize")
            cluster = await backend.clusters.get(ClusterRef(GROUP, WORKSPACE, CLUSTER))
            assert cluster.target_node_count == 0
    finally:
        await backend.jobs.terminate(ref)
        await backend.jobs.wait(ref, poll_interval=0.2, timeout=60)


async def test_a_waiting_job_says_why(backend) -> None:  # type: ignore[no-untyped-def]
    await backend.clusters.resize(ClusterRef(GROUP, WORKSPACE, CLUSTER), 0)
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, "waiter")
    await backend.jobs.create(ref, CLUSTER, job_spec("echo never", nodes=2))
    try:
        app = make_app(backend, keymap={"bai.resize": "f7"})
        async with app.run_test(size=SMALL) as pilot:
            await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT, "waiter")
            reason = f"waiting for 2 idle nodes: {CLUSTER} has 0; press f7 to resize"
            await until(
                pilot, lambda: reason in str(app.main.pane_details.render()), what="the reason in details"
            )
            await pilot.press("enter")
            await until(pilot, lambda: reason in app.live_log.title_text(), what="the reason in the log")
    finally:
        await backend.jobs.terminate(ref)


async def test_the_details_pane_follows_the_resource(backend) -> None:  # type: ignore[no-untyped-def]
    """The details kept "2 running nodes" after the job ended: they are redrawn when the resource changes."""
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await until(
            pilot, lambda: "targetNodeCount: 2" in str(app.main.pane_details.render()), what="details"
        )
        await backend.clusters.resize(ClusterRef(GROUP, WORKSPACE, CLUSTER), 3)
        await until(
            pilot, lambda: "targetNodeCount: 3" in str(app.main.pane_details.render()), what="the new count"
        )


async def test_the_details_pane_drops_an_empty_hint_once_something_exists(home: Path) -> None:
    """ "none yet" stayed in the details after the first group was made."""
    from tui.backends import open_backend

    backend = open_backend("local")
    try:
        app = make_app(backend)
        async with app.run_test(size=SMALL) as pilot:
            await until(
                pilot, lambda: "none yet" in str(app.main.pane_details.render()), what="the empty hint"
            )
            await pilot.press("g")
            await until(pilot, lambda: isinstance(app.screen, FormDialog), what="the dialog")
            app.screen.query_one("#field-name", Input).value = "first.group"
            await pilot.press("enter")
            await until(pilot, lambda: "rg first.group" in labels(app), what="the new group")
            await until(
                pilot, lambda: "none yet" not in str(app.main.pane_details.render()), what="the hint to go"
            )
            assert "first.group" in str(app.main.pane_details.render())
    finally:
        await backend.close()


async def test_a_search_does_not_leave_the_next_jobs_log_paused(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: labels(app), what="the tree")
        log = app.live_log
        log.open_source(lines_source([f"first {n}" for n in range(50)]), "job one", "succeeded")
        await until(pilot, lambda: log.finished, what="job one's output")
        await pilot.press("slash", *"first 3", "enter", "escape", "escape")
        assert not log.following
        log.open_source(lines_source(["second job", "SECOND-END"]), "job two", "running")
        await until(pilot, lambda: log.finished, what="job two's output")
        assert log.following and "following" in log.title_text()


async def test_remapped_keys_show_in_every_hint(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """After remapping submit to ctrl+s the console still said "press s"."""
    keymap = {
        "bai.submit": "ctrl+s",
        "bai.scale_zero": "f9",
        "bai.follow": "f8",
        "bai.new_cluster": "f4",
        "bai.compare": "f3",
    }
    app = make_app(backend, keymap=keymap)
    async with app.run_test(size=SMALL) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        hint = app.nodes.query_one("#nodes-hint")
        await until(pilot, lambda: "idle" in str(hint.render()), what="the idle call-out")
        assert "press f9" in str(hint.render()) and "press 0" not in str(hint.render())
        await pilot.press("up")  # the experiment: its details name the key that compares its runs
        await until(pilot, lambda: "f3 compares" in str(app.main.pane_details.render()), what="f3 compares")
        await pilot.press("down")
        await job_form(pilot, app)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("problem" in n for n in notices(app)), what="the refusal")
        refusal = next(n for n in notices(app) if "problem" in n)
        assert "ctrl+s" in refusal and "press s " not in refusal, refusal
        await pilot.press("escape", "3")
        log = app.live_log
        log.open_source(lines_source(["a line"]), "job one", "succeeded")
        await pilot.press("f8")
        assert not log.following and "f8 resumes" in log.title_text()
    # an empty workspace's hint names the remapped key too
    await backend.workspaces.create(GROUP, "empty-ws")
    app = make_app(backend, keymap=keymap)
    async with app.run_test(size=SMALL) as pilot:
        await until(  # the console came back to the cluster (the place it was left at): start from the top
            pilot,
            lambda: (
                app.tree.cursor_node is not None
                and app.tree.cursor_node.data is not None
                and app.tree.cursor_node.data.name == CLUSTER
            ),
            what="the place restored",
        )
        app.tree.focus()
        await pilot.press("home")
        await go_to(pilot, app, GROUP, "empty-ws")
        await pilot.press("right")
        await until(pilot, lambda: any("f4" in text for text in labels(app)), what="the hint with f4")
        assert not any("c: new cluster" in text for text in labels(app))
