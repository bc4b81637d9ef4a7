"""The console's themes (dark default, light, high contrast in 16 colours) and the remembered choice.

The choice lives in `console.json` under `$BAI_HOME` when set, else under the platform's user config
directory, so a jump box account keeps its readable theme across sessions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from textual.theme import Theme

from themes.dark import THEME as DARK
from themes.high_contrast import THEME as HIGH_CONTRAST
from themes.light import THEME as LIGHT

THEMES: tuple[Theme, ...] = (DARK, LIGHT, HIGH_CONTRAST)
DEFAULT_THEME = DARK.name
SETTINGS_FILE = "console.json"


def config_dir() -> Path:
    """Where console settings live: `$BAI_HOME`, else the user config dir (platformdirs)."""
    home = os.environ.get("BAI_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("bai", appauthor=False))


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
    """Remember the theme; written atomically so two consoles never leave half a file."""
    folder = config_dir()
    settings = load_settings()
    settings["theme"] = name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{SETTINGS_FILE}.{os.getpid()}"
        temporary.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        temporary.replace(folder / SETTINGS_FILE)
    except OSError:
        pass  # a read-only home must not break the console; the theme still applies for this session
