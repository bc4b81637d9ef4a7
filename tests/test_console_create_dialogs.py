"""The console's create dialogs as a keyboard user meets them (issue 11, item 6): the cursor starts in the
field the dialog is named after, its suggested name is a real value (Enter takes it, typing replaces it, it
does not repeat a sibling's name), and the other fields come from the tree's selection."""

from __future__ import annotations

from textual.widgets import Input

from tests import test_console as base
from tests.test_console import go_to, labels, make_app, until
from tests.tutorial_resources import ACCOUNT, GROUP, WORKSPACE
from tui.console.widgets.dialogs import FormDialog
from tui.core.model import ExperimentRef

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend


def dialog_values(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    dialog = app.screen
    assert isinstance(dialog, FormDialog), dialog
    return {spec.key: dialog.query_one(f"#field-{spec.key}", Input).value for spec in dialog.fields}


def focused_field(app) -> str:  # type: ignore[no-untyped-def]
    focused = app.screen.focused
    assert isinstance(focused, Input), focused
    return (focused.id or "").removeprefix("field-")


async def open_dialog(pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the dialog")
    await pilot.pause()


async def test_the_share_dialog_types_the_share_name_not_the_account(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, GROUP, ACCOUNT)
        await open_dialog(pilot, "h")
        assert focused_field(app) == "name"
        assert dialog_values(app) == {"account": ACCOUNT, "name": "myshare2"}  # myshare exists
        await pilot.press(*"logs", "enter")
        await until(pilot, lambda: "share logs" in labels(app), what="the new share")
    assert sorted(share.name for share in await backend.storage.list_shares(ACCOUNT)) == ["logs", "myshare"]


async def test_suggested_names_are_values_and_enter_takes_them(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE)
        await open_dialog(pilot, "e")
        assert focused_field(app) == "name"
        assert dialog_values(app) == {"group": GROUP, "workspace": WORKSPACE, "name": "cifar2"}
        assert app.screen.focused.selected_text == "cifar2"  # type: ignore[union-attr]
        await pilot.press("enter")
        await until(pilot, lambda: "exp cifar2" in labels(app), what="the new experiment")
        await open_dialog(pilot, "c")
        values = dialog_values(app)
        assert (values["group"], values["workspace"], values["name"]) == (GROUP, WORKSPACE, "nc6cluster2")
        await pilot.press("escape")
    await backend.experiments.get(ExperimentRef(GROUP, WORKSPACE, "cifar2"))


async def test_with_one_group_a_new_workspace_goes_in_it(backend) -> None:  # type: ignore[no-untyped-def]
    """Nothing of a group selected (the cursor on the empty start): the only group there is is the one."""
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: any(GROUP in text for text in labels(app)), what="the group")
        app.screen.tree.cursor_line = -1  # type: ignore[attr-defined]
        await open_dialog(pilot, "w")
        assert dialog_values(app)["group"] == GROUP
        assert focused_field(app) == "name"
        await pilot.press("escape")
