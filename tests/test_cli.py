"""The real `bai` entry point in a subprocess, on a temporary $BAI_HOME: usage errors, formats, --query, and
the verbs on the local backend (cheap jobs only; the tutorial's training run is in test_cli_workflow.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

BAI_SCRIPT = Path(sys.executable).with_name("bai")
BAI = [str(BAI_SCRIPT)] if BAI_SCRIPT.exists() else [sys.executable, "-m", "tui.cli.main"]


def make_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BAI_", "AZURE_")) and key not in ("PYTEST_XDIST_WORKER",)
    }
    env.update(BAI_HOME=str(home / "bai-home"), HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


class Bai:
    """Runs `bai ...` against one temporary $BAI_HOME, as a user at a shell would."""

    def __init__(self, home: Path):
        self.home = home
        self.env = make_env(home)

    def __call__(
        self, *args: str, input: str | None = None, timeout: float = 60, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*BAI, *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            env={**self.env, **env},
            cwd=self.home,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"bai {' '.join(args)} -> {result.returncode}\n{result.stderr}")
        return result

    def json(self, *args: str, **env: str) -> Any:
        return json.loads(self(*args, "-o", "json", **env).stdout)


@pytest.fixture
def bai(tmp_path: Path) -> Bai:
    return Bai(tmp_path)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The user sees exactly one line, `bai: error: ...`, and no traceback."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bai: error: "), result.stderr
    return lines[0]


JOB_JSON = {
    "$schema": "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-05-01/job.json",
    "properties": {
        "nodeCount": 1,
        "customToolkitSettings": {"commandLine": "echo hello from the job"},
        "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/logs",
        "mountVolumes": {
            "azureFileShares": [
                {
                    "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/myshare",
                    "relativeMountPath": "myshare",
                }
            ]
        },
    },
}


def write_job(folder: Path, name: str = "job.json", **properties: Any) -> Path:
    data = json.loads(json.dumps(JOB_JSON))
    data["properties"].update(properties)
    path = folder / name
    path.write_text(json.dumps(data, indent=2))
    return path


# -------------------------------------------------------------------------------------- usage, no backend


def test_missing_arguments_is_a_usage_error(bai: Bai) -> None:
    result = bai("cluster", "show", "-g", "rg", check=False)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "bai: error: the following arguments are required: -w/--workspace, -n/--name" in line
    assert "see 'bai cluster show --help'" in line


def test_bad_values_name_the_argument(bai: Bai) -> None:
    result = bai("cluster", "resize", "-g", "rg", "-w", "ws", "-n", "c", "--target", "-1", check=False)
    assert result.returncode == 2
    assert "argument -t/--target: -1 is negative: give 0 or more" in one_error_line(result)
    result = bai("cluster", "show", "-g", "rg", "-w", "ws", "-n", "c", "-o", "xml", check=False)
    assert result.returncode == 2
    assert "argument -o/--output: invalid choice: 'xml'" in one_error_line(result)
    result = bai("bogus", check=False)
    assert result.returncode == 2
    assert "'bogus' is not a bai command group" in one_error_line(result)


def test_unknown_backend_from_the_environment(bai: Bai) -> None:
    result = bai("group", "list", check=False, BAI_BACKEND="cloud9")
    assert result.returncode == 1
    assert "--backend 'cloud9' is unknown (given, or from BAI_BACKEND)" in one_error_line(result)


def test_every_verb_of_the_issue_exists_with_backend_and_help(bai: Bai) -> None:
    verbs = [
        "group create", "group delete", "workspace create", "workspace show", "workspace delete",
        "workspace list", "experiment create", "experiment show", "experiment delete", "experiment list",
        "cluster create", "cluster show", "cluster delete", "cluster list", "cluster resize",
        "storage account create", "storage share create", "storage directory create", "storage file upload",
        "storage file upload-batch", "storage file download", "storage file list", "job create", "job show",
        "job wait", "job terminate", "job delete", "job list", "job file list", "job file stream",
        "job validate",
    ]  # fmt: skip
    for verb in verbs:  # in-process (33 interpreter starts would be slow); the entry point is the same
        assert "--backend" in help_of(*verb.split()), verb
    create = help_of("cluster", "create")
    for flag in ("-s VM_SIZE, --vm-size", "-t TARGET, --target", "--vm-priority", "--generate-ssh-keys"):
        assert flag in create
    assert "--run-job-preparation" in help_of("job", "create")
    assert "--storage-account-name" in help_of("job", "create")
    assert "--help" in bai("job", "file", "stream", "--help").stdout  # and the installed script agrees


def help_of(*verb: str) -> str:
    import contextlib
    import io

    from tui.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main([*verb, "--help"])
    assert exited.value.code == 0
    return out.getvalue()


def test_job_validate_prints_ok(bai: Bai, tmp_path: Path) -> None:
    result = bai("job", "validate", "-f", str(write_job(tmp_path)))
    assert result.stdout == "OK\n" and result.stderr == ""


def test_job_validate_prints_every_field_error(bai: Bai, tmp_path: Path) -> None:
    path = write_job(tmp_path, nodeCount=0, nodecount=2, customToolkitSettings={"commandLine": 7})
    result = bai("job", "validate", "-f", str(path), check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "bai: error: job.json: properties.customToolkitSettings.commandLine: must be a string, got a number",
        "bai: error: job.json: properties.nodecount: unknown field (did you mean 'nodeCount'?)",
        "bai: error: job.json: properties.nodeCount: must be 1 or more, got 0",
    ]


def test_job_validate_bad_json_and_missing_file(bai: Bai, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"properties": {"nodeCount": 1,}}')
    result = bai("job", "validate", "-f", "broken.json", check=False)
    assert result.returncode == 1
    assert one_error_line(result).startswith("bai: error: broken.json:1:32: invalid JSON")
    result = bai("job", "validate", "-f", "nope.json", check=False)
    assert "--config-file/-f 'nope.json' does not exist: check the path" in one_error_line(result)


# ------------------------------------------------------------------------------------------- local backend


def make_workspace(bai: Bai) -> None:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("workspace", "create", "-g", "rg", "-n", "ws")
    bai("experiment", "create", "-g", "rg", "-w", "ws", "-n", "exp")


def test_groups_workspaces_experiments_and_formats(bai: Bai) -> None:
    group = bai.json("group", "create", "-n", "rg", "-l", "eastus")
    assert group["name"] == "rg" and group["location"] == "eastus"
    workspace = bai.json("workspace", "create", "-g", "rg", "-n", "ws")
    assert (
        workspace["name"] == "ws" and workspace["resourceGroup"] == "rg" and workspace["location"] == "eastus"
    )
    bai("experiment", "create", "-g", "rg", "-w", "ws", "-n", "exp")
    table = bai("workspace", "list", "-o", "table").stdout.splitlines()
    assert table[0].split() == ["Name", "Resource", "Group", "Location", "State"]
    assert table[2].split()[:3] == ["ws", "rg", "eastus"]
    assert (
        bai("experiment", "list", "-g", "rg", "-w", "ws", "--query", "[].name", "-o", "tsv").stdout == "exp\n"
    )
    assert bai.json("experiment", "show", "-g", "rg", "-w", "ws", "-n", "exp", "--query", "workspace") == "ws"
    # the default output and BAI_OUTPUT
    assert json.loads(bai("group", "show", "-n", "rg").stdout)["name"] == "rg"
    assert bai("group", "show", "-n", "rg", "--query", "name", BAI_OUTPUT="tsv").stdout == "rg\n"


def test_not_found_is_one_line_saying_what_to_do(bai: Bai) -> None:
    make_workspace(bai)
    result = bai("cluster", "show", "-g", "rg", "-w", "ws", "-n", "nope", check=False)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "nope" in line and "Traceback" not in result.stderr


def test_cluster_show_table_as_az(bai: Bai) -> None:
    make_workspace(bai)
    bai("cluster", "create", "-g", "rg", "-w", "ws", "-n", "c", "-s", "Standard_NC6", "-t", "2",
        "--vm-priority", "dedicated", "--generate-ssh-keys")  # fmt: skip
    lines = bai("cluster", "show", "-g", "rg", "-w", "ws", "-n", "c", "-o", "table").stdout.splitlines()
    assert lines[0].split() == [
        "Name", "Resource", "Group", "Workspace", "VM", "Size", "State",
        "Idle", "Running", "Preparing", "Leaving", "Unusable",
    ]  # fmt: skip
    assert lines[2].split() == ["c", "rg", "ws", "Standard_NC6", "steady", "2", "0", "0", "0", "0"]
    counts = bai.json("cluster", "show", "-g", "rg", "-w", "ws", "-n", "c", "--query", "nodeStateCounts")
    assert counts == {
        "idleNodeCount": 2, "runningNodeCount": 0, "preparingNodeCount": 0,
        "leavingNodeCount": 0, "unusableNodeCount": 0,
    }  # fmt: skip
    bad_query = bai("cluster", "list", "-g", "rg", "-w", "ws", "--query", "[?", check=False)
    assert bad_query.returncode == 2 and "argument --query: invalid JMESPath query" in one_error_line(
        bad_query
    )


def test_group_delete_asks_and_refuses_without_a_terminal(bai: Bai) -> None:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    result = bai("group", "delete", "-n", "rg", check=False)
    assert result.returncode == 1
    assert "not confirmed (no terminal to ask on): add --yes" in one_error_line(result)
    assert bai.json("group", "show", "-n", "rg")["name"] == "rg"  # nothing was deleted
    bai("group", "delete", "-n", "rg", "--yes")
    gone = bai("group", "show", "-n", "rg", check=False)
    assert gone.returncode == 1 and "rg" in one_error_line(gone)


def test_storage_upload_list_download(bai: Bai, tmp_path: Path) -> None:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai(
        "storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus", "--sku", "Standard_LRS"
    )
    bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")
    bai(
        "storage",
        "directory",
        "create",
        "-n",
        "cifar",
        "--share-name",
        "myshare",
        "--account-name",
        "mystorage",
    )
    source = tmp_path / "script.py"
    source.write_bytes(b"print('hi')\n")
    bai("storage", "file", "upload", "--path", "cifar", "--share-name", "myshare", "--source", str(source),
        "--account-name", "mystorage")  # fmt: skip
    batch = tmp_path / "batch"
    (batch / "sub").mkdir(parents=True)
    (batch / "a.bin").write_bytes(bytes(range(256)))
    (batch / "sub" / "b.txt").write_text("b")
    bai("storage", "file", "upload-batch", "--destination", "myshare/cifar/data", "--source", str(batch),
        "--account-name", "mystorage")  # fmt: skip
    names = bai("storage", "file", "list", "--path", "cifar", "-s", "myshare", "--account-name", "mystorage",
                "--query", "[].name", "-o", "tsv").stdout.split()  # fmt: skip
    assert sorted(names) == ["data", "script.py"]
    table = bai("storage", "file", "list", "--path", "cifar/data", "-s", "myshare", "-o", "table",
                AZURE_STORAGE_ACCOUNT="mystorage").stdout.splitlines()  # fmt: skip
    assert table[0].split() == ["Name", "Content", "Length", "Type", "Last", "Modified"]
    assert {tuple(line.split()[:3]) for line in table[2:]} >= {("a.bin", "256", "file")}
    bai("storage", "file", "download", "--path", "cifar/data/a.bin", "--share-name", "myshare",
        "--account-name", "mystorage", "--dest", str(tmp_path / "a.copy"))  # fmt: skip
    assert (tmp_path / "a.copy").read_bytes() == bytes(range(256))
    missing = bai("storage", "file", "list", "-s", "myshare", check=False)
    assert missing.returncode == 2 and "--account-name (or set AZURE_STORAGE_ACCOUNT)" in one_error_line(
        missing
    )


def _storage_and_cluster(bai: Bai, nodes: int = 1) -> None:
    make_workspace(bai)
    bai("cluster", "create", "-g", "rg", "-w", "ws", "-n", "c", "-s", "local", "-t", str(nodes))
    bai("storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus")
    bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")


JOB = ("-g", "rg", "-w", "ws", "-e", "exp")


def test_job_create_without_the_storage_account_creates_nothing(bai: Bai, tmp_path: Path) -> None:
    _storage_and_cluster(bai)
    result = bai("job", "create", *JOB, "-n", "j", "-c", "c", "-f", str(write_job(tmp_path)), check=False)
    assert result.returncode == 1
    assert "give the account with --storage-account-name" in one_error_line(result)
    assert bai.json("job", "list", *JOB) == []


def test_a_small_job_from_create_to_stream(bai: Bai, tmp_path: Path) -> None:
    _storage_and_cluster(bai)
    job = bai.json("job", "create", *JOB, "-n", "hello", "-c", "c", "-f", str(write_job(tmp_path)),
                   "--storage-account-name", "mystorage")  # fmt: skip
    assert job["name"] == "hello" and job["executionState"] in ("queued", "running", "succeeded")
    final = bai.json("job", "wait", *JOB, "-n", "hello", "--interval", "0.2", timeout=120)
    assert final["executionState"] == "succeeded" and final["exitCode"] == 0
    streamed = subprocess.run(
        [*BAI, "job", "file", "stream", *JOB, "-j", "hello", "-f", "stdout.txt"],
        capture_output=True, env=bai.env, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert streamed == b"hello from the job\n"
    names = bai("job", "file", "list", *JOB, "-j", "hello", "--query", "[].name", "-o", "tsv").stdout.split()
    assert {"stdout.txt", "stderr.txt"} <= set(names)
    table = bai("job", "list", *JOB, "-o", "table").stdout.splitlines()
    assert table[0].split() == ["Name", "Cluster", "Cluster", "RG", "Cluster", "Workspace", "Tool", "Nodes",
                                "State", "Exit", "code"]  # fmt: skip
    assert table[2].split() == ["hello", "c", "rg", "ws", "custom", "1", "succeeded", "0"]


def test_job_wait_exits_non_zero_when_the_job_fails_and_terminate(bai: Bai, tmp_path: Path) -> None:
    _storage_and_cluster(bai)
    failing = write_job(tmp_path, "fail.json", customToolkitSettings={"commandLine": "echo oops >&2; exit 3"})
    bai(
        "job",
        "create",
        *JOB,
        "-n",
        "bad",
        "-c",
        "c",
        "-f",
        str(failing),
        "--storage-account-name",
        "mystorage",
    )
    result = bai("job", "wait", *JOB, "-n", "bad", "--interval", "0.2", check=False, timeout=120)
    assert result.returncode == 1
    assert json.loads(result.stdout)["executionState"] == "failed"
    assert "job 'bad' failed with exit code 3" in one_error_line(result)

    sleeper = write_job(tmp_path, "sleep.json", customToolkitSettings={"commandLine": "sleep 300"})
    bai(
        "job",
        "create",
        *JOB,
        "-n",
        "long",
        "-c",
        "c",
        "-f",
        str(sleeper),
        "--storage-account-name",
        "mystorage",
    )
    deadline = time.monotonic() + 60
    while bai.json("job", "show", *JOB, "-n", "long", "--query", "executionState") != "running":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.3)
    bai("job", "terminate", *JOB, "-n", "long")
    result = bai("job", "wait", *JOB, "-n", "long", "--interval", "0.2", check=False, timeout=120)
    assert result.returncode == 1 and json.loads(result.stdout)["executionState"] == "failed"


def test_group_delete_asks_on_a_terminal(bai: Bai) -> None:
    import pty

    bai("group", "create", "-n", "rg", "-l", "eastus")
    for answer, code in (("n\n", 1), ("y\n", 0)):
        controller, terminal = pty.openpty()
        try:
            os.write(controller, answer.encode())
            result = subprocess.run(
                [*BAI, "group", "delete", "-n", "rg"], stdin=terminal, capture_output=True, text=True,
                env=bai.env, timeout=60, check=False,
            )  # fmt: skip
        finally:
            os.close(controller)
            os.close(terminal)
        assert result.returncode == code, result.stderr
        assert result.stderr.startswith("Delete resource group 'rg' and all its workspaces")
        if code:
            assert "bai: error: not confirmed: nothing was deleted" in result.stderr
            assert bai.json("group", "show", "-n", "rg")["name"] == "rg"
    assert bai("group", "show", "-n", "rg", check=False).returncode == 1


def test_upload_path_names_a_directory_or_the_file(bai: Bai, tmp_path: Path) -> None:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus")
    bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")
    bai("storage", "directory", "create", "-n", "cifar", "-s", "myshare", "--account-name", "mystorage")
    source = tmp_path / "train.py"
    source.write_text("pass\n")
    share = ("-s", "myshare", "--account-name", "mystorage")
    bai("storage", "file", "upload", "--source", str(source), "--path", "cifar", *share)
    bai("storage", "file", "upload", "--source", str(source), "--path", "cifar/renamed.py", *share)
    bai("storage", "file", "upload", "--source", str(source), *share)
    listed = bai("storage", "file", "list", "-p", "cifar", *share, "--query", "[].name", "-o", "tsv").stdout
    assert sorted(listed.split()) == ["renamed.py", "train.py"]
    root = bai("storage", "file", "list", *share, "--query", "[].name", "-o", "tsv").stdout
    assert sorted(root.split()) == ["cifar", "train.py"]


def test_run_job_preparation_is_opt_in_locally(bai: Bai, tmp_path: Path) -> None:
    _storage_and_cluster(bai)
    prep = {"commandLine": "echo prepared > $AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/prep.txt"}
    path = write_job(tmp_path, jobPreparation=prep)
    for name, flags in (("skipped", ()), ("ran", ("--run-job-preparation",))):
        created = bai("job", "create", *JOB, "-n", name, "-c", "c", "-f", str(path),
                      "--storage-account-name", "mystorage", *flags)  # fmt: skip
        assert ("bai: warning:" in created.stderr) == (name == "skipped"), created.stderr
        bai("job", "wait", *JOB, "-n", name, "--interval", "0.2", timeout=120)
        on_share = bai("storage", "file", "list", "-s", "myshare", "--account-name", "mystorage",
                       "--query", "[].name", "-o", "tsv").stdout.split()  # fmt: skip
        assert ("prep.txt" in on_share) == (name == "ran")


def test_ssh_key_for_the_azure_backend(tmp_path: Path) -> None:
    """az's policy, in the core's one use case, worded with the CLI's flags."""
    import shutil

    from tui.cli.wording import error_text
    from tui.core.errors import BaiError
    from tui.core.operations import ssh_public_key

    with pytest.raises(BaiError) as missing:
        ssh_public_key(None, home=tmp_path)
    assert error_text(missing.value).endswith("; add --generate-ssh-keys or give --ssh-key")
    assert ssh_public_key("ssh-rsa AAAAB3Nza test", home=tmp_path) == "ssh-rsa AAAAB3Nza test"
    with pytest.raises(BaiError) as bad:
        ssh_public_key("not a key", home=tmp_path)
    assert error_text(bad.value) == "--ssh-key 'not a key' is neither a public key nor a readable .pub file"
    if shutil.which("ssh-keygen"):
        key = ssh_public_key(None, generate=True, home=tmp_path)
        assert key.startswith("ssh-rsa ") and (tmp_path / ".ssh" / "id_rsa").is_file()
        assert ssh_public_key(None, home=tmp_path) == key  # found again, not regenerated


def test_upload_again_to_the_same_file_path_replaces_it(bai: Bai, tmp_path: Path) -> None:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus")
    bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")
    share = ("-s", "myshare", "--account-name", "mystorage")
    source = tmp_path / "f.txt"
    missing = bai(
        "storage", "file", "upload", "--source", str(source), "--path", "a/b.txt", *share, check=False
    )
    assert missing.returncode == 2 and "is not a file" in one_error_line(missing)
    source.write_text("one")
    no_dir = bai(
        "storage", "file", "upload", "--source", str(source), "--path", "a/b.txt", *share, check=False
    )
    assert no_dir.returncode == 1 and "bai storage directory create -n a" in one_error_line(no_dir)
    bai("storage", "directory", "create", "-n", "a", *share)
    bai("storage", "file", "upload", "--source", str(source), "--path", "a/b.txt", *share)
    source.write_text("two, longer")
    bai("storage", "file", "upload", "--source", str(source), "--path", "a/b.txt", *share)
    bai("storage", "file", "download", "--path", "a/b.txt", *share, "--dest", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "two, longer"
