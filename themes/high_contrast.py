"""High contrast in the 16 ANSI colours only, for jump boxes whose terminals have no 256 or true colour.

Every colour is an ANSI name, so the terminal's own palette draws it and nothing is approximated; text is
bright white or black on the default background, and state is never told by colour alone in this app.
"""

from textual.theme import Theme

THEME = Theme(
    name="bai-high-contrast",
    ansi=True,
    primary="ansi_bright_cyan",
    # not bright blue: on black it is 2.4:1 in the common palettes (the tree's "canceled" and Compare runs'
    # sixth curve are drawn in it)
    secondary="ansi_bright_magenta",
    accent="ansi_bright_yellow",
    warning="ansi_bright_yellow",
    error="ansi_bright_red",
    success="ansi_bright_green",
    foreground="ansi_bright_white",
    background="ansi_black",
    surface="ansi_black",
    panel="ansi_black",
    boost="ansi_default",
    dark=True,
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_bright_white",
        "border": "ansi_bright_white",
        "border-blurred": "ansi_white",
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_bright_yellow",
        "block-cursor-text-style": "bold",
        "block-cursor-blurred-foreground": "ansi_black",
        "block-cursor-blurred-background": "ansi_white",
        "input-cursor-background": "ansi_bright_white",
        "input-cursor-foreground": "ansi_black",
        "input-selection-background": "ansi_bright_blue",
        "input-selection-foreground": "ansi_black",
        "screen-selection-background": "ansi_bright_blue",
        "screen-selection-foreground": "ansi_black",
        "footer-key-foreground": "ansi_bright_yellow",
        "footer-description-foreground": "ansi_bright_white",
        "scrollbar": "ansi_white",
        "scrollbar-background": "ansi_black",
    },
)
