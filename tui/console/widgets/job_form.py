"""The job form: job.json's fields as inputs, the rest of the 2018-05-01 schema behind an "advanced" fold.

Errors come from the jobspec module (the SDK's own model plus the checks the SDK does not make) and are put
next to the field they name. The SDK is imported only when the form first validates (in a thread), so the
console starts without it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.events import DescendantBlur, DescendantFocus
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Collapsible, Input, Label, Static, TextArea

from tui.console.widgets.choice import ChoiceField
from tui.console.widgets.job_form_fields import (
    ADVANCED_FIELDS,
    FIELD_LABELS,
    MAIN_FIELDS,
    TARGET_FIELDS,
    JobTarget,
    check_document,
    check_target,
    dom_id,
    merge_errors,
)
from tui.console.wording import hint_text
from tui.core.errors import FieldError
from tui.core.jobspec.fields import TOOLKIT_FIELDS, JobFields, field_of_error, join_job, split_job


class JobForm(Vertical):
    """Edit a job.json; posts `JobForm.Submit` with the document and target once both check out."""

    DEFAULT_CSS = """
    JobForm { height: 1fr; }
    JobForm #form-title { height: 1; text-style: bold; padding: 0 1; }
    JobForm #form-status { height: auto; padding: 0 1; }
    JobForm VerticalScroll { height: 1fr; }
    JobForm Grid { grid-size: 2; grid-columns: 18 1fr; grid-rows: auto; height: auto; grid-gutter: 0 1; }
    JobForm Label { width: 100%; color: $text-muted; }
    JobForm .error { color: $error; column-span: 2; height: auto; padding-left: 19; }
    JobForm .error.-empty { display: none; }
    JobForm TextArea { height: 3; }
    JobForm #f-advanced { height: 8; }
    JobForm Collapsible { padding: 0; }
    JobForm Input:focus, JobForm TextArea:focus, JobForm ChoiceField:focus { background: $primary 30%; }
    JobForm Label.-current { color: $text; background: $primary 30%; text-style: bold; }
    """

    # In a field every letter is text, so the console's one-letter keys (s submits) cannot act there:
    # Escape hands the keyboard back to the tree, and the footer says so.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "screen.focus_tree", "Leave field", id="job_form.leave"),
    ]

    class Ready(Message):
        """Posted once mounted and filled in (the screen mounts the form lazily, after the first paint)."""

        def __init__(self, form: JobForm) -> None:
            super().__init__()
            self.form = form

    class Submit(Message):
        def __init__(self, document: dict[str, Any], target: JobTarget) -> None:
            super().__init__()
            self.document = document
            self.target = target

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: Path | None = None
        self.fields = JobFields()
        self._validate_timer: Timer | None = None
        self._filling = False
        self.errors: dict[str, list[str]] = {}
        self.is_ready = False
        self._edits = 0  # user edits so far: a refusal stays marked until the next one
        self._refused: tuple[int, list[FieldError]] | None = None
        # Target fields the user has set: they no longer follow the tree's selection.
        self.typed_target: set[str] = set()
        # Values the form itself put in a target field, each still to be heard back as Input.Changed.
        self._followed: dict[str, list[str]] = {}
        self._keeping: Timer | None = None  # keeps the field with the cursor in view (see keep_in_view)

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static("New job (o opens a job.json)", id="form-title", markup=False)
        yield Static("", id="form-status", markup=False)
        fields = VerticalScroll()
        fields.can_focus = False  # Tab from the tree lands in the first field, not on the scroller
        with fields:
            with Grid():
                for name, label in TARGET_FIELDS:
                    yield from self._field(name, label, "input")
                for name, label, kind in MAIN_FIELDS:
                    yield from self._field(name, label, kind)
            with Collapsible(title="advanced (rest of the 2018-05-01 schema)", id="advanced-fold"), Grid():
                for name, label, kind in ADVANCED_FIELDS:
                    yield from self._field(name, label, kind)

    def _field(self, name: str, label: str, kind: str) -> ComposeResult:
        dom = dom_id(name)
        yield Label(label, id=f"l-{dom}", markup=False)
        if kind == "select":
            yield ChoiceField(TOOLKIT_FIELDS, "horovod", title=label, id=f"f-{dom}")
        elif kind == "area":
            yield TextArea("", id=f"f-{dom}", compact=True, soft_wrap=False)
        else:
            yield Input("", id=f"f-{dom}", compact=True)
        yield Static("", id=f"e-{dom}", classes="error -empty", markup=False)

    def on_mount(self) -> None:
        # Inner widgets finish mounting a frame later: fill in the values then.
        self.call_after_refresh(self._ready)

    def on_unmount(self) -> None:
        self.is_ready = False  # a Ready note still queued from this form is ignored (see MainScreen)

    def _ready(self) -> None:
        try:
            self._fill(self.fields)
        except NoMatches:
            return  # its fields are gone already: the console is closing
        self.is_ready = True
        self.post_message(self.Ready(self))

    # ------------------------------------------------------------------------------------------ values

    def _widget(self, name: str) -> Input | TextArea | ChoiceField:
        return self.query_one(f"#f-{dom_id(name)}")  # type: ignore[return-value]

    def _value(self, name: str) -> str:
        widget = self._widget(name)
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, ChoiceField):
            return widget.value
        return widget.value

    def set_value(self, name: str, value: str) -> None:
        """Put `value` in a field as the user would: a target field set so no longer follows the tree."""
        if name in FIELD_LABELS and name.startswith("target."):
            self.typed_target.add(name)
        widget = self._widget(name)
        if isinstance(widget, TextArea):
            widget.load_text(value)
        elif isinstance(widget, ChoiceField):
            widget.value = value
        else:
            widget.value = value

    def _fill(self, fields: JobFields) -> None:
        self._filling = True
        try:
            for name, _label, _kind in (*MAIN_FIELDS, *ADVANCED_FIELDS):
                self.set_value(name, getattr(fields, name))
        finally:
            self._filling = False
        self._update_toolkit_fields(fields.toolkit)

    def _update_toolkit_fields(self, toolkit: str) -> None:
        _script, args_key, count_key = TOOLKIT_FIELDS.get(toolkit, TOOLKIT_FIELDS["horovod"])
        self._widget("arguments").disabled = args_key is None
        self._widget("process_count").disabled = count_key is None

    def current_fields(self) -> JobFields:
        fields = JobFields(share_extras=self.fields.share_extras)
        for name, _label, _kind in (*MAIN_FIELDS, *ADVANCED_FIELDS):
            setattr(fields, name, self._value(name))
        return fields

    def target(self) -> tuple[JobTarget, list[FieldError]]:
        return check_target({name: self._value(name) for name, _label in TARGET_FIELDS})

    def follow_target(self, *, only_empty: bool = False, **values: str) -> None:
        """Show the tree's selection in the target fields the user has not set (never overwrite those).

        An empty value is no news: the selection says nothing about that level (a cluster names no
        experiment), so the field keeps what it showed. With `only_empty`, only empty fields are filled.
        """
        for key, value in values.items():
            name = f"target.{key}"
            if not value or name in self.typed_target:
                continue
            widget = self._widget(name)
            if not isinstance(widget, Input) or widget.value == value:
                continue
            if only_empty and widget.value.strip():
                continue
            self._followed.setdefault(name, []).append(value)
            widget.value = value

    def prefill_target(self, **values: str) -> None:
        """Fill the empty target fields the user has not set (what the state decides, say)."""
        self.follow_target(only_empty=True, **values)

    # ------------------------------------------------------------------------------------------ files

    def load_document(self, document: dict[str, Any], path: Path | None = None) -> None:
        self.path = path
        self.fields = split_job(document)
        self._fill(self.fields)
        title = f"job.json: {path}" if path else "New job"
        self.query_one("#form-title", Static).update(title)
        self.validate_soon(0.0)

    def load_file(self, path: Path) -> None:
        """Read job.json into the form; a file that is not JSON is reported, the form left as it was."""
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise FileNotFoundError(f"{path} does not exist: give the path of a job.json") from None
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{path} is not valid JSON (line {error.lineno} column {error.colno}: "
                f"{error.msg}): fix it and open it again"
            ) from None
        if not isinstance(document, dict):
            raise ValueError(f'{path} must hold a JSON object ({{"properties": ...}})')
        self.load_document(document, Path(path))

    def document(self) -> tuple[dict[str, Any], list[FieldError]]:
        return join_job(self.current_fields())

    def save(self, path: Path | None = None) -> Path:
        """Write the edited job.json (to where it came from unless `path` is given)."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("this job has no file yet: save it with a path")
        document, errors = self.document()
        if errors:
            self.show_errors(errors)
            raise ValueError(f"{len(errors)} field(s) cannot be written as JSON: fix the marked fields first")
        if self.path and target == self.path and self.path.exists():
            try:
                original = json.loads(self.path.read_text(encoding="utf-8-sig"))
                if isinstance(original, dict) and "$schema" in original:
                    document["$schema"] = original["$schema"]
            except (OSError, ValueError):
                pass
        target.write_text(json.dumps(document, indent=4) + "\n", encoding="utf-8")
        self.path = target
        self.query_one("#form-title", Static).update(f"job.json: {target}")
        return target

    # ------------------------------------------------------------------------------------------ checks

    def show_errors(self, errors: list[FieldError]) -> None:
        """Put each message under its field; open the advanced fold when one lands there.

        The form never removes its own fields, so a missing one means the console is closing: teardown
        removes them one by one, and a late check can land between two removals. It is dropped then.
        """
        try:
            self._show_errors(errors)
        except NoMatches:
            return  # half torn down: nothing left to show the messages in
        # New messages (and a status line that wraps differently) move the fields: the one being typed in
        # must not slide out of view under the user's cursor.
        focused = self.app.focused
        if (
            isinstance(focused, (Input, TextArea, ChoiceField))
            and (focused.id or "").startswith("f-")
            and self in focused.ancestors
        ):
            self.keep_in_view(focused)

    def _show_errors(self, errors: list[FieldError]) -> None:
        toolkit = self._value("toolkit")
        grouped: dict[str, list[str]] = {}
        for error in errors:
            field = field_of_error(error, toolkit)
            with_path = field in ("shares", "environment", "advanced", "toolkit")
            # What helps, in the console's words ("fill the Storage account field"), never a CLI flag.
            message = error.message + (hint_text(error.hint) if error.hint else "")
            shown = f"{error.path}: {message}" if with_path else message
            if shown not in grouped.setdefault(field, []):
                grouped[field].append(shown)
        self.errors = grouped
        for name in FIELD_LABELS:
            messages = grouped.get(name, [])
            label = self.query_one(f"#e-{dom_id(name)}", Static)
            label.update("\n".join(f"✘ {message}" for message in messages))
            label.set_class(not messages, "-empty")
        if any(name in grouped for name, _l, _k in ADVANCED_FIELDS):
            self.query_one("#advanced-fold", Collapsible).collapsed = False
        status = self.query_one("#form-status", Static)
        first = self.first_error_field()
        if first is None:
            status.update("✔ ready to submit" if not errors else f"✘ {len(errors)} problem(s)")
        else:
            # The marked field may be below the fold on a small terminal: say which one it is.
            label = FIELD_LABELS.get(first, first).split("\n")[0]
            status.update(f"✘ {len(errors)} problem(s); first: {label}: {grouped[first][0]}")

    def show_refused(self, errors: list[FieldError]) -> None:
        """Mark the service's reasons for refusing a submit; they stay until the user edits the form.

        The form's own check runs a moment after each edit and knows nothing of them (an unfilled storage
        account, say): without this it wiped them out as soon as it finished.
        """
        self._refused = (self._edits, list(errors))
        self.show_errors(errors)
        self.reveal_first_error()

    def _show_checked(self, errors: list[FieldError]) -> None:
        if self._refused is not None and self._refused[0] == self._edits:
            errors = merge_errors(errors, self._refused[1])
        self.show_errors(errors)

    def first_error_field(self) -> str | None:
        """The first field, in the form's order, that has a problem."""
        return next((name for name in FIELD_LABELS if name in self.errors), None)

    def reveal_first_error(self) -> None:
        """Focus the first marked field (scrolling it into view), so the user can fix it at once."""
        first = self.first_error_field()
        if first is None:
            return
        if any(first == name for name, _l, _k in ADVANCED_FIELDS):
            self.query_one("#advanced-fold", Collapsible).collapsed = False
        widget = self._widget(first)
        widget.focus(scroll_visible=False)
        self.keep_in_view(widget)

    def keep_in_view(self, widget: Input | TextArea | ChoiceField, turns: int = 20) -> None:
        """Scroll the field into view and keep it there over the next `turns` ticks (50 ms each) while it
        has the cursor.

        A fold opened just now is laid out over the next refreshes (its contents appear, then the grid
        grows), and a check that lands later changes the messages above it: later still on a loaded machine.
        Scrolling once aimed at where the field was not yet, and a field seen in view once could be pushed
        out again a moment later. So it is looked at after each layout, counted in the form's own ticks (a
        loaded machine runs them later, with its layouts), and scrolled back whenever it is out of view.
        """
        if self._keeping is not None:
            self._keeping.stop()
        left = turns

        def tick() -> None:
            nonlocal left
            if not self._scroll_into_view(widget) or left <= 0:
                if self._keeping is not None:
                    self._keeping.stop()
                    self._keeping = None
                return
            left -= 1

        self.call_after_refresh(self._scroll_into_view, widget)
        self._keeping = self.set_interval(0.05, tick)

    def _scroll_into_view(self, widget: Input | TextArea | ChoiceField) -> bool:
        """Scroll so the field is in view; False when it is to be left alone (gone, or the cursor moved on:
        leave the view where the user put it)."""
        if not widget.is_attached or not self.is_attached or self.app.focused is not widget:
            return False
        scroll = self.query_one(VerticalScroll)
        shown, view = widget.region, scroll.region
        if shown.height and view.contains_region(shown):
            return True
        if shown.height:
            # Where the screen drew it (the layout's own idea can lag a row behind a fold that just grew).
            below, above = shown.bottom - view.bottom, view.y - shown.y
            scroll.scroll_to(y=scroll.scroll_y + (below if below > 0 else -above), animate=False)
        else:
            scroll.scroll_to_widget(widget, animate=False)
        return True

    def validate_soon(self, delay: float = 0.4) -> None:
        if self._validate_timer is not None:
            self._validate_timer.stop()
        self._validate_timer = self.set_timer(delay, self.validate_now)

    def validate_now(self) -> None:
        try:
            document, errors = self.document()
            _target, target_errors = self.target()
            typed = self._typed()
        except NoMatches:
            return  # a field is gone: the console is closing (see show_errors)
        self._validate(document, errors + target_errors, typed)

    def _typed(self) -> tuple[JobFields, tuple[str, ...]]:
        """Every value in the form as typed: what a check was made of."""
        return self.current_fields(), tuple(self._value(name) for name, _label in TARGET_FIELDS)

    @work(exclusive=True, group="job-form-validate")
    async def _validate(
        self, document: dict[str, Any], errors: list[FieldError], typed: tuple[JobFields, tuple[str, ...]]
    ) -> list[FieldError]:
        """The full check, in a thread (it imports and runs the SDK's model); shown when it comes back,
        unless the form was changed meanwhile: a newer check is due then, and this one's verdict on the old
        values would unmark (for a moment) a field a refused submit had just marked.

        The worker is the form's: removing the form cancels it, so a check never lands on a closed form.
        """
        all_errors = merge_errors(errors, await asyncio.to_thread(check_document, document))
        try:
            changed = self._typed() != typed
        except NoMatches:
            return all_errors  # a field is gone: the console is closing
        if changed:
            self.validate_soon()  # (already due after an edit; this makes sure)
        else:
            self._show_checked(all_errors)
        return all_errors

    def check(self) -> tuple[dict[str, Any], JobTarget, list[FieldError]]:
        """Synchronous full check, for Submit: the document, the target and every error."""
        document, errors = self.document()
        target, target_errors = self.target()
        errors = merge_errors(errors + target_errors, check_document(document))
        self.show_errors(errors)
        return document, target, errors

    def request_submit(self) -> bool:
        document, target, errors = self.check()
        if errors:
            self.reveal_first_error()
            return False
        self.post_message(self.Submit(document, target))
        return True

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        """Mark the label of the field with the cursor: compact fields have no border to show focus."""
        self._mark_current(event.widget)

    def on_descendant_blur(self, _event: DescendantBlur) -> None:
        self.call_after_refresh(self._mark_current, self.app.focused)

    def _mark_current(self, focused: Widget | None) -> None:
        field = focused
        while field is not None and field is not self and not (field.id or "").startswith("f-"):
            field = field.parent  # type: ignore[assignment]
        current_id = field.id if field is not None and field is not self else None
        for name in FIELD_LABELS:
            dom = dom_id(name)
            for label in self.query(f"#l-{dom}"):
                label.set_class(f"f-{dom}" == current_id, "-current")

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _changed(self, event: Message) -> None:
        control = getattr(event, "control", None)
        name = next((n for n in FIELD_LABELS if control is not None and control.id == f"f-{dom_id(n)}"), "")
        if name.startswith("target."):
            followed = self._followed.get(name, [])
            value = getattr(event, "value", None)
            if value in followed:  # the form's own doing (following the tree), not the user's
                del followed[: followed.index(value) + 1]
            else:
                self.typed_target.add(name)
        if not self._filling:
            self._edits += 1
            self.validate_soon()

    @on(ChoiceField.Changed)
    def _toolkit_changed(self, event: ChoiceField.Changed) -> None:
        self._update_toolkit_fields(str(event.value))
        if not self._filling:
            self._edits += 1
            self.validate_soon()
