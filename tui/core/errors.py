"""Every error type of bai: a failure a user can act on, with structured fields each front end words itself.

They live in the core so that every layer can raise and catch them without importing a backend. A backend
never names a command-line flag or a console field: it says *which* argument was wrong (`argument`, an id
from `ARGUMENTS`), *which* value (`value`) and *what helps* (`hint`: list the clusters, create the folder,
give the storage account); `tui.cli.wording` turns those into `--target` and `bai cluster list -g G -w W`,
the console into "Target nodes" and its own actions. `str(error)` is the neutral wording, for logs and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The arguments a user gives, by id, with a neutral name; each front end has its own words for them.
ARGUMENTS: dict[str, str] = {
    "backend": "backend",
    "target": "target node count",
    "vm_priority": "VM priority",
    "vm_size": "VM size",
    "ssh_key": "SSH public key",
    "storage_account_name": "storage account name",
    "source": "source",
    "directory": "directory",
    "path": "path",
    "config_file": "job file",
    "location": "location",
    "quota": "share quota",
    "ssh_port": "SSH port",
}

# Resource kinds as hints name them (az's resource type, lower case) -> in words.
KINDS: dict[str, str] = {"resourcegroup": "resource group", "storageaccount": "storage account"}

_UNSET: Any = object()


@dataclass(frozen=True)
class Hint:
    """What gets the user further: `verb` ("list", "show", "create", "give") on `subject` (a kind of
    resource such as "cluster" or "directory", or an argument id for "give"), with the names known so far
    (`{"resource_group": ..., "name": ...}`) so a front end can spell out a whole command."""

    verb: str
    subject: str
    names: Mapping[str, str] = field(default_factory=dict)


def neutral_hint(hint: Hint) -> str:
    """The hint in words that name no front end (what `str(error)` shows)."""
    if hint.verb == "create":
        return f": create the {KINDS.get(hint.subject, hint.subject)} first"
    if hint.verb == "give":
        joint = " and" if hint.names.get("inline") else ":"
        return f"{joint} give the {ARGUMENTS.get(hint.subject, hint.subject)}"
    if hint.verb == "show":
        return f": see where the {hint.subject} stands, then retry"
    if hint.verb == "delete":
        return f": delete the {hint.subject} or choose another name"
    return ""  # "list": the message already says what is missing


def _argument_name(argument: str) -> str:
    return ARGUMENTS.get(argument, argument.replace("_", " "))


class BaiError(Exception):
    """A failure a user can act on: the message names what was wrong and what to do.

    With `argument`, the message is about that argument's `value` and reads "<argument> <value> <message>"
    (`message` is then "is out of range: give 0 to 64 nodes"); `hint` is appended in the front end's words.
    """

    exit_code = 1

    def __init__(
        self,
        message: str = "",
        *,
        argument: str | None = None,
        value: Any = _UNSET,
        hint: Hint | None = None,
    ) -> None:
        self.message = message
        self.argument = argument
        self.value = None if value is _UNSET else value
        self.has_value = value is not _UNSET
        self.hint = hint
        super().__init__(message)

    def words(
        self,
        name_of: Callable[[str], str] = _argument_name,
        hint_of: Callable[[Hint], str] = neutral_hint,
    ) -> str:
        """The message with the argument called `name_of(id)` and the hint worded by `hint_of`."""
        text = self.message
        if self.argument is not None:
            head = name_of(self.argument)
            if self.has_value:
                shown = self.value if isinstance(self.value, int) else repr(self.value)
                head = f"{head} {shown}"
            text = f"{head} {text}" if text[:1] not in (":", ",", ";", "") else f"{head}{text}"
        if self.hint is not None:
            text += hint_of(self.hint)
        return text

    def __str__(self) -> str:
        return self.words()


class NotFoundError(BaiError):
    """The named resource does not exist (az: ResourceNotFound)."""


class ConflictError(BaiError):
    """The resource exists already, or is in a state that forbids the operation."""


class UnsupportedError(BaiError):
    """The backend cannot do this (e.g. a toolkit the local backend cannot run)."""


@dataclass(frozen=True)
class FieldError:
    """One problem in a job spec, addressed by its JSON path (`properties.nodeCount`); `hint` says what
    fills it when that is an argument of the submission (`Hint("give", "storage_account_name")`)."""

    path: str
    message: str
    hint: Hint | None = None

    def words(self, hint_of: Callable[[Hint], str] = neutral_hint) -> str:
        return f"{self.path}: {self.message}" + (hint_of(self.hint) if self.hint else "")

    def __str__(self) -> str:
        return self.words()


class JobSpecError(BaiError):
    """A job.json that cannot be submitted; carries every field error, not only the first. `source` is the
    file's name when it came from one (front ends put it before each field's path)."""

    def __init__(self, errors: list[FieldError], source: str | None = None):
        self.errors = errors
        self.source = source
        super().__init__("; ".join(str(error) for error in errors))
