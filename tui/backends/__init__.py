"""Backends behind one async protocol (see `tui.backends.base`); `open_backend` picks one by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.backends.base import Backend

BACKENDS = ("local", "batchai", "azureml", "ssh")


def backend_name(explicit: str | None = None) -> str:
    """The backend to use: the `--backend` argument, else `BAI_BACKEND`, else `local`."""
    from tui.core import settings

    name = (explicit or settings.backend() or "local").strip().lower()
    if name not in BACKENDS:
        from tui.core.errors import BaiError

        raise BaiError(
            f"is unknown (given, or from BAI_BACKEND): use one of {', '.join(BACKENDS)}",
            argument="backend",
            value=name,
        )
    return name


def open_backend(explicit: str | None = None) -> Backend:
    """Build the chosen backend; imports are lazy so the console never loads the SDK it does not use."""
    name = backend_name(explicit)
    if name == "local":
        from tui.backends.local import open_local_backend

        return open_local_backend()
    if name == "azureml":
        from tui.backends.azureml import open_azureml_backend

        return open_azureml_backend()
    if name == "ssh":
        from tui.backends.ssh import open_ssh_backend

        return open_ssh_backend()
    from tui.backends.batchai import open_batchai_backend

    return open_batchai_backend()
