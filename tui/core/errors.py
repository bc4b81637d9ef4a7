"""Every error type of bai: a failure a user can act on, with structured fields each front end words itself.

They live in the core so that every layer can raise and catch them without importing a backend.
"""

from __future__ import annotations

from dataclasses import dataclass


class BaiError(Exception):
    """A failure a user can act on: the message names what was wrong and what to do."""

    exit_code = 1


class NotFoundError(BaiError):
    """The named resource does not exist (az: ResourceNotFound)."""


class ConflictError(BaiError):
    """The resource exists already, or is in a state that forbids the operation."""


class UnsupportedError(BaiError):
    """The backend cannot do this (e.g. a toolkit the local backend cannot run)."""


@dataclass(frozen=True)
class FieldError:
    """One problem in a job spec, addressed by its JSON path (`properties.nodeCount`)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class JobSpecError(BaiError):
    """A job.json that cannot be submitted; carries every field error, not only the first."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))
