"""A light theme for bright rooms and light terminal profiles."""

from textual.theme import Theme

THEME = Theme(
    name="bai-light",
    primary="#1F5F99",
    secondary="#2874A6",
    accent="#AF601A",
    warning="#9A5B00",
    error="#B03A2E",
    success="#1D7A43",
    foreground="#1B1F23",
    background="#F7F9FA",
    surface="#ECEFF1",
    panel="#DDE3E7",
    dark=False,
)
