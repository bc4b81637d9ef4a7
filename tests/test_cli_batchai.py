"""`bai --backend batchai` end to end through the real SDK pipeline, against the test Azure emulator: the
same verbs and the same output as on the local backend (Batch AI itself was retired in 2019)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from azure_emulator import AzureEmulator, Timings
from test_cli import BAI, Bai

RG, WS, EXP, CLUSTER = "batchai.horovod", "batchaidev", "cifar", "nc6cluster"
IN_WS = ("-g", RG, "-w", WS)
IN_EXP = (*IN_WS, "-e", EXP)
STORAGE = ("--share-name", "myshare", "--account-name", "mystorage")
STDOUT = b"Epoch 1/1\r   1/1563 [......] - ETA: 2:42:25 - loss: 2.3334\x08\x08\nTest accuracy: 0.71\n"


def test_the_tutorial_on_the_azure_backend(tmp_path: Path) -> None:
    with AzureEmulator(Timings(replay=0.5), stdout=STDOUT) as emulator:
        bai = Bai(tmp_path)
        bai.env.update(emulator.env())
        bai.env["BAI_BACKEND"] = "local"  # --backend wins over the environment
        on_azure = ("--backend", "batchai")
        bai("group", "create", "-n", RG, "-l", "eastus", *on_azure)
        bai("workspace", "create", "-g", RG, "-n", WS, *on_azure)
        bai("experiment", "create", *IN_WS, "-n", EXP, *on_azure)
        bai("cluster", "create", *IN_WS, "-n", CLUSTER, "-s", "Standard_NC6", "-t", "2", "--vm-priority",
            "dedicated", "--generate-ssh-keys", *on_azure)  # fmt: skip
        assert (tmp_path / ".ssh" / "id_rsa.pub").is_file()  # made, as az did
        table = bai("cluster", "show", *IN_WS, "-n", CLUSTER, "-o", "table", *on_azure).stdout.splitlines()
        assert table[0].split()[:7] == ["Name", "Resource", "Group", "Workspace", "VM", "Size", "State"]
        assert table[2].split()[:4] == [CLUSTER, RG, WS, "Standard_NC6"]
        assert bai.json("group", "list") == []  # BAI_BACKEND=local: the local backend is separate, empty
        bai.env["BAI_BACKEND"] = "batchai"  # from here on, the environment chooses
        bai(
            "storage",
            "account",
            "create",
            "-g",
            RG,
            "-n",
            "mystorage",
            "-l",
            "eastus",
            "--sku",
            "Standard_LRS",
        )
        bai("storage", "share", "create", "-n", "myshare", "--account-name", "mystorage")
        bai("storage", "directory", "create", "-n", "cifar", *STORAGE)
        script = tmp_path / "cifar_cnn_distributed.py"
        script.write_text("print('the trainer')\n")
        bai("storage", "file", "upload", "--path", "cifar", *STORAGE, "--source", str(script))
        job_json = {
            "properties": {
                "nodeCount": 2,
                "horovodSettings": {
                    "pythonScriptFilePath": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar/"
                    "cifar_cnn_distributed.py",
                    "commandLineArgs": "--dir=$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar",
                },
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar",
                "mountVolumes": {
                    "azureFileShares": [
                        {
                            "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/"
                            "myshare",
                            "relativeMountPath": "myshare",
                        }
                    ]
                },
            }
        }
        (tmp_path / "job.json").write_text(json.dumps(job_json))
        bai("job", "create", *IN_EXP, "-n", "cifar_distributed", "-c", CLUSTER, "-f", "job.json",
            "--storage-account-name", "mystorage")  # fmt: skip
        streamed = subprocess.run(
            [*BAI, "job", "file", "stream", *IN_EXP, "-j", "cifar_distributed", "-f", "stdout.txt"],
            capture_output=True, env=bai.env, timeout=120, check=True, cwd=tmp_path,
        ).stdout  # fmt: skip
        assert streamed == STDOUT
        final = bai.json("job", "wait", *IN_EXP, "-n", "cifar_distributed", "--interval", "0.1")
        assert final["executionState"] == "succeeded"
        files = bai("job", "file", "list", *IN_EXP, "-j", "cifar_distributed", "-o", "table").stdout
        assert files.splitlines()[0].split() == ["Name", "Type", "Size", "Modified"]
        assert "stdout.txt" in files
        as_json = bai("job", "file", "list", *IN_EXP, "-j", "cifar_distributed").stdout
        assert "sig=" not in files and "sig=" not in as_json  # download URLs carry SAS: never printed
        bai("cluster", "resize", *IN_WS, "-n", CLUSTER, "--target", "0")
        bai("group", "delete", "-n", RG, "--yes")
        gone = bai("group", "show", "-n", RG, check=False)
        assert gone.returncode == 1 and gone.stderr.startswith("bai: error: ")
