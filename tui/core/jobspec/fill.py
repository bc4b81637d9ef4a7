"""At submission: the storage placeholders filled as az did, and what a spec says about its shares and
toolkit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.core.errors import BaiError, FieldError, Hint, JobSpecError
from tui.core.jobspec.schema import (
    _ACCOUNT_NAME,
    _AZURE_FILE_URL,
    _LOOPBACK_FILE_URL,
    STORAGE_ACCOUNT_PLACEHOLDER,
    STORAGE_KEY_PLACEHOLDER,
    TOOLKITS,
)

if TYPE_CHECKING:
    from azure.mgmt.batchai.models import JobCreateParameters

# ----------------------------------------------------------------------------------------------- submission


def apply_storage_account(spec: JobCreateParameters, account_name: str | None) -> None:
    """Fill `<AZURE_BATCHAI_STORAGE_ACCOUNT>` in the shares' URLs and account names, as `az` did.

    Also sets each Azure Files share's accountName from its URL when missing, and drops a
    `<AZURE_BATCHAI_STORAGE_KEY>` placeholder so the backend looks the key up itself. Raises JobSpecError
    whose fields hint at giving the storage account when a placeholder is left and no name was given.
    """
    if account_name is not None:
        account_name = account_name.strip()
        if not _ACCOUNT_NAME.fullmatch(account_name):
            raise BaiError(
                "is not a storage account name: 3-24 lowercase letters and digits",
                argument="storage_account_name",
                value=account_name,
            )
    errors: list[FieldError] = []
    volumes = spec.mount_volumes
    if volumes is None:
        return
    need = f"contains {STORAGE_ACCOUNT_PLACEHOLDER}"
    give = Hint("give", "storage_account_name")
    for index, share in enumerate(volumes.azure_file_shares or []):
        path = f"properties.mountVolumes.azureFileShares[{index}]"
        if share.azure_file_url and STORAGE_ACCOUNT_PLACEHOLDER in share.azure_file_url:
            if account_name:
                share.azure_file_url = share.azure_file_url.replace(STORAGE_ACCOUNT_PLACEHOLDER, account_name)
            else:
                errors.append(FieldError(f"{path}.azureFileUrl", need, give))
        if share.account_name == STORAGE_ACCOUNT_PLACEHOLDER:
            if account_name:
                share.account_name = account_name
            else:
                errors.append(FieldError(f"{path}.accountName", need, give))
        if not share.account_name and share.azure_file_url:
            match = _AZURE_FILE_URL.fullmatch(share.azure_file_url) or _LOOPBACK_FILE_URL.fullmatch(
                share.azure_file_url
            )
            if match and match["account"] != STORAGE_ACCOUNT_PLACEHOLDER:
                share.account_name = match["account"]
        _drop_key_placeholder(share)
    for index, blob in enumerate(volumes.azure_blob_file_systems or []):
        if blob.account_name == STORAGE_ACCOUNT_PLACEHOLDER:
            if account_name:
                blob.account_name = account_name
            else:
                errors.append(
                    FieldError(
                        f"properties.mountVolumes.azureBlobFileSystems[{index}].accountName", need, give
                    )
                )
        _drop_key_placeholder(blob)
    if errors:
        raise JobSpecError(errors)


def _drop_key_placeholder(reference: Any) -> None:
    credentials = getattr(reference, "credentials", None)
    if credentials is not None and credentials.account_key == STORAGE_KEY_PLACEHOLDER:
        reference.credentials = None


def share_of(azure_file_url: str) -> tuple[str | None, str | None]:
    """(account, share) named by an Azure Files URL (either accepted form); (None, None) if it is neither."""
    match = _AZURE_FILE_URL.fullmatch(azure_file_url) or _LOOPBACK_FILE_URL.fullmatch(azure_file_url)
    if not match:
        return None, None
    return match["account"], match["share"]


def toolkit_of(spec: JobCreateParameters) -> str:
    """The job's toolkit ("horovod", "customMpi", ...); "" if none. Raises JobSpecError for several."""
    present = [name for name, attribute in TOOLKITS.items() if getattr(spec, attribute, None) is not None]
    if len(present) > 1:
        raise JobSpecError(
            [
                FieldError(
                    "properties",
                    "more than one toolkit ("
                    + ", ".join(f"{n}Settings" for n in present)
                    + "): keep exactly one",
                )
            ]
        )
    return present[0] if present else ""
