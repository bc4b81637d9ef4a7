"""The command line's words for the core's typed errors: arguments are flags (`--target`), hints are whole
`bai ...` commands a user can paste.

Backends and the core say *which* argument and *what helps* (`tui.core.errors`); only this module knows the
flags, so a service message never names one and the console can word the same error with its own labels.
"""

from __future__ import annotations

from tui.core.errors import BaiError, FieldError, Hint, JobSpecError

# Argument id -> the flag `bai` takes it as.
FLAGS: dict[str, str] = {
    "backend": "--backend",
    "target": "--target",
    "vm_priority": "--vm-priority",
    "vm_size": "--vm-size",
    "ssh_key": "--ssh-key",
    "storage_account_name": "--storage-account-name",
    "source": "--source",
    "directory": "--name",
    "path": "--path",
    "config_file": "--config-file/-f",
    "location": "--location",
    "quota": "--quota",
    "ssh_port": "--ssh-port",
}

# Resource kind -> the command listing what exists (names in capitals are for the user to fill).
LIST_COMMANDS: dict[str, str] = {
    "resourcegroup": "bai group list",
    "workspace": "bai workspace list",
    "experiment": "bai experiment list -g GROUP -w WORKSPACE",
    "cluster": "bai cluster list -g GROUP -w WORKSPACE",
    "job": "bai job list -g GROUP -w WORKSPACE -e EXPERIMENT",
    "storageaccount": "bai storage account list",
    "share": "bai storage share list --account-name ACCOUNT",
    "file": "bai storage file list --share-name SHARE --account-name ACCOUNT --path FOLDER",
    "directory": "bai storage file list --share-name SHARE --account-name ACCOUNT --path FOLDER",
}

SHOW_COMMANDS: dict[str, str] = {
    "resourcegroup": "bai group show",
    "workspace": "bai workspace show",
    "experiment": "bai experiment show",
    "cluster": "bai cluster show",
    "job": "bai job show",
    "storageaccount": "bai storage account show",
}

# Resource kind -> the command creating one, filled from the hint's names.
CREATE_COMMANDS: dict[str, str] = {
    "resourcegroup": "bai group create -n {name} -l LOCATION",
    "workspace": "bai workspace create -g {resource_group} -n {name}",
    "experiment": "bai experiment create -g {resource_group} -w {workspace} -n {name}",
    "cluster": "bai cluster create -g {resource_group} -w {workspace} -n {name} --vm-size SIZE --target N",
    "storageaccount": "bai storage account create -g GROUP -n {name} -l LOCATION",
    "share": "bai storage share create -n {name} --account-name {account}",
    "directory": "bai storage directory create -n {name} --share-name {share} --account-name {account}",
}


def flag(argument: str) -> str:
    return FLAGS.get(argument, "--" + argument.replace("_", "-"))


def _filled(template: str, names: dict[str, str]) -> str:
    try:
        return template.format(**names)
    except (KeyError, IndexError):
        return template.split(" {", 1)[0]


def hint_text(hint: Hint) -> str:
    """A hint as the command line says it."""
    names = dict(hint.names)
    if hint.verb == "create" and hint.subject in CREATE_COMMANDS:
        return f": create it with `{_filled(CREATE_COMMANDS[hint.subject], names)}`"
    if hint.verb == "list" and hint.subject in LIST_COMMANDS:
        return f" (`{LIST_COMMANDS[hint.subject]}` shows what exists)"
    if hint.verb == "delete" and hint.subject == "file":
        command = _filled("bai storage file delete -p {name} -s {share} --account-name {account}", names)
        return f": delete it with `{command}` or choose another directory"
    if hint.verb == "show":
        return f": see where it stands with `{SHOW_COMMANDS.get(hint.subject, 'bai ... show')}`, then retry"
    if hint.verb == "give":
        if hint.subject == "storage_account_name" and names.get("inline"):
            return " and give --storage-account-name"
        if hint.subject == "storage_account_name":
            return ": give the account with --storage-account-name (or set AZURE_BATCHAI_STORAGE_ACCOUNT)"
        if hint.subject == "ssh_key" and names.get("generate"):
            return "; add --generate-ssh-keys or give --ssh-key"
        return f": give {flag(hint.subject)} instead"
    if hint.verb == "create":
        return f": create the {hint.subject} first"
    return ""


def error_text(error: BaiError) -> str:
    """One error as `bai: error:` shows it (without that prefix)."""
    return error.words(flag, hint_text) or type(error).__name__


def field_error_lines(error: JobSpecError) -> list[str]:
    """One line per bad field of a job.json, each starting with the file's name when it came from one."""
    lines = []
    for field_error in error.errors:
        text = field_error_text(field_error)
        if error.source and not text.startswith(error.source):
            text = f"{error.source}: {text}"
        lines.append(text)
    return lines


def field_error_text(error: FieldError) -> str:
    return error.words(hint_text)
