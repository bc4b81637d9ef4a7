"""The default dark theme: calm blues on near-black, for long sessions watching a training run."""

from textual.theme import Theme

THEME = Theme(
    name="bai-dark",
    primary="#4EA1D3",
    secondary="#7FB3D5",
    accent="#F5B041",
    warning="#F5B041",
    error="#E74C3C",
    success="#58D68D",
    foreground="#E5E8E8",
    background="#111518",
    surface="#1B2126",
    panel="#232B31",
    dark=True,
)
