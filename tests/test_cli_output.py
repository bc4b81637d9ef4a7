"""-o table|tsv|json and --query, as az printed them (pure functions: no backend, no subprocess)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from tui.cli.output import UsageError, cluster_row, emit, job_file_row, render_table, tsv_lines
from tui.core.model import Cluster, FileEntry, Job, NodeStateCounts


def printed(result: object, output: str, query: str | None = None, table=None) -> str:
    stream = io.StringIO()
    emit(result, output, query, table, stream=stream)
    return stream.getvalue()


CLUSTER = Cluster(
    name="nc6cluster",
    resource_group="batchai.horovod",
    workspace="batchaidev",
    vm_size="Standard_NC6",
    target_node_count=4,
    current_node_count=4,
    node_state_counts=NodeStateCounts(idle_node_count=1, running_node_count=2, preparing_node_count=1),
)


def test_cluster_table_has_azs_columns() -> None:
    text = printed(CLUSTER, "table", table=cluster_row)
    lines = text.splitlines()
    assert lines[0].split() == [
        "Name", "Resource", "Group", "Workspace", "VM", "Size", "State",
        "Idle", "Running", "Preparing", "Leaving", "Unusable",
    ]  # fmt: skip
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == [
        "nc6cluster", "batchai.horovod", "batchaidev", "Standard_NC6", "steady", "1", "2", "1", "0", "0",
    ]  # fmt: skip


def test_json_is_camel_case_as_az_printed() -> None:
    data = json.loads(printed(CLUSTER, "json"))
    assert data["allocationState"] == "steady"
    assert data["nodeStateCounts"]["runningNodeCount"] == 2
    assert data["currentNodeCount"] == 4 and data["vmSize"] == "Standard_NC6"


def test_query_is_jmespath_over_the_json() -> None:
    assert json.loads(printed(CLUSTER, "json", "nodeStateCounts.idleNodeCount")) == 1
    assert printed(CLUSTER, "tsv", "allocationState") == "steady\n"
    # az: with --query, the table is drawn generically from what the query returned
    text = printed(CLUSTER, "table", "nodeStateCounts", table=cluster_row)
    assert text.splitlines()[0].split() == [
        "IdleNodeCount", "RunningNodeCount", "PreparingNodeCount", "LeavingNodeCount", "UnusableNodeCount",
    ]  # fmt: skip
    assert text.splitlines()[2].split() == ["1", "2", "1", "0", "0"]


def test_a_bad_query_is_a_usage_error_naming_query() -> None:
    with pytest.raises(UsageError, match=r"argument --query: invalid JMESPath query 'nodeStateCounts\['"):
        printed(CLUSTER, "json", "nodeStateCounts[")


def test_job_file_table_and_az_keys() -> None:
    modified = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    files = [
        FileEntry("stdout.txt", False, 1234, modified),
        FileEntry("logs", True, None, modified),
    ]
    rows = json.loads(printed(files, "json"))
    assert rows[0]["fileType"] == "file" and rows[0]["contentLength"] == 1234
    assert rows[1]["fileType"] == "directory" and rows[1]["contentLength"] is None
    lines = printed(files, "table", table=job_file_row).splitlines()
    assert lines[0].split() == ["Name", "Type", "Size", "Modified"]
    assert lines[2].split() == ["stdout.txt", "file", "1234", "2026-11-27T15:00:00+00:00"]
    assert lines[3].split() == ["logs", "directory", "2026-11-27T15:00:00+00:00"]


def test_job_json_carries_azs_execution_info() -> None:
    job = Job("j", "rg", "ws", "exp", "c", exit_code=3, toolkit="horovod")
    data = json.loads(printed(job, "json"))
    assert data["executionState"] == "queued"
    assert data["executionInfo"]["exitCode"] == 3 and data["toolType"] == "horovod"


def test_tsv_leaves_nested_objects_out() -> None:
    assert tsv_lines([{"a": 1, "b": {"c": 2}, "d": None}, {"a": 3, "b": [], "d": "x"}]) == ["1\t", "3\tx"]
    assert tsv_lines(["x", "y"]) == ["x", "y"]


def test_none_prints_nothing_and_empty_table_prints_nothing() -> None:
    assert printed(CLUSTER, "none") == ""
    assert printed([], "table", table=cluster_row) == ""


def test_render_table_pads_columns() -> None:
    assert render_table([{"A": "x", "Bb": "yyy"}, {"A": "long", "Bb": ""}]) == (
        "A     Bb\n----  ---\nx     yyy\nlong\n"
    )


@pytest.mark.parametrize(
    ("argv", "console", "command"),
    [
        ([], True, []),
        (["--backend", "local"], True, ["--backend", "local"]),
        (["--backend=batchai", "--theme", "bai-dark"], True, ["--backend=batchai", "--theme", "bai-dark"]),
        (["--job", "job.json"], True, ["--job", "job.json"]),
        (["cluster", "show", "-n", "c"], False, ["cluster", "show", "-n", "c"]),
        (["--backend", "batchai", "cluster", "show"], False, ["cluster", "show", "--backend", "batchai"]),
        (["--help"], False, ["--help"]),
    ],
)
def test_console_or_command(argv: list[str], console: bool, command: list[str]) -> None:
    from tui.cli.main import console_or_command

    assert console_or_command(argv) == (console, command)


def test_jsonc_colours_only_a_terminal() -> None:
    import re

    from tui.cli.output import colour_json

    text = json.dumps({"name": "c", "count": 2, "ok": True, "none": None}, indent=2)
    coloured = colour_json(text)
    assert "\x1b[94m" in coloured and "\x1b[32m" in coloured and "\x1b[36m" in coloured
    assert re.sub(r"\x1b\[\d+m", "", coloured) == text
    assert printed(CLUSTER, "jsonc") == printed(CLUSTER, "json")  # a StringIO is no terminal: plain JSON
