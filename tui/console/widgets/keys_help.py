"""The console's own key list (`?`): every action with its key (after any remap) and its binding id.

Textual's help panel listed the focused widget's keys (the tree's), none of the console's one-letter actions,
could not be scrolled from the keyboard and stayed open on Esc. This screen is made from the console's one
action table, grouped as the README's key table, so what it lists is what the keys do; the binding ids are
what a user writes in console.json's "keymap" to move a key.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# (key, what it does, binding id) in groups: [(group, rows)]
KeyRows = list[tuple[str, str, str]]
KeyGroups = list[tuple[str, KeyRows]]


def key_table(groups: KeyGroups) -> Table:
    """One table, a bold heading row per group, so the columns line up across groups."""
    table = Table.grid(padding=(0, 2))
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("action")
    table.add_column("id", no_wrap=True, style="dim")
    for index, (group, rows) in enumerate(groups):
        if index:
            table.add_row("", "", "")
        table.add_row(Text(group, style="bold underline"), "", "")
        for key, title, binding_id in rows:
            table.add_row(key, title, binding_id)
    return table


class KeysScreen(ModalScreen[None]):
    """The grouped key list; arrows, PgUp/PgDn, Home/End scroll it, Esc or `?` close it."""

    DEFAULT_CSS = """
    KeysScreen { align: center middle; }
    KeysScreen > VerticalScroll {
        width: 84; max-width: 100%; height: 100%; max-height: 100%; padding: 0 1;
        border: round $accent; border-title-style: bold; border-subtitle-color: $text-muted;
        background: $surface;
    }
    KeysScreen #keys-table { width: 100%; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="keys.close"),
        # the same id as the key that opened it, so a remapped help key closes it too
        Binding("question_mark", "close", "Close", id="bai.help"),
    ]

    def __init__(self, groups: KeyGroups, remap_note: str = "") -> None:
        super().__init__()
        self.groups = groups
        self.remap_note = remap_note

    def compose(self) -> ComposeResult:
        scroll = VerticalScroll(id="keys-scroll")
        scroll.can_focus = True
        scroll.border_title = "bai keys"
        scroll.border_subtitle = "↑↓ PgUp PgDn scroll · Esc or ? closes"
        with scroll:
            yield Static(key_table(self.groups), id="keys-table")
            if self.remap_note:
                yield Static(self.remap_note, id="keys-note", markup=False)

    def on_mount(self) -> None:
        self.query_one("#keys-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
