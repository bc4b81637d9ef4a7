"""A one-of-a-list field: a compact button showing the choice; Enter (or a click) opens the list to pick from.

The job form's toolkit uses it instead of Textual's Select, whose own mount handler looks up a label inside it
and raised NoMatches when the console quit while the form was still mounting (the form is mounted lazily,
just after the first paint). This is one widget with nothing inside it to look up, and its list is a screen
of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList


class ChoiceList(ModalScreen[str | None]):
    """The choices, the current one highlighted: Enter picks, Escape leaves the choice as it was."""

    DEFAULT_CSS = """
    ChoiceList { align: center middle; }
    ChoiceList OptionList { width: 32; height: auto; max-height: 80%; border: round $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: tuple[str, ...], current: str) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        options = OptionList(*self.choices)
        options.border_title = self.title_text
        if self.current in self.choices:
            options.highlighted = self.choices.index(self.current)
        yield options

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceField(Button):
    """Shows one of `choices`; pressing it opens `ChoiceList`. Posts `ChoiceField.Changed` on a new value."""

    DEFAULT_CSS = """
    ChoiceField { width: auto; min-width: 20; text-align: left; content-align: left middle; }
    """

    class Changed(Message):
        def __init__(self, field: ChoiceField, value: str) -> None:
            super().__init__()
            self.field = field
            self.value = value

        @property
        def control(self) -> ChoiceField:
            return self.field

    def __init__(self, choices: Iterable[str], value: str, *, title: str = "", id: str | None = None) -> None:
        self.choices = tuple(choices)
        self.current = value
        self.title_text = title
        super().__init__(self.caption(value), id=id, compact=True)

    @staticmethod
    def caption(value: str) -> str:
        return f"{value} ▾"

    @property
    def value(self) -> str:
        return self.current

    @value.setter
    def value(self, value: str) -> None:
        if value == self.current:
            return
        self.current = value
        self.label = self.caption(value)
        self.post_message(self.Changed(self, value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()

        def picked(value: str | None) -> None:
            if value is not None:
                self.value = value

        self.app.push_screen(ChoiceList(self.title_text, self.choices, self.current), picked)
