"""The console's panes as containers that know their keys: what the footer shows depends on the focus.

A k9s or lazygit user reads the footer as "what I can press here". Textual's footer lists the bindings of
the focused widget and its ancestors first, so each pane container carries the keys worth showing while
it has the keyboard (`actions.PANE_KEYS`), under the same binding ids as the screen's, so a keymap moves
both. The screen's own bindings add Esc, ? and q to every footer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import TabbedContent, TabPane, Tabs

from tui.console import actions


class TreePane(Vertical):
    """The resource tree's frame; its border lights up while the tree has the keyboard."""

    BINDINGS: ClassVar[list[BindingType]] = actions.pane_bindings("tree")  # type: ignore[assignment]


class NodesPane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = actions.pane_bindings("nodes")  # type: ignore[assignment]


class JobPane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = actions.pane_bindings("job")  # type: ignore[assignment]


class LogPane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = actions.pane_bindings("log")  # type: ignore[assignment]


class ConsoleTabs(TabbedContent):
    """TabbedContent that brings a pane up for a focused widget only while the focus is still there.

    Textual's TabbedContent switches to a pane when it hears that something in it got focus. That note
    travels through two message queues; on a busy machine it could arrive after the user had already chosen
    another tab (focus handed to the tree by then), and the console flipped straight back to the job form.
    """

    # Switching tabs changes what the frame holds, not how it looks: no repaint of its border and background
    # (TabbedContent's `active` repainted them at every switch: 26 lines at 100x30, a tenth of a tab
    # switch's CPU while workers stream). The panes are shown, hidden and laid out as before.
    active: reactive[str] = reactive("", init=False, repaint=False)

    def on_mount(self) -> None:
        # Tab and Shift+Tab go from pane to pane (the tree, then the tab's table, form or log): the row of
        # tab names is not a stop of its own; 1, 2 and 3 choose the tab.
        self.query_one(Tabs).can_focus = False

    def on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.app.focused
        if focused is None or tab_of(focused) != event.tab_pane.id:
            event.prevent_default()  # TabbedContent's own handler (a base class's, called after) skips it
            event.stop()


def tab_of(widget: Any) -> str | None:
    """The id of the tab pane holding `widget`, None when it is outside the tabs."""
    for node in (widget, *widget.ancestors):
        if isinstance(node, TabPane):
            return node.id
    return None
