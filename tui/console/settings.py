"""The console's user settings (`console.json`: the chosen theme, the keymap) and its crash-log folder.

Both live under `$BAI_HOME` when set, else under the platform's user config directory, so a jump box account
keeps its readable theme and its keys across sessions. Reading never fails the console: a missing or broken
file is no settings; a read-only home only means the choice is not remembered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tui.core import settings as core_settings

SETTINGS_FILE = "console.json"
CRASH_LOG = "console-crash.log"


def config_dir() -> Path:
    """Where console settings live: `$BAI_HOME`, else the user config dir (platformdirs)."""
    home = core_settings.bai_home()
    if home is not None:
        return home
    from platformdirs import user_config_dir

    return Path(user_config_dir("bai", appauthor=False))


def crash_log_path() -> Path:
    """The private file a console crash's traceback goes to (see `lifecycle.crash_report`)."""
    return config_dir() / CRASH_LOG


def load_settings() -> dict[str, object]:
    """The saved settings, or {} when none were saved or the file is unreadable (never fatal)."""
    try:
        data = json.loads((config_dir() / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_theme_choice() -> str | None:
    theme = load_settings().get("theme")
    return theme if isinstance(theme, str) else None


def save_theme_choice(name: str) -> None:
    """Remember the theme."""
    save_setting("theme", name)


def save_setting(key: str, value: object) -> None:
    """Set one top-level entry of console.json, keeping the others; written atomically so two consoles
    never leave half a file."""
    folder = config_dir()
    settings = load_settings()
    settings[key] = value
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{SETTINGS_FILE}.{os.getpid()}"
        temporary.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        temporary.replace(folder / SETTINGS_FILE)
    except OSError:
        pass  # a read-only home must not break the console; the choice still applies for this session


def load_keymap() -> dict[str, str]:
    """User key remaps from console.json's "keymap" ({"bai.refresh": "f5"}); bad entries are ignored."""
    keymap = load_settings().get("keymap")
    if not isinstance(keymap, dict):
        return {}
    return {str(key): str(value) for key, value in keymap.items() if isinstance(value, str)}
