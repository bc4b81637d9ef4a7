"""The console's form dialog as a user meets it (issue 11, items 6 and 10): the cursor starts in the field
the dialog is named after, a suggested value is real and selected (Enter takes it, typing replaces it), and
path fields complete from the file system on Tab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import Input

from tui.console.widgets.dialogs import FormDialog, FormField, complete_path, required, suggest_name


class Host(App[None]):
    """Just enough app to open one dialog and keep what it returned."""

    def __init__(self, dialog: FormDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.result: Any = "not closed"

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self._done)

    def _done(self, values: Any) -> None:
        self.result = values


def cluster_dialog() -> FormDialog:
    return FormDialog(
        "Create cluster",
        [
            FormField("group", "Resource group", "batchai.horovod", check=required("group")),
            FormField("workspace", "Workspace", "batchaidev", check=required("workspace")),
            FormField("name", "Cluster name", "nc6cluster", check=required("cluster name")),
            FormField("target", "Target nodes", "2"),
        ],
    )


async def test_the_cursor_starts_on_the_named_field_with_its_suggestion_selected() -> None:
    app = Host(cluster_dialog())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        field = app.screen.focused
        assert isinstance(field, Input) and field.id == "field-name", field
        assert field.selected_text == "nc6cluster"
        await pilot.press("g", "p", "u")  # typing replaces the suggestion, not the group before it
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == {"group": "batchai.horovod", "workspace": "batchaidev", "name": "gpu", "target": "2"}


async def test_enter_takes_the_suggested_name() -> None:
    app = Host(cluster_dialog())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.result["name"] == "nc6cluster"


async def test_a_dialog_named_after_another_field_starts_there() -> None:
    """The share dialog's bug: the cursor was in the account field, its text selected, so typing the
    share's name replaced the account."""
    dialog = FormDialog(
        "Create file share",
        [FormField("account", "Storage account", "mystorage"), FormField("share", "Share name", "myshare")],
        focus="share",
    )
    app = Host(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"data", "enter")
        await pilot.pause()
    assert app.result == {"account": "mystorage", "share": "data"}


def test_suggested_names_do_not_collide_with_siblings() -> None:
    assert suggest_name("cifar", []) == "cifar"
    assert suggest_name("cifar", ["cifar", "Cifar2"]) == "cifar3"


def test_complete_path_like_a_shell(tmp_path: Path) -> None:
    (tmp_path / "cifar_data").mkdir()
    (tmp_path / "cifar_cnn.py").write_text("")
    (tmp_path / "job.json").write_text("{}")
    (tmp_path / ".hidden").write_text("")
    base = f"{tmp_path}/"
    assert complete_path(base + "j") == base + "job.json"
    assert complete_path(base + "cifar_d") == base + "cifar_data/"
    assert complete_path(base + "c") == base + "cifar_"  # two entries: their common start
    assert complete_path(base + "cifar_") is None  # nothing longer to offer
    assert complete_path(base + "zz") is None
    assert complete_path(base + ".h") == base + ".hidden"


async def test_tab_completes_a_path_field_then_moves_on(tmp_path: Path) -> None:
    (tmp_path / "cifar_data").mkdir()
    (tmp_path / "cifar_data" / "data_batch_1").write_text("")
    dialog = FormDialog(
        "Upload",
        [
            FormField("source", "Local file or folder", path=True, check=required("path")),
            FormField("directory", "Folder on the share", "cifar"),
        ],
    )
    app = Host(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        source = app.screen.query_one("#field-source", Input)
        assert app.screen.focused is source
        await pilot.press(*f"{tmp_path}/ci")
        for _ in range(100):  # the suggester runs in a worker
            if source._suggestion:
                break
            await pilot.pause(0.02)
        await pilot.press("tab")
        assert source.value == f"{tmp_path}/cifar_data/"
        assert app.screen.focused is source
        for _ in range(100):
            if source._suggestion.endswith("data_batch_1"):
                break
            await pilot.pause(0.02)
        await pilot.press("tab")
        assert source.value == f"{tmp_path}/cifar_data/data_batch_1"
        await pilot.pause(0.1)
        await pilot.press("tab")  # nothing left to complete: on to the next field
        assert app.screen.focused is app.screen.query_one("#field-directory", Input)
