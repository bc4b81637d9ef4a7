"""The console's themes: dark (the default), light, and high contrast in the terminal's own 16 colours.

The remembered choice is a user setting and lives with the others in `tui.console.settings`.

The names are plain strings and `THEMES` (Textual's `Theme` objects) is built on first use, so `bai --theme`
is checked without importing Textual (about 0.3 s): a bad name is answered at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.theme import Theme

    THEMES: tuple[Theme, ...]

# The order the console offers them in; each is the `name` of the theme of the same place in `THEMES`.
THEME_NAMES: tuple[str, ...] = ("bai-dark", "bai-light", "bai-high-contrast")
DEFAULT_THEME = THEME_NAMES[0]


def __getattr__(name: str) -> Any:
    """`themes.THEMES`, imported (with Textual) the first time it is asked for."""
    if name != "THEMES":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from themes.dark import THEME as DARK
    from themes.high_contrast import THEME as HIGH_CONTRAST
    from themes.light import THEME as LIGHT

    themes = (DARK, LIGHT, HIGH_CONTRAST)
    globals()["THEMES"] = themes
    return themes
