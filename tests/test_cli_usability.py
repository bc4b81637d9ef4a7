"""The CLI as an az user expects it (issue 11, item 11): `bai --version`, one `bai: error:` prefix, "did
you mean" for a mistyped group or command, and a clear error when a file sits where a folder is needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import Bai, one_error_line


@pytest.fixture
def bai(tmp_path: Path) -> Bai:
    return Bai(tmp_path)


def test_version(bai: Bai) -> None:
    result = bai("--version")
    assert result.stdout.startswith("bai 0."), result.stdout
    assert "python 3." in result.stdout


def test_usage_errors_have_one_prefix_and_name_the_command(bai: Bai) -> None:
    result = bai("cluster", "show", "-g", "rg", check=False)
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.count("bai") == 2 and "bai: error: bai" not in line, line  # `bai: error:` and the help hint
    assert "the following arguments are required: -w/--workspace, -n/--name" in line
    assert line.endswith("(see 'bai cluster show --help')")
    line = one_error_line(bai("--frobnicate", "x", check=False))
    assert "bai: error: bai" not in line, line


def test_did_you_mean_a_mistyped_group_or_command(bai: Bai) -> None:
    result = bai("clster", "list", check=False)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "bai: error: 'clster' is not a bai command group; did you mean 'cluster'?" in line, line
    assert "bai: error: bai" not in line
    line = one_error_line(bai("cluster", "lst", "-g", "rg", check=False))
    assert "'lst' is not a 'bai cluster' command; did you mean 'list'?" in line, line
    line = one_error_line(bai("storage", "file", "uplod-batch", check=False))
    assert "did you mean 'upload-batch'?" in line, line
    line = one_error_line(bai("zzzz", check=False))  # nothing alike: the choices instead
    assert "'zzzz' is not a bai command group; choose from group, workspace" in line, line
    line = one_error_line(bai("group", "list", "-o", "tabel", check=False))
    assert "argument -o/--output: invalid choice: 'tabel'; did you mean 'table'?" in line, line


def _share(bai: Bai) -> tuple[str, ...]:
    bai("group", "create", "-n", "rg", "-l", "eastus")
    bai("storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus")
    bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")
    return ("--account-name", "mystorage")


def test_upload_batch_under_a_file_names_the_file_in_the_way(bai: Bai, tmp_path: Path) -> None:
    account = _share(bai)
    script = tmp_path / "cifar"
    script.write_text("print('a file, not a folder')\n")
    # Before `directory create`, az's upload --path cifar makes a FILE named cifar at the share's root.
    bai("storage", "file", "upload", "--source", str(script), "-s", "myshare", *account)
    batch = tmp_path / "batch"
    (batch / "sub").mkdir(parents=True)
    (batch / "sub" / "b.txt").write_text("b")
    result = bai("storage", "file", "upload-batch", "--destination", "myshare/cifar/data", "--source",
                 str(batch), *account, check=False)  # fmt: skip
    assert result.returncode == 1
    line = one_error_line(result)
    assert "unexpected" not in line and "NotADirectoryError" not in line, line
    assert "'cifar' is a file on share 'myshare'" in line, line
    assert "bai storage file delete -p cifar -s myshare" in line, line
    # The same file in the way of a single upload and of a directory create.
    result = bai("storage", "file", "upload", "--source", str(batch / "sub" / "b.txt"), "--path",
                 "cifar/data/", "-s", "myshare", *account, check=False)  # fmt: skip
    assert "'cifar' is a file on share 'myshare'" in one_error_line(result)
    result = bai("storage", "directory", "create", "-n", "cifar/data", "-s", "myshare", *account, check=False)
    assert "'cifar' is a file on share 'myshare'" in one_error_line(result)
    # Once the file is gone, the same upload works.
    bai("storage", "file", "delete", "-p", "cifar", "-s", "myshare", *account)
    bai("storage", "file", "upload-batch", "--destination", "myshare/cifar/data", "--source", str(batch),
        *account)  # fmt: skip
    listed = bai("storage", "file", "list", "-p", "cifar/data/sub", "-s", "myshare", *account, "--query",
                 "[].name", "-o", "tsv").stdout.split()  # fmt: skip
    assert listed == ["b.txt"]


def test_upload_batch_under_a_file_on_the_azure_backend(tmp_path: Path) -> None:
    """The same refusal through the real SDK pipeline (the test Azure emulator), in the same words."""
    from azure_emulator import AzureEmulator

    with AzureEmulator() as emulator:
        bai = Bai(tmp_path)
        bai.env.update(emulator.env(), BAI_BACKEND="batchai")
        account = _share(bai)
        script = tmp_path / "cifar"
        script.write_text("a file\n")
        bai("storage", "file", "upload", "--source", str(script), "-s", "myshare", *account)
        batch = tmp_path / "batch"
        batch.mkdir()
        (batch / "a.txt").write_text("a")
        result = bai("storage", "file", "upload-batch", "--destination", "myshare/cifar/data", "--source",
                     str(batch), *account, check=False)  # fmt: skip
        line = one_error_line(result)
        assert "'cifar' is a file on share 'myshare', where a directory is needed" in line, line
        assert "bai storage file delete -p cifar -s myshare --account-name mystorage" in line, line
