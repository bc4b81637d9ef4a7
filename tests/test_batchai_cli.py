"""The tutorial's fifteen steps with `bai --backend batchai` in a subprocess against the Azure emulator, and
a scan of everything a user or a log could see for the storage key, the token and SAS signatures."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import time
from pathlib import Path

import pytest
from azure_emulator import MODEL_BYTES, AzureEmulator
from azure_emulator.testing import (
    ACCOUNT,
    CLUSTER,
    EXP,
    JOB_JSON,
    RG,
    SHARE,
    WS,
    job_ref,
    job_spec,
    tutorial_setup,
)
from test_cli import BAI, Bai

from tui.backends.base import JobSubmitOptions
from tui.backends.batchai import open_batchai_backend
from tui.core.errors import BaiError

pytestmark = pytest.mark.timeout(180)

IN_WS = ("-g", RG, "-w", WS)
IN_EXP = (*IN_WS, "-e", EXP)
STORAGE = ("--share-name", SHARE, "--account-name", ACCOUNT)
WRONG_KEY = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="


class AzureBai(Bai):
    """`bai ... --backend batchai` against the emulator; keeps every byte it printed for the secret scan."""

    def __init__(self, home: Path, emulator: AzureEmulator) -> None:
        super().__init__(home)
        self.env.update(emulator.env())
        del self.env["BAI_BACKEND"]  # chosen with --backend on each command
        self.seen: list[str] = []

    def __call__(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[override]
        result = super().__call__(*args, "--backend", "batchai", **kwargs)
        self.seen += [result.stdout, result.stderr]
        return result


# `emulator` and its `timings` (node_prepare=0.5, replay=2.0) come from conftest.py.


def secrets_of(emulator: AzureEmulator) -> list[str]:
    keys = emulator.call(
        lambda: [key for account in emulator.world.accounts.values() for key in account.keys]
    )
    return [emulator.token, *keys, *emulator.issued_signatures]


def assert_no_secret(texts: list[str], secrets: list[str]) -> None:
    blob = "\n".join(texts)
    for secret in secrets:
        assert secret and secret not in blob, "a secret was shown"
    assert "string to sign" not in blob.lower()
    assert "sig=" not in blob or "sig=***" in blob


def table_row(table: str, index: int = 2) -> list[str]:
    return table.splitlines()[index].split()


def test_the_tutorial_with_bai_backend_batchai(emulator: AzureEmulator, tmp_path: Path) -> None:
    bai = AzureBai(tmp_path, emulator)
    # 1-3
    assert bai.json("group", "create", "--name", RG, "--location", "eastus")["name"] == RG
    bai("workspace", "create", "-g", RG, "-n", WS)
    bai("experiment", "create", *IN_WS, "--name", EXP)
    # 4-5: a 2-node cluster; az's table, resizing then steady
    bai("cluster", "create", *IN_WS, "--name", CLUSTER, "--vm-priority", "dedicated", "--vm-size",
        "Standard_NC6", "--target", "2", "--generate-ssh-keys")  # fmt: skip
    deadline = time.monotonic() + 30
    while (row := table_row(bai("cluster", "show", *IN_WS, "-n", CLUSTER, "-o", "table").stdout))[
        4
    ] != "steady":
        assert row[:5] == [CLUSTER, RG, WS, "Standard_NC6", "resizing"], row
        assert time.monotonic() < deadline
    assert row == [CLUSTER, RG, WS, "Standard_NC6", "steady", "2", "0", "0", "0", "0"]
    # 6-7: storage account, share, directory, the script
    bai("storage", "account", "create", "-g", RG, "-n", ACCOUNT, "-l", "eastus", "--sku", "Standard_LRS")
    bai("storage", "share", "create", "--name", SHARE, "--account-name", ACCOUNT)
    bai("storage", "directory", "create", "--name", "cifar", *STORAGE)
    script = tmp_path / "cifar_cnn_distributed.py"
    script.write_text("print('train')\n")
    bai("storage", "file", "upload", "--path", "cifar", *STORAGE, "--source", str(script))
    listed = bai.json("storage", "file", "list", "--path", "cifar", *STORAGE)
    assert [entry["name"] for entry in listed] == ["cifar_cnn_distributed.py"]

    # 8: submit the tutorial's job.json (placeholder filled, key looked up with listKeys)
    (tmp_path / "job.json").write_text(json.dumps(JOB_JSON, indent=4))
    # held once it runs (paused before it is submitted: a slow machine could see it end before a later pause),
    # so every machine sees it running on both nodes
    emulator.pause_jobs()
    created = bai.json("job", "create", "--cluster", CLUSTER, "--name", "cifar_distributed", *IN_EXP,
                       "--config-file", "job.json", "--storage-account-name", ACCOUNT)  # fmt: skip
    assert created["nodeCount"] == 2 and created["executionState"] in ("queued", "running")

    job = ("-n", "cifar_distributed", *IN_EXP)
    with subprocess.Popen(
        [*BAI, "job", "file", "stream", *IN_EXP, "-j", "cifar_distributed", "-f", "stdout.txt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**bai.env, "BAI_BACKEND": "batchai"},  # this one picks the backend from the environment
        cwd=tmp_path,
    ) as stream:
        # 9-10: the job runs on both nodes
        deadline = time.monotonic() + 30
        while (state := bai.json("job", "show", *job, "--query", "executionState")) != "running":
            assert state == "queued" and time.monotonic() < deadline, state
        counts = bai.json("cluster", "show", *IN_WS, "-n", CLUSTER, "--query", "nodeStateCounts")
        assert (counts["runningNodeCount"], counts["idleNodeCount"]) == (2, 0)
        emulator.resume_jobs()
        final = json.loads(bai("job", "wait", *job, "--interval", "0.2", timeout=60).stdout)
        assert final["executionState"] == "succeeded" and final["exitCode"] == 0
        streamed, stream_errors = stream.communicate(timeout=60)
    assert stream.returncode == 0, stream_errors
    bai.seen.append(stream_errors.decode())
    counts = bai.json("cluster", "show", *IN_WS, "-n", CLUSTER, "--query", "nodeStateCounts")
    assert (counts["runningNodeCount"], counts["idleNodeCount"]) == (0, 2)

    # 11: az's file table
    files = bai("job", "file", "list", *IN_EXP, "-j", "cifar_distributed", "--output", "table").stdout
    assert files.splitlines()[0].split() == ["Name", "Type", "Size", "Modified"]
    rows = {line.split()[0]: line.split() for line in files.splitlines()[2:]}
    assert {"stdout.txt", "stderr.txt"} <= set(rows)
    assert rows["stdout.txt"][1:3] == ["file", str(len(emulator.world.stdout))]
    assert sum(name.startswith("execution-") for name in rows) == 2
    assert "downloadUrl" not in bai("job", "file", "list", *IN_EXP, "-j", "cifar_distributed").stdout

    # 12: streamed stdout == the replayed training output == the file on the share, byte for byte
    assert streamed == emulator.world.stdout
    segment = final["jobOutputDirectoryPathSegment"]
    bai("storage", "file", "download", "--path", f"cifar/{segment}/stdouterr/stdout.txt", *STORAGE,
        "--dest", str(tmp_path / "stdout.txt"))  # fmt: skip
    assert (tmp_path / "stdout.txt").read_bytes() == streamed

    # 13: the trained model
    model = "cifar/saved_models/keras_cifar10_trained_model.h5"
    bai("storage", "file", "download", "--path", model, *STORAGE, "--dest", str(tmp_path))
    assert (tmp_path / "keras_cifar10_trained_model.h5").read_bytes() == MODEL_BYTES

    # 14: resize to 0
    bai("cluster", "resize", *IN_WS, "-n", CLUSTER, "--target", "0")
    deadline = time.monotonic() + 30
    while (cluster := bai.json("cluster", "show", *IN_WS, "-n", CLUSTER))["currentNodeCount"]:
        assert time.monotonic() < deadline, cluster
    assert cluster["allocationState"] == "steady"

    secrets = secrets_of(emulator)  # before step 15 deletes the account and its keys
    # 15: everything goes
    bai("group", "delete", "--name", RG, "--yes")
    gone = bai("group", "show", "-n", RG, check=False)
    assert gone.returncode == 1 and "ResourceGroupNotFound" in gone.stderr
    assert bai.json("workspace", "list") == []
    assert_no_secret(bai.seen, secrets)


def make_share(bai: AzureBai, emulator: AzureEmulator) -> list[str]:
    """A group, a storage account and a share to be refused on; the secrets that must never be shown."""
    bai("group", "create", "--name", RG, "--location", "eastus")
    bai("storage", "account", "create", "-g", RG, "-n", ACCOUNT, "-l", "eastus")
    bai("storage", "share", "create", "--name", SHARE, "--account-name", ACCOUNT)
    return secrets_of(emulator)


def test_errors_on_the_command_line_name_the_problem_and_hide_secrets(
    emulator: AzureEmulator, tmp_path: Path
) -> None:
    bai = AzureBai(tmp_path, emulator)
    secrets = make_share(bai, emulator)

    wrong = bai("storage", "share", "list", "--account-name", ACCOUNT, check=False,
                AZURE_BATCHAI_STORAGE_ACCOUNT=ACCOUNT, AZURE_BATCHAI_STORAGE_KEY=WRONG_KEY)  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("bai: error: listing shares of mystorage failed: AuthenticationFailed")
    assert "AZURE_BATCHAI_STORAGE_KEY" in wrong.stderr and "Traceback" not in wrong.stderr

    bad_token = bai("group", "list", check=False, BAI_ACCESS_TOKEN="not-the-right-token-123456")
    assert bad_token.returncode == 1 and "InvalidAuthenticationToken" in bad_token.stderr
    assert "not-the-right-token-123456" not in bad_token.stderr

    signed_out = bai("group", "list", check=False, BAI_ACCESS_TOKEN="")  # DefaultAzureCredential, no sign-in
    assert signed_out.returncode == 1 and len(signed_out.stderr.splitlines()) == 1, signed_out.stderr
    assert "no usable Azure credential" in signed_out.stderr and "az login" in signed_out.stderr

    remote = bai("group", "list", check=False, BAI_ARM_ENDPOINT="http://arm.example.com")
    assert remote.returncode == 1
    assert "BAI_ARM_ENDPOINT: refusing plain http to arm.example.com" in remote.stderr

    emulator.add_fault(r"/resourcegroups$", method="GET", status=429, code="TooManyRequests",
                       headers={"Retry-After": "0"}, times=2)  # fmt: skip
    assert bai.json("group", "list")[0]["name"] == RG  # throttled twice, retried, answered

    spec = json.loads(json.dumps(JOB_JSON))
    spec["properties"]["nodeCount"] = 3
    (tmp_path / "job.json").write_text(json.dumps(spec))
    bai("workspace", "create", "-g", RG, "-n", WS)
    bai("experiment", "create", *IN_WS, "--name", EXP)
    bai("cluster", "create", *IN_WS, "--name", CLUSTER, "--vm-size", "Standard_NC6", "--target", "1",
        "--generate-ssh-keys")  # fmt: skip
    refused = bai("job", "create", "--cluster", CLUSTER, "--name", "too_big", *IN_EXP, "--config-file",
                  "job.json", "--storage-account-name", ACCOUNT, check=False)  # fmt: skip
    assert refused.returncode == 1
    assert "BadRequest: The job definition is invalid." in refused.stderr
    assert "properties.nodeCount: the job asks for 3 nodes; cluster 'nc6cluster' has 1" in refused.stderr
    assert_no_secret([*bai.seen, wrong.stderr, bad_token.stderr], secrets)


async def test_logs_and_exceptions_never_carry_secrets(emulator: AzureEmulator, tmp_path: Path) -> None:
    """With every logger at DEBUG (azure-core's HTTP logging included) and through failures that echo
    signatures back, nothing printed or raised contains a key, the token or a SAS signature."""
    records = io.StringIO()
    handler = logging.StreamHandler(records)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    messages: list[str] = []
    backend = open_batchai_backend(emulator.env())
    try:
        await tutorial_setup(backend, tmp_path)
        ref = job_ref()
        await backend.jobs.create(ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT))
        emulator.add_fault(r"/stdout\.txt$", method="GET", drop_after=100, times=1)
        async for _chunk in backend.jobs.stream_file(ref, "stdout.txt"):
            emulator.revoke_links()  # 403s with the SAS in the URL, then fresh links
        for entry in await backend.jobs.list_output_files(ref):
            messages.append(repr(entry))
        wrong = open_batchai_backend(
            {
                **emulator.env(),
                "AZURE_BATCHAI_STORAGE_ACCOUNT": ACCOUNT,
                "AZURE_BATCHAI_STORAGE_KEY": WRONG_KEY,
            }
        )
        try:
            with pytest.raises(BaiError) as caught:
                await wrong.storage.list_files(ACCOUNT, SHARE, "cifar")
            messages.append(str(caught.value))
        finally:
            await wrong.close()
        secrets = [*secrets_of(emulator), WRONG_KEY]
    finally:
        await backend.close()
        root.removeHandler(handler)
        root.setLevel(old_level)
    logged = records.getvalue()
    assert "azure.core.pipeline.policies.http_logging_policy" in logged or "Request URL" in logged
    assert emulator.sas_refused >= 1
    assert_no_secret([logged, *messages], secrets)


REAL = Path(__file__).parent / "azure_emulator" / "data" / "real"


def real_with(name: str, **properties: str) -> dict:
    """A real body (tests/azure_emulator/data/real) with these properties set on it or each listed item."""
    body = json.loads((REAL / name).read_text())
    for item in body.get("value", [body]):
        item["properties"].update(properties)
    return body


def test_lists_and_shows_keep_states_this_version_does_not_know(
    emulator: AzureEmulator, tmp_path: Path
) -> None:
    bai = AzureBai(tmp_path, emulator)
    demo = ("-g", "demo_resource_group", "-w", "demo_workspace")
    jobs = real_with("job_list_by_experiment.json", executionState="Preempted")
    emulator.add_fault(r"/experiments/demo_experiment/jobs$", method="GET", status=200, body=jobs, times=2)
    table = bai("job", "list", *demo, "-e", "demo_experiment", "-o", "table")
    assert table_row(table.stdout)[0] == "demo_job" and "preempted" in table_row(table.stdout)
    assert [job["executionState"] for job in bai.json("job", "list", *demo, "-e", "demo_experiment")] == [
        "preempted"
    ]
    clusters = {"value": [real_with("cluster_get.json", allocationState="Stopping")]}
    emulator.add_fault(r"/workspaces/demo_workspace/clusters$", method="GET", status=200, body=clusters)
    [cluster] = bai.json("cluster", "list", *demo)
    assert (cluster["name"], cluster["allocationState"]) == ("demo_cluster", "stopping")


def real_text(name: str) -> str:
    return (REAL / name).read_text()


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What the user sees of a failed command: `bai: error: ...` and its indented lines, no traceback."""
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("bai: error: ") and "Traceback" not in result.stderr, result.stderr
    assert all(line.startswith("  ") for line in lines[1:]), result.stderr
    return lines


def test_real_error_answers_name_the_code_the_message_and_what_to_do(
    emulator: AzureEmulator, tmp_path: Path
) -> None:
    bai = AzureBai(tmp_path, emulator)
    secrets = make_share(bai, emulator)

    def arm(name: str, status: int, env: dict[str, str] | None = None, **headers: str) -> list[str]:
        body = json.loads(real_text(name))
        emulator.add_fault(
            r"/clusters/cluster$", method="GET", status=status, body=body, headers=headers, times=9
        )
        try:
            return error_lines(bai("cluster", "show", *IN_WS, "-n", "cluster", check=False, **(env or {})))
        finally:
            emulator.faults.clear()

    missing = arm("error_resource_not_found_gateway.json", 404)
    assert missing[0] == (
        "bai: error: reading cluster cluster failed: ResourceNotFound: The Resource "
        "'Microsoft.BatchAI/clusters/cluster' under resource group 'clitest.rg000001' was not found."
    )
    assert missing[1].startswith("  what to do: ") and "bai cluster list" in missing[1], missing

    denied = arm("error_authorization_failed.json", 403)
    assert denied[0].startswith(
        "bai: error: reading cluster cluster failed: AuthorizationFailed: The client "
    )
    assert denied[0].endswith("If access was recently granted, please refresh your credentials.")
    assert denied[1].startswith("  what to do: ")

    throttled = arm(
        "error_subscription_throttled.json", 429, {"BAI_RETRY_TOTAL": "1"}, **{"Retry-After": "1"}
    )
    assert throttled[0].startswith(
        "bai: error: reading cluster cluster failed: SubscriptionRequestsThrottled: "
    )
    assert "throttling" in throttled[1]

    def files(name: str, status: int, code: str) -> list[str]:
        emulator.add_fault(r"/myshare$", method="GET", status=status, text=real_text(name), times=9,
                           headers={"x-ms-error-code": code})  # fmt: skip
        try:
            return error_lines(bai("storage", "file", "list", *STORAGE, check=False))
        finally:
            emulator.faults.clear()

    no_share = files("files_share_not_found.xml", 404, "ShareNotFound")
    assert (
        no_share[0]
        == "bai: error: listing myshare/ failed: ShareNotFound: The specified share does not exist."
    )
    assert no_share[1].startswith("  what to do: ") and "bai storage share list" in no_share[1], no_share
    refused = files("files_authorization_failure.xml", 403, "AuthorizationFailure")
    assert refused[0] == (
        "bai: error: listing myshare/ failed: AuthorizationFailure: "
        "This request is not authorized to perform this operation."
    )
    assert refused[1].startswith("  what to do: ") and "firewall" in refused[1], refused
    assert_no_secret(bai.seen, secrets)
