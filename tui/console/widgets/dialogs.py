"""Modal dialogs: a yes/no confirmation before anything destructive, and a small form for names and paths.

Both are keyboard-first (Enter accepts, Escape cancels, y/n answer a confirmation) so they work over SSH
without a mouse, and a form never closes while a field is invalid: the message sits under that field.
A form opens with the cursor in the field it is named after (the share's name in "Create file share"),
whose suggested value is a real value, selected: Enter takes it, typing replaces it. Path fields
complete from the file system on Tab.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
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


def suggest_name(base: str, taken: Iterable[str]) -> str:
    """`base` (the tutorial's name), or `base2`, `base3`... when a sibling already has it: a suggestion
    the user can accept with Enter must not be refused as a duplicate."""
    used = {name.lower() for name in taken}
    if base.lower() not in used:
        return base
    number = 2
    while f"{base}{number}".lower() in used:
        number += 1
    return f"{base}{number}"


# A folder holding more entries than this is not read to the end for a completion (a Tab must stay quick).
MAX_COMPLETION_ENTRIES = 5000


def complete_path(value: str) -> str | None:
    """The completion of a typed local path, as a shell's Tab gives it: the one entry it can be (a folder
    ends in `/`), else the entries' longest common start; None when nothing longer fits. `~` stays as
    typed; hidden entries are offered only once a `.` is typed."""
    if not value:
        return None
    typed_folder, _, prefix = value.rpartition("/")
    folder = Path(os.path.expanduser(typed_folder + "/" if typed_folder or value.startswith("/") else "."))
    matches: list[tuple[str, bool]] = []
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_COMPLETION_ENTRIES:
                    break
                if entry.name.startswith(prefix) and (
                    prefix.startswith(".") or not entry.name.startswith(".")
                ):
                    try:
                        matches.append((entry.name, entry.is_dir()))
                    except OSError:
                        continue
    except OSError:
        return None
    if not matches:
        return None
    head = value[: len(value) - len(prefix)]
    if len(matches) == 1:
        name, is_dir = matches[0]
        completed = head + name + ("/" if is_dir else "")
    else:
        # the common start of the names, character by character (a shell's Tab), not of path parts
        completed = head + os.path.commonprefix([name for name, _ in matches])  # noqa: RUF071
    return completed if len(completed) > len(value) else None


class PathSuggester(Suggester):
    """Textual's suggester over the local file system (never cached: files come and go)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


class PathInput(Input):
    """An input for a local path: the completion shows greyed after the cursor and Tab takes it, as in a
    shell; with nothing to complete, Tab moves to the next field as everywhere else."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete path", show=False, id="path.complete"),
    ]

    def __init__(self, value: str = "", **kwargs: object) -> None:
        super().__init__(value, suggester=PathSuggester(), **kwargs)  # type: ignore[arg-type]

    def action_complete(self) -> None:
        suggestion = self._suggestion
        if suggestion and len(suggestion) > len(self.value) and self.cursor_at_end:
            self.value = suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()


@dataclass
class FormField:
    """One input of a `FormDialog`; `path` fields complete from the local file system on Tab."""

    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    check: Check | None = None
    path: bool = False


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

    def __init__(
        self, title: str, fields: list[FormField], submit_label: str = "OK", focus: str | None = None
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.submit_label = submit_label
        self.focus_key = focus or self._named_field()

    def _named_field(self) -> str | None:
        """The field the dialog is named after: the `name` field, else the first empty one, else the first.
        Fields prefilled from the selection (the group, the workspace) come first, and starting there
        made typing replace them instead of naming the new thing."""
        keys = [spec.key for spec in self.fields]
        if "name" in keys:
            return "name"
        empty = [spec.key for spec in self.fields if not spec.value]
        return (empty or keys or [None])[0]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.title_text, id="title", markup=False)
            for spec in self.fields:
                yield Label(spec.label, classes="field-label", markup=False)
                # one line each (no border), so the six-field cluster form fits an 80x24 terminal
                kind = PathInput if spec.path else Input
                yield kind(spec.value, placeholder=spec.placeholder, id=f"field-{spec.key}", compact=True)
                yield Static("", id=f"error-{spec.key}", classes="field-error -empty", markup=False)
            with Horizontal():
                yield Button(self.submit_label, variant="primary", id="ok")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        # Start where the user has to type, its suggested value selected (Input selects on focus).
        if self.focus_key is not None:
            self.query_one(f"#field-{self.focus_key}", Input).focus()

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


@dataclass(frozen=True)
class Choice:
    """One answer of a `ChoiceDialog`: the key that gives it, its button's words, what it dismisses with."""

    key: str
    label: str
    answer: str
    variant: str = "default"


class ChoiceDialog(ModalScreen[str | None]):
    """A question with more answers than yes and no, each on its own key; Esc (or n) answers None.

    The scale-to-0 question needs three: scale now (the service waits for running jobs before it removes
    their nodes), terminate those jobs and then scale, or leave it.
    """

    DEFAULT_CSS = """
    ChoiceDialog { align: center middle; }
    ChoiceDialog > Vertical {
        width: 76; max-width: 98%; height: auto; padding: 1 2;
        border: thick $error; background: $surface;
    }
    ChoiceDialog #question { width: 100%; margin-bottom: 1; }
    ChoiceDialog Horizontal { height: auto; align: right middle; }
    ChoiceDialog Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "answer('')", "No", id="choice.no")]

    def __init__(self, question: str, choices: list[Choice]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question", markup=False)
            with Horizontal():
                for choice in self.choices:
                    yield Button(
                        f"{choice.label} ({choice.key})",
                        variant=choice.variant,  # type: ignore[arg-type]
                        id=f"choice-{choice.answer}",
                    )
                yield Button("No (n)", id="choice-no")

    def on_mount(self) -> None:
        self.query_one("#choice-no", Button).focus()

    def on_key(self, event: Any) -> None:
        for choice in self.choices:
            if event.key == choice.key:
                event.stop()
                self.dismiss(choice.answer)
                return
        if event.key == "n":
            event.stop()
            self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        answer = (event.button.id or "").removeprefix("choice-")
        self.dismiss(None if answer == "no" else answer)

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer or None)
