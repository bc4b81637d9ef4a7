"""The console app: the shell around `MainScreen`, over one backend (local or Azure Batch AI).

It owns what lives as long as the process: the backend, the themes and the remembered choice, the keymap
(console.json's `"keymap"`, by binding id), the command palette, and the way the console ends (signals and
crash report, see `lifecycle`). Everything on screen is `MainScreen`'s. TensorFlow and the Azure SDK are
never imported at start (the job form imports the SDK's models on first use), which keeps the first paint
under a second on a jump box.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from textual import events
from textual.app import App
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import Input, TextArea

import themes
from tui.console import actions, lifecycle, settings
from tui.console.gc_pacing import GcPacer
from tui.console.main_screen import JOB_POLL_SECONDS, MainScreen
from tui.console.palette import ConsoleCommands, ConsolePalette
from tui.console.widgets.live_log import LiveLog
from tui.console.widgets.node_table import NodeTable
from tui.console.widgets.resource_tree import ResourceTree

# Keys this close together came in one read from the terminal: no one types them, a paste delivers them.
PASTE_GAP_SECONDS = 0.01
PASTE_MIN_KEYS = 3  # printable keys in one such burst that make it a paste (tmux's "C-p Enter Enter" is not)
# A paste comes in several reads (a loaded machine spaces them out): a key this soon after one is more of it.
PASTE_TAIL_SECONDS = 0.25


def is_paste(keys: list[events.Key]) -> bool:
    """True when some run of `keys`, each within PASTE_GAP_SECONDS of the last, has PASTE_MIN_KEYS
    printable ones: a human types a few keys a second, a terminal delivers a paste in one read."""
    run = 0
    for index, key in enumerate(keys):
        if index and key.time - keys[index - 1].time > PASTE_GAP_SECONDS:
            run = 0
        run += key.is_printable
        if run >= PASTE_MIN_KEYS:
            return True
    return False


class BaiApp(App[int]):
    """The control console; give it an open backend (see `tui.console.launch.run_console`)."""

    TITLE = "bai"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    COMMANDS = App.COMMANDS | {ConsoleCommands}

    def __init__(
        self,
        backend: Any,
        *,
        backend_name: str = "local",
        job_path: Path | None = None,
        theme: str | None = None,
        keymap: dict[str, str] | None = None,
        poll_seconds: float = JOB_POLL_SECONDS,
        node_poll_seconds: float | None = None,
        remember_theme: bool = True,
    ) -> None:
        super().__init__()
        if not os.environ.get("TEXTUAL_ANIMATIONS"):
            # Over SSH every animation frame is bytes on the wire and a delay before the next key: off.
            self.animation_level = "none"
        self.backend = backend
        self.backend_name = backend_name
        self.remember_theme = remember_theme
        self.main = MainScreen(
            job_path=job_path, poll_seconds=poll_seconds, node_poll_seconds=node_poll_seconds
        )
        for entry in themes.THEMES:
            self.register_theme(entry)
        startup_theme = theme or settings.load_theme_choice() or themes.DEFAULT_THEME
        self.theme = startup_theme if startup_theme in self.available_themes else themes.DEFAULT_THEME
        self.keymap_overrides = dict(keymap or {})
        self.held_keys: list[events.Key] = []  # keys outside a text field, until we know they are no paste
        self.paste_seen_at = 0.0  # when the last key of a dropped paste arrived
        # Textual prints an internal error's traceback, local variables and all, on this console when the
        # app ends: into the crash log instead (see `lifecycle`); `run_console` says where in one line.
        self.crash_log = lifecycle.CrashLog()
        self.error_console = Console(
            file=self.crash_log, color_system=None, width=1000, markup=False, highlight=False
        )
        self.held_notifications: list[dict[str, Any]] = []
        self.gc_pacer = GcPacer()  # started by MainScreen once the start-up heap is frozen

    def get_default_screen(self) -> MainScreen:
        return self.main

    def on_mount(self) -> None:
        self.sub_title = f"{self.backend_name} backend"
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)
        self.theme_changed_signal.subscribe(self, self.remember_theme_choice)
        lifecycle.install_signal_handlers(self)

    async def on_unmount(self) -> None:
        self.gc_pacer.stop()
        with contextlib.suppress(Exception):  # closing must never stop the exit
            await self.backend.close()

    # ------------------------------------------------------------------------------------------ panes

    @property
    def tree(self) -> ResourceTree:
        return self.main.tree

    @property
    def nodes(self) -> NodeTable:
        return self.main.nodes

    @property
    def live_log(self) -> LiveLog:
        return self.main.live_log

    # ------------------------------------------------------------------------------------------ pastes

    async def on_event(self, event: events.Event) -> None:
        """Keep a paste from running as hotkeys (issue 10): one that the terminal did not mark as a paste.

        A terminal that knows bracketed paste sends a Paste event, which no hotkey hears. Others (tmux's
        paste-buffer without -p, a serial console) send the text as keys, all from one read. Outside a
        text field, a key is held until the keys queued with it have arrived (`call_later` runs after
        them); three or more printable keys that came together are a paste and are dropped, with what
        follows of it; anything else is handled as typed, in order.
        """
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.gc_pacer.key_came()
        if not isinstance(event, events.Key) or event.is_forwarded or self.in_text_field():
            await super().on_event(event)  # a key bubbling back from the focused widget is one released
            return
        if self.paste_seen_at and event.time - self.paste_seen_at <= PASTE_TAIL_SECONDS:
            self.paste_seen_at = event.time  # the rest of a paste already dropped
            return
        self.held_keys.append(event)
        if len(self.held_keys) == 1:
            self.call_later(self.release_held_keys)

    async def release_held_keys(self) -> None:
        held, self.held_keys = self.held_keys, []
        if is_paste(held):
            new_paste = held[0].time - self.paste_seen_at > 1.0  # not more reads of the one just told of
            self.paste_seen_at = held[-1].time
            if not new_paste:
                return
            self.notify(
                "A paste outside a text field is ignored: move to a field first (its keys are not commands).",
                title="Paste ignored",
                severity="warning",
                timeout=5,
            )
            return
        for key in held:
            await super().on_event(key)

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        """Run an action (a key's, mostly); a GC collection that is due runs once its answer is painted.

        Here, not where the key arrives: Textual hands a key on to the focused widget and back up through
        its own queue, so the action runs a turn later; what the action changes is painted before the
        callbacks queued after it.
        """
        ran = await super().run_action(action, default_namespace, namespaces)
        if self.gc_pacer.pacing:
            self.call_after_refresh(self.gc_pacer.key_answered)
        return ran

    def in_text_field(self) -> bool:
        return isinstance(self.focused, (Input, TextArea))

    def action_command_palette(self) -> None:
        """Ctrl+P: the palette, as Textual opens it, but one that ignores keys queued after it closed."""
        if self.use_command_palette and not ConsolePalette.is_open(self):
            self.push_screen(ConsolePalette(id="--command-palette"))

    def key_for(self, binding_id: str) -> str:
        """The key now bound to `binding_id` (after any keymap), for the palette's help text."""
        return actions.key_for(binding_id, self.keymap_overrides)

    # ------------------------------------------------------------------------------------------ notices

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Say something; while a dialog is open it is held and said once the dialog closes.

        At 80x24 toasts covered the scale-to-0 question; held, they cannot cover a dialog, and they get
        their whole time on screen after it (and the toasts from before it are hidden under it, app.tcss).
        """
        notice = {"title": title, "severity": severity, "timeout": timeout, "markup": markup}
        if isinstance(self.screen, ModalScreen):
            self.held_notifications.append({"message": message, **notice})
            return
        super().notify(message, **notice)  # type: ignore[arg-type]

    def show_held_notifications(self) -> None:
        held, self.held_notifications = self.held_notifications, []
        for notice in held:
            self.notify(**notice)

    # ------------------------------------------------------------------------------------------ themes

    def action_next_theme(self) -> None:
        names = themes.THEME_NAMES
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def remember_theme_choice(self, theme: Any) -> None:
        if self.remember_theme:
            settings.save_theme_choice(theme.name)
