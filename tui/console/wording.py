"""The console's words for the core's typed errors: arguments are the form fields a user filled ("Target
nodes"), hints are the console's own actions ("Create folder") rather than command lines it has no way to run.

The command line words the same errors with its flags (`tui.cli.wording`); backends name neither.
"""

from __future__ import annotations

from tui.core.errors import KINDS, BaiError, FieldError, Hint, JobSpecError

# Argument id -> the label of the field that gives it.
LABELS: dict[str, str] = {
    "backend": "Backend",
    "target": "Target nodes",
    "vm_priority": "VM priority",
    "vm_size": "VM size",
    "ssh_key": "SSH public key",
    "storage_account_name": "Storage account",
    "source": "Local file or folder",
    "directory": "Folder name",
    "path": "Folder on the share",
    "config_file": "job.json",
    "location": "Location",
    "quota": "Quota",
    "ssh_port": "SSH port",
}

# Resource kind -> the console action that creates one.
CREATE_ACTIONS: dict[str, str] = {
    "resourcegroup": "Create resource group",
    "workspace": "Create workspace",
    "experiment": "Create experiment",
    "cluster": "Create cluster",
    "storageaccount": "Create storage account",
    "share": "Create file share",
    "directory": "Create folder",
}


def label(argument: str) -> str:
    return LABELS.get(argument, argument.replace("_", " ").capitalize())


def hint_text(hint: Hint) -> str:
    """A hint as the console says it."""
    # The tree calls a share's directories folders.
    kind = "folder" if hint.subject == "directory" else KINDS.get(hint.subject, hint.subject)
    if hint.verb == "create":
        action = CREATE_ACTIONS.get(hint.subject)
        return f": create the {kind} first" + (f" ({action})" if action else "")
    if hint.verb == "list":
        return " (the tree shows what exists)"
    if hint.verb == "show":
        return f": see where the {kind} stands in the tree, then retry"
    if hint.verb == "delete":
        return f": delete the {kind} or choose another name"
    if hint.verb == "give":
        if hint.subject == "storage_account_name":
            joint = " and" if hint.names.get("inline") else ":"
            return f"{joint} fill the Storage account field (or set AZURE_BATCHAI_STORAGE_ACCOUNT)"
        if hint.subject == "ssh_key":
            return ": create ~/.ssh/id_rsa.pub (ssh-keygen -t rsa), or paste a key or its file's path there"
        return f": fill the {label(hint.subject)} field"
    return ""


def error_text(error: BaseException) -> str:
    """Any error as a console notification says it: typed ones in the console's words."""
    if isinstance(error, JobSpecError):
        return "\n".join(field_error_text(item, error.source) for item in error.errors)
    if isinstance(error, BaiError):
        return error.words(label, hint_text) or type(error).__name__
    return str(error)


def field_error_text(error: FieldError, source: str | None = None) -> str:
    text = error.words(hint_text)
    return f"{source}: {text}" if source and not text.startswith(source) else text
