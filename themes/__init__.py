"""The console's themes: dark (the default), light, and high contrast in the terminal's own 16 colours.

The remembered choice is a user setting and lives with the others in `tui.console.settings`.
"""

from __future__ import annotations

from textual.theme import Theme

from themes.dark import THEME as DARK
from themes.high_contrast import THEME as HIGH_CONTRAST
from themes.light import THEME as LIGHT

THEMES: tuple[Theme, ...] = (DARK, LIGHT, HIGH_CONTRAST)
DEFAULT_THEME = DARK.name
THEME_NAMES: tuple[str, ...] = tuple(theme.name for theme in THEMES)
