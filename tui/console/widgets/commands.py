"""The command palette's provider: every console action, found by name (Ctrl+P), with its key shown."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.console.app import BaiApp


class ConsoleCommands(Provider):
    """Lists the same actions as the key bindings (one table, `tui.console.app.ACTIONS`): neither drifts."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app: BaiApp = self.app  # type: ignore[assignment]
        out = []
        for spec in app.action_specs():
            key = app.key_for(spec.binding_id)
            out.append((spec.title, spec.action, f"{spec.help}  [key: {key}]" if key else spec.help))
        return out

    def _run(self, action: str) -> None:
        self.app.call_later(self.app.run_action, action)

    async def discover(self) -> Hits:
        for title, action, help_text in self._commands():
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in self._commands():
            score = max(matcher.match(title), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self._run, action), text=title, help=help_text
                )
