"""Modal dialogs: a yes/no confirmation before anything destructive, and a small form for names and paths.

Both are keyboard-first (Enter accepts, Escape cancels, y/n answer a confirmation) so they work over SSH
without a mouse, and a form never closes while a field is invalid: the message sits under that field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

# Returns an error message for a value, or None when it is fine.
Check = Callable[[str], str | None]


def required(what: str) -> Check:
    def check(value: str) -> str | None:
        return None if value.strip() else f"enter a {what}"

    return check


def whole_number(what: str, minimum: int = 0) -> Check:
    def check(value: str) -> str | None:
        try:
            number = int(value.strip())
        except ValueError:
            return f"{what} must be a whole number"
        return None if number >= minimum else f"{what} must be at least {minimum}"

    return check


@dataclass
class FormField:
    """One input of a `FormDialog`."""

    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    check: Check | None = None


class ConfirmDialog(ModalScreen[bool]):
    """Ask before a destructive action; answers True only on an explicit yes."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2;
        border: thick $error; background: $surface;
    }
    ConfirmDialog #question { width: 100%; margin-bottom: 1; }
    ConfirmDialog Horizontal { height: auto; align: right middle; }
    ConfirmDialog Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, yes_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question", markup=False)
            with Horizontal():
                yield Button(f"{self.yes_label} (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A titled form of text inputs; dismisses with {key: value} once every check passes, None on Escape."""

    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > VerticalScroll {
        width: 72; max-width: 98%; height: auto; max-height: 95%; padding: 0 1;
        border: thick $primary; background: $surface;
    }
    FormDialog #title { text-style: bold; margin-bottom: 1; }
    FormDialog .field-label { margin-top: 0; }
    FormDialog Input { background: $boost; }
    FormDialog Input:focus { background: $primary 25%; }
    FormDialog .field-error { color: $error; height: auto; }
    FormDialog .field-error.-empty { display: none; }
    FormDialog Horizontal { height: auto; align: right middle; margin-top: 1; }
    FormDialog Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(self, title: str, fields: list[FormField], submit_label: str = "OK") -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.submit_label = submit_label

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.title_text, id="title", markup=False)
            for spec in self.fields:
                yield Label(spec.label, classes="field-label", markup=False)
                # one line each (no border), so the six-field cluster form fits an 80x24 terminal
                yield Input(spec.value, placeholder=spec.placeholder, id=f"field-{spec.key}", compact=True)
                yield Static("", id=f"error-{spec.key}", classes="field-error -empty", markup=False)
            with Horizontal():
                yield Button(self.submit_label, variant="primary", id="ok")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        # Start where the user has to type: fields prefilled from the selection (the group, the
        # workspace) come first, and typing over one of them replaced it instead of naming the new thing.
        empty = [spec for spec in self.fields if not spec.value]
        first = (empty or self.fields)[:1]
        if first:
            self.query_one(f"#field-{first[0].key}", Input).focus()

    def _values(self) -> dict[str, str]:
        return {spec.key: self.query_one(f"#field-{spec.key}", Input).value for spec in self.fields}

    def _show_errors(self) -> bool:
        """Put each field's problem under it; True when there is none."""
        values = self._values()
        ok = True
        first_bad: Input | None = None
        for spec in self.fields:
            message = spec.check(values[spec.key]) if spec.check else None
            error = self.query_one(f"#error-{spec.key}", Static)
            error.update(message or "")
            error.set_class(not message, "-empty")
            if message:
                ok = False
                first_bad = first_bad or self.query_one(f"#field-{spec.key}", Input)
        if first_bad is not None:
            first_bad.focus()
        return ok

    def _submit(self) -> None:
        if self._show_errors():
            self.dismiss({key: value.strip() for key, value in self._values().items()})

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
