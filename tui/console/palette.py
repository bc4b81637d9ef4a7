"""The command palette: every console action, found by name (Ctrl+P), with its key shown.

It lists the same actions as the key bindings (one table, `tui.console.actions.ACTIONS`), so neither drifts,
and it runs each on the main screen. It knows the app only through `keymap_overrides` and `main`, never by
importing it.
"""

from __future__ import annotations

from functools import partial

from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.widgets import Input, OptionList

from tui.console.actions import palette_entries


class ConsoleCommands(Provider):
    """The console's actions as palette entries, each with the key that runs it."""

    def entries(self) -> list[tuple[str, str, str]]:
        return palette_entries(getattr(self.app, "keymap_overrides", {}))

    def run_entry(self, action: str) -> None:
        self.app.call_later(self.app.run_action, action, getattr(self.app, "main", None))

    async def discover(self) -> Hits:
        for title, action, help_text in self.entries():
            yield DiscoveryHit(title, partial(self.run_entry, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in self.entries():
            score = max(matcher.match(title), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.run_entry, action),
                    text=title,
                    help=help_text,
                )


class ConsolePalette(CommandPalette):
    """Textual's command palette, deaf once it has closed.

    Keys sent at once (`tmux send-keys C-p Enter Enter`, a fast typist over SSH) are all queued before the
    first is handled: the first Enter runs the command and closes the palette, and the second, still queued
    in the palette, ran it again and closed the palette a second time, popping the console's own screen
    (ScreenStackError, the console ended). A choice that reaches a palette no longer shown is dropped here,
    before the palette's own handlers (a base class's) see it.
    """

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.drop_if_closed(event)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.drop_if_closed(event)

    def drop_if_closed(self, event: Input.Submitted | OptionList.OptionSelected) -> None:
        if not self.is_current:
            event.prevent_default()
            event.stop()
