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
from textual.widgets import ContentSwitcher, TabbedContent, TabPane, Tabs
from textual.widgets._tabbed_content import ContentTab, ContentTabs

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
    # (Textual's TabbedContent repainted it, and the content switcher's background, at every switch: ~50
    # lines, a quarter of a tab switch's CPU while workers stream). The panes are laid out again as before.
    active: reactive[str] = reactive("", init=False, repaint=False)

    def _watch_active(self, active: str) -> None:
        """TabbedContent's switch (Textual 8.2.8, pinned) less the switcher's repaint: the tab row is marked,
        the panes are shown or hidden (their layout refreshes), the same messages are posted."""
        with self.prevent(Tabs.TabActivated, Tabs.Cleared):
            self.get_child_by_type(ContentTabs).active = ContentTab.add_prefix(active)
        switcher = self.get_child_by_type(ContentSwitcher)
        shown = switcher.current
        switcher.set_reactive(ContentSwitcher.current, active)  # its watcher, called next, is all it does
        switcher.watch_current(shown, active)
        if active:
            tab = self.get_child_by_type(ContentTabs).get_content_tab(active)
            self.post_message(TabbedContent.TabActivated(tabbed_content=self, tab=tab))
        else:
            self.post_message(TabbedContent.Cleared(tabbed_content=self).set_sender(self))

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
