"""The console and the `bai` command run the same use cases (`tui.core.operations`), so where they used to
drift apart they now answer alike, as az did (issue 9):

- a submit with AZURE_BATCHAI_STORAGE_ACCOUNT set and the form's storage field empty was refused by the
  console, told to give `--storage-account-name` (a flag the console does not have); the CLI accepted it;
- the console's single-file upload created missing folders, the CLI's refused (az: ParentNotFound);
  upload-batch creates them in both;
- SSH keys followed two policies (the batchai backend took any ~/.ssh/*.pub, or made a throw-away key);
- the same job.json with the same environment gives the same job and the same warnings in both.

The CLI runs as a real `bai` subprocess on the same BAI_HOME as the console's in-process backend.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_cli import Bai, one_error_line
from test_console import SIZE, fill_dialog, go_to, job_form, make_app, notices, until
from tutorial_resources import ACCOUNT, CLUSTER, EXPERIMENT, GROUP, SHARE, WORKSPACE

from tui.core.errors import BaiError, NotFoundError
from tui.core.model import ClusterRef, JobRef

pytestmark = pytest.mark.timeout(240)

ECHO_JOB: dict[str, Any] = {
    "properties": {
        "nodeCount": 1,
        "customToolkitSettings": {"commandLine": "echo hello"},
        "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/logs",
        "mountVolumes": {
            "azureFileShares": [
                {
                    "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/myshare",
                    "relativeMountPath": "myshare",
                }
            ]
        },
    }
}
_FLAG = re.compile(r"(?:^|[\s(`])--[a-z]")


def flags_in(texts: list[str]) -> list[str]:
    """The texts that name a command-line flag (which the console has none of)."""
    return [text for text in texts if _FLAG.search(text)]


def write(folder: Path, document: dict[str, Any]) -> Path:
    path = folder / "job.json"
    path.write_text(json.dumps(document, indent=4))
    return path


async def fill_target(pilot: Any, app: Any, name: str) -> Any:
    form = await job_form(pilot, app)
    await until(pilot, lambda: form.path is not None, what="job.json in the form")
    for key, value in (
        ("resource_group", GROUP),
        ("workspace", WORKSPACE),
        ("experiment", EXPERIMENT),
        ("cluster", CLUSTER),
        ("name", name),
    ):
        form.set_value(f"target.{key}", value)
    # The form fills in the only storage account there is; these users leave the field empty.
    await until(pilot, lambda: form._value("target.storage_account") == ACCOUNT, what="the prefill")
    form.set_value("target.storage_account", "")
    return form


# ------------------------------------------------------------------------------------- storage account


async def test_console_submit_takes_the_storage_account_from_the_environment(
    tutorial_backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_BATCHAI_STORAGE_ACCOUNT", ACCOUNT)
    app = make_app(tutorial_backend, job_path=write(tmp_path, ECHO_JOB))
    async with app.run_test(size=SIZE) as pilot:
        form = await fill_target(pilot, app, "from-env")
        assert form._value("target.storage_account") == ""
        app.screen.action_submit()
        await until(
            pilot, lambda: any("submitted" in n or "failed" in n for n in notices(app)), 60, "the submit"
        )
        assert any("Job from-env submitted" in n for n in notices(app)), notices(app)
    job = await tutorial_backend.jobs.get(JobRef(GROUP, WORKSPACE, EXPERIMENT, "from-env"))
    assert job.name == "from-env"
    assert flags_in(notices(app)) == []


async def test_console_without_any_account_names_its_own_field(tutorial_backend: Any, tmp_path: Path) -> None:
    app = make_app(tutorial_backend, job_path=write(tmp_path, ECHO_JOB))
    async with app.run_test(size=SIZE) as pilot:
        form = await fill_target(pilot, app, "no-account")
        app.screen.action_submit()
        await until(pilot, lambda: any("Not submitted" in n or "problem" in n for n in notices(app)), 60)
        await until(pilot, lambda: "target.storage_account" in form.errors, what="the field's error")
        shown = form.errors["target.storage_account"]
        assert any("fill the Storage account field" in text for text in shown), shown
        assert flags_in([*notices(app), *(m for ms in form.errors.values() for m in ms)]) == []
    with pytest.raises(NotFoundError):
        await tutorial_backend.jobs.get(JobRef(GROUP, WORKSPACE, EXPERIMENT, "no-account"))


# ------------------------------------------------------------------------------------------------ upload


async def test_upload_refuses_a_missing_folder_and_upload_batch_makes_it_in_both(
    tutorial_backend: Any, tmp_path: Path
) -> None:
    bai = Bai(tmp_path)  # the same BAI_HOME (tmp_path/bai-home) as the console's backend
    share = ("-s", SHARE, "--account-name", ACCOUNT)
    script = tmp_path / "train.py"
    script.write_text("print('hello')\n")
    data = tmp_path / "data"
    (data / "inner").mkdir(parents=True)
    (data / "inner" / "a.txt").write_text("a")

    cli = bai("storage", "file", "upload", "--source", str(script), "--path", "cifar/train.py", *share,
              check=False)  # fmt: skip
    assert cli.returncode == 1
    assert "folder 'cifar' does not exist on share 'myshare' (ParentNotFound)" in one_error_line(cli)
    assert "bai storage directory create -n cifar --share-name myshare" in one_error_line(cli)

    app = make_app(tutorial_backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, ACCOUNT, SHARE)
        await pilot.press("u")
        await fill_dialog(pilot, {"source": str(script), "directory": "cifar"})
        await until(pilot, lambda: any("ParentNotFound" in n for n in notices(app)), 60, "the refusal")
        [said] = [n for n in notices(app) if "ParentNotFound" in n]
        assert said == (
            "folder 'cifar' does not exist on share 'myshare' (ParentNotFound): create the folder first "
            "(Create folder)"
        )
        assert await tutorial_backend.storage.list_files(ACCOUNT, SHARE, "") == []  # nothing made

        await pilot.press("u")
        await fill_dialog(pilot, {"source": str(data), "directory": "console/data"})
        await until(pilot, lambda: any("Uploaded 1 file" in n for n in notices(app)), 60, "the batch")
    assert flags_in(notices(app)) == []

    bai(
        "storage",
        "file",
        "upload-batch",
        "-s",
        str(data),
        "-d",
        f"{SHARE}/cli/data",
        "--account-name",
        ACCOUNT,
    )
    for root in ("console", "cli"):
        listed = await tutorial_backend.storage.list_files(ACCOUNT, SHARE, f"{root}/data/inner")
        assert [entry.name for entry in listed] == ["a.txt"]


# ---------------------------------------------------------------------------------------------- SSH keys


async def test_one_ssh_key_policy_on_every_path(emulator: Any, tmp_path: Path) -> None:
    """az's: the key given, else ~/.ssh/id_rsa.pub (made with --generate-ssh-keys); no other ~/.ssh file and
    no throw-away key. The backend takes only the key it is given."""
    from azure_emulator.testing import CLUSTER_REF, RG, WS

    from tui.backends.batchai import open_batchai_backend
    from tui.cli.wording import error_text as cli_text
    from tui.console.wording import error_text as console_text
    from tui.core.operations import cluster_admin

    ssh = tmp_path / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519.pub").write_text("ssh-ed25519 AAAAC3Nza someone-else\n")
    with pytest.raises(BaiError) as policy:
        cluster_admin("batchai", None, None, home=tmp_path)
    assert cli_text(policy.value) == (
        f"--ssh-key is missing: {ssh / 'id_rsa.pub'} does not exist; "
        "add --generate-ssh-keys or give --ssh-key"
    )
    assert console_text(policy.value).startswith("SSH public key is missing: ")
    assert cluster_admin("local", None, None, home=tmp_path) == (None, None)  # runs as you: no key

    backend = open_batchai_backend(emulator.env())
    try:
        await backend.groups.create(RG, "eastus")
        await backend.workspaces.create(RG, WS)
        with pytest.raises(BaiError) as refused:
            await backend.clusters.create(CLUSTER_REF, "Standard_NC6", 1)
        assert refused.value.argument == "ssh_key" and "--" not in str(refused.value)
        with pytest.raises(NotFoundError):
            await backend.clusters.get(CLUSTER_REF)

        (ssh / "id_rsa.pub").write_text("ssh-rsa AAAAB3Nza mine\n")
        user, key = cluster_admin("batchai", None, None, home=tmp_path)
        assert key == "ssh-rsa AAAAB3Nza mine" and user
        cluster = await backend.clusters.create(
            ClusterRef(RG, WS, "keyed"), "Standard_NC6", 1, admin_user_name=user, ssh_public_key=key
        )
        assert cluster.name == "keyed"
    finally:
        await backend.close()


# ------------------------------------------------------------------------------------------ same answer


_VOLATILE = {
    "name",
    "creationTime",
    "executionState",
    "executionStateTransitionTime",
    "startTime",
    "endTime",
    "exitCode",
    "executionInfo",
    "errors",
    "jobOutputDirectoryPathSegment",
}


async def test_console_and_cli_submit_the_same_job_json_alike(
    tutorial_backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = json.loads(json.dumps(ECHO_JOB))
    document["properties"]["priority"] = "high"  # a field the service ignored: a warning
    document["properties"]["jobPreparation"] = {"commandLine": "pip install keras"}  # skipped locally
    path = write(tmp_path, document)
    monkeypatch.setenv("AZURE_BATCHAI_STORAGE_ACCOUNT", ACCOUNT)
    bai = Bai(tmp_path)
    ref = ("-g", GROUP, "-w", WORKSPACE, "-e", EXPERIMENT)
    created = bai("job", "create", *ref, "-n", "same-cli", "-c", CLUSTER, "-f", str(path),
                  AZURE_BATCHAI_STORAGE_ACCOUNT=ACCOUNT)  # fmt: skip
    cli_warnings = [
        line.removeprefix("bai: warning: ").removeprefix("job.json: ") for line in created.stderr.splitlines()
    ]

    app = make_app(tutorial_backend, job_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await fill_target(pilot, app, "same-console")
        app.screen.action_submit()
        await until(pilot, lambda: any("Job same-console submitted" in n for n in notices(app)), 60)
        # The console keeps them for the job's details (a notice counts them).
        console_warnings = app.screen.submit_warnings[JobRef(GROUP, WORKSPACE, EXPERIMENT, "same-console")]

    assert cli_warnings and console_warnings == cli_warnings
    shown = {
        name: {key: value for key, value in bai.json("job", "show", *ref, "-n", name).items()
               if key not in _VOLATILE}
        for name in ("same-cli", "same-console")
    }  # fmt: skip
    assert shown["same-cli"] == shown["same-console"]


# ---------------------------------------------------------------------------------------------- wording


async def test_one_typed_error_is_worded_by_each_front_end(tutorial_backend: Any) -> None:
    """The backend says which argument and what helps; the CLI names its flag and command, the console its
    field and action, and neither wording reaches the other."""
    from tui.cli.wording import error_text as cli_text
    from tui.console.wording import error_text as console_text

    with pytest.raises(BaiError) as target:
        await tutorial_backend.clusters.resize(ClusterRef(GROUP, WORKSPACE, CLUSTER), 65)
    assert cli_text(target.value) == "--target 65 is out of range: give 0 to 64 nodes"
    assert console_text(target.value) == "Target nodes 65 is out of range: give 0 to 64 nodes"
    with pytest.raises(NotFoundError) as missing:
        await tutorial_backend.storage.list_files(ACCOUNT, "nope")
    assert cli_text(missing.value).endswith(
        "create it with `bai storage share create -n nope --account-name baistore`"
    )
    assert console_text(missing.value).endswith(": create the share first (Create file share)")
    assert flags_in([console_text(target.value), console_text(missing.value)]) == []
