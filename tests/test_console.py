"""Pilot tests of the console on a real local backend in a temporary BAI_HOME: every pane and action.

Each test drives the app with keys only, as a user over SSH would, and checks what the screen shows and
what the backend now holds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.tutorial_resources import ACCOUNT, CLUSTER, EXPERIMENT, GROUP, SHARE, WORKSPACE
from tui.console.actions import ACTIONS
from tui.console.app import BaiApp
from tui.console.launch import run_console
from tui.console.widgets.dialogs import ConfirmDialog, FormDialog
from tui.console.widgets.job_form import JobForm
from tui.console.widgets.keys_help import KeysScreen
from tui.console.widgets.live_log import LiveLog
from tui.console.widgets.tree_items import Item
from tui.core.model import ClusterRef, ExperimentRef, JobRef

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "samples"
SIZE = (100, 30)

TUTORIAL_JOB = json.loads((Path(__file__).parent / "data/jobs/tutorial-job.json").read_text())


@pytest.fixture
def home(bai_home: Path) -> Path:
    """A private BAI_HOME on the local backend (conftest.py's `bai_home`; other console tests import this)."""
    return bai_home


@pytest.fixture
def backend(tutorial_backend: object) -> object:
    """The tutorial's resources, made through the real local backend (conftest.py's `tutorial_backend`)."""
    return tutorial_backend


def make_app(backend: object, **options: object) -> BaiApp:
    options.setdefault("node_poll_seconds", 0.2)
    options.setdefault("poll_seconds", 0.3)
    app = BaiApp(backend, **options)  # type: ignore[arg-type]
    app.sent = []  # type: ignore[attr-defined]  # every notification, even those that timed out
    original = app.notify

    def notify(message: str, *args: object, **kwargs: object) -> None:
        app.sent.append((message, kwargs.get("severity", "information")))  # type: ignore[attr-defined]
        original(message, *args, **kwargs)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return app


async def until(pilot, condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    """Wait (driving the app) until `condition()` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}; notices: {notices(pilot.app)}")
        await pilot.pause(0.05)


async def job_form(pilot, app: BaiApp) -> JobForm:  # type: ignore[no-untyped-def]
    """The job form, once mounted (the app mounts it just after the first paint)."""
    await until(pilot, lambda: app.query(JobForm) and app.query_one(JobForm).is_ready, what="the job form")
    return app.query_one(JobForm)


def labels(app: BaiApp) -> list[str]:
    """Every visible tree line's text, depth-first."""
    out: list[str] = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        for child in node.children:
            out.append(str(child.label))
            if child.is_expanded:
                walk(child)

    walk(app.tree.root)
    return out


async def go_to(pilot, app: BaiApp, *names: str) -> None:  # type: ignore[no-untyped-def]
    """Move the cursor down the tree by names, opening each level with the right arrow."""
    for index, name in enumerate(names):

        def visible(name: str = name) -> bool:
            return any(name in text for text in labels(app))

        await until(pilot, visible, what=f"{name} in the tree")
        for _ in range(60):
            node = app.tree.cursor_node
            if node is not None and node.data is not None and node.data.name == name:
                break
            await pilot.press("down")
        else:
            raise AssertionError(f"could not reach {name}: {labels(app)}")
        if index < len(names) - 1:
            await pilot.press("right")


def notices(app: BaiApp) -> list[str]:
    return [message for message, _severity in app.sent]  # type: ignore[attr-defined]


async def fill_dialog(pilot, values: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    # A create dialog opens once the siblings' names are listed (for its suggestion): wait for it.
    await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the dialog")
    dialog = pilot.app.screen
    assert isinstance(dialog, FormDialog), dialog
    for key, value in values.items():
        dialog.query_one(f"#field-{key}").value = value
    await pilot.press("enter")


# ---------------------------------------------------------------------------------------------- tree


async def test_tree_loads_lazily_and_shows_the_tutorial_resources(backend: object) -> None:
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: labels(app), what="the first level")
        assert labels(app) == [f"rg {GROUP}"]
        group_node = app.tree.root.children[0]
        assert not group_node.data.loaded  # nothing below is asked for until opened
        await go_to(pilot, app, GROUP, WORKSPACE)
        await pilot.press("right")
        await until(pilot, lambda: any("cluster nc6cluster" in text for text in labels(app)))
        text = labels(app)
        assert f"ws {WORKSPACE}" in text and f"storage {ACCOUNT}" in text
        assert f"exp {EXPERIMENT}" in text
        assert any(line.startswith("cluster nc6cluster 2/2 nodes 2 idle") for line in text), text


async def test_refresh_keeps_the_selection_and_shows_new_resources(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await backend.experiments.create(ExperimentRef(GROUP, WORKSPACE, "aaa-first"))
        await pilot.press("r")
        await until(
            pilot, lambda: any("aaa-first" in text for text in labels(app)), what="the new experiment"
        )
        await until(
            pilot, lambda: app.tree.cursor_node.data.name == CLUSTER, what="cursor back on the cluster"
        )
        # the new experiment sorts first, so the cluster moved a line down and the cursor followed it
        assert labels(app).index("exp aaa-first") < labels(app).index(str(app.tree.cursor_node.label))


async def test_job_states_have_a_symbol_and_a_word(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tui.core.jobspec import parse_job_spec

    spec = parse_job_spec(
        {
            "properties": {
                "nodeCount": 1,
                "customToolkitSettings": {"commandLine": "echo done"},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
            }
        }
    )
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, "quick")
    await backend.jobs.create(ref, CLUSTER, spec)
    await backend.jobs.wait(ref, poll_interval=0.2, timeout=60)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT, "quick")
        assert str(app.tree.cursor_node.label) == "✔ quick succeeded"
        style = app.tree.cursor_node.label.spans[0].style
        assert "green" in str(style)


# ---------------------------------------------------------------------------------------------- node table


async def test_node_table_updates_cells_in_place_and_calls_out_idle_nodes(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        nodes = app.nodes
        await until(pilot, lambda: CLUSTER in nodes.clusters, what="the cluster row")
        assert nodes.cell(CLUSTER, "vm_size") == "Standard_NC6"
        assert nodes.cell(CLUSTER, "idle") == "2"
        hint = str(app.query_one("#nodes-hint").render())
        assert "2 idle" in hint and "press 0 to scale to 0" in hint
        row_key = next(iter(nodes.table.rows))
        await backend.clusters.resize(ClusterRef(GROUP, WORKSPACE, CLUSTER), 3)
        await until(pilot, lambda: nodes.cell(CLUSTER, "target") == "3", what="target 3 in place")
        assert next(iter(nodes.table.rows)) == row_key and nodes.table.row_count == 1


async def test_scale_to_zero_asks_first_then_resizes(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    ref = ClusterRef(GROUP, WORKSPACE, CLUSTER)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await pilot.press("0")  # the question comes once the cluster's jobs are read (none here)
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmDialog)
        assert (await backend.clusters.get(ref)).target_node_count == 2
        await pilot.press("0")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question again")
        await pilot.press("y")
        await until(pilot, lambda: any("resizing to 0" in n for n in notices(app)), what="the resize notice")
        assert (await backend.clusters.get(ref)).target_node_count == 0
        await until(pilot, lambda: app.nodes.cell(CLUSTER, "target") == "0", what="the table to follow")
        await until(pilot, lambda: "idle" not in str(app.query_one("#nodes-hint").render()))


async def test_resize_asks_for_the_target(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await pilot.press("z")
        await fill_dialog(pilot, {"target": "many"})
        assert isinstance(app.screen, FormDialog)  # stays open, the message under the field
        assert "whole number" in str(app.screen.query_one("#error-target").render())
        await fill_dialog(pilot, {"target": "1"})
        await until(pilot, lambda: app.nodes.cell(CLUSTER, "target") == "1", what="target 1")


# ------------------------------------------------------------------------------------------ create / delete


async def test_create_workspace_experiment_cluster_share_and_folder(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP)
        await pilot.press("w")
        await fill_dialog(pilot, {"name": "ws2"})
        await until(pilot, lambda: "ws ws2" in labels(app), what="the new workspace")
        await until(
            pilot, lambda: app.tree.cursor_node.data.name == "ws2", what="cursor on the new workspace"
        )
        await pilot.press("e")
        await fill_dialog(pilot, {"name": "exp2"})
        await until(pilot, lambda: "exp exp2" in labels(app), what="the new experiment")
        await pilot.press("c")
        await fill_dialog(pilot, {"name": "small", "target": "1", "vm_size": "Standard_NC6"})
        await until(
            pilot, lambda: any(t.startswith("cluster small") for t in labels(app)), what="the cluster"
        )
        assert (await backend.clusters.get(ClusterRef(GROUP, "ws2", "small"))).target_node_count == 1
        await go_to(pilot, app, ACCOUNT)
        await pilot.press("h")
        await fill_dialog(pilot, {"name": "logs"})
        await until(pilot, lambda: "share logs" in labels(app), what="the new share")
        await go_to(pilot, app, "logs")
        await pilot.press("n")
        await fill_dialog(pilot, {"name": "cifar"})
        await until(pilot, lambda: "dir cifar" in labels(app), what="the new folder")
        assert [entry.name for entry in await backend.storage.list_files(ACCOUNT, "logs")] == ["cifar"]


async def test_create_group_and_storage_account(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: labels(app))
        await pilot.press("g")
        await fill_dialog(pilot, {"name": "other.group"})
        await until(pilot, lambda: "rg other.group" in labels(app))
        await pilot.press("a")
        await fill_dialog(pilot, {"name": "otherstore"})
        await until(pilot, lambda: any("otherstore" in text for text in labels(app)), what="the account")
        assert [a.name for a in await backend.storage.list_accounts("other.group")] == ["otherstore"]


async def test_delete_asks_first_and_backend_errors_become_notifications(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        assert "experiment cifar" in str(app.screen.query_one("#question").render())
        await pilot.press("escape")
        assert [e.name for e in await backend.experiments.list(GROUP, WORKSPACE)] == [EXPERIMENT]
        await pilot.press("d", "y")
        await until(pilot, lambda: "exp cifar" not in labels(app), what="the experiment to go")
        assert await backend.experiments.list(GROUP, WORKSPACE) == []
        # a workspace in a group that does not exist: the backend's message, as a notification
        await pilot.press("w")
        await fill_dialog(pilot, {"group": "no-such-group", "name": "x"})
        await until(pilot, lambda: any("no-such-group" in n for n in notices(app)))
        message, severity = next(sent for sent in app.sent if "no-such-group" in sent[0])
        assert severity == "error" and "Traceback" not in message


async def test_upload_then_download_a_file(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "train.py"
    script.write_text("print('hello')\n")
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, ACCOUNT, SHARE)
        await pilot.press("u")
        await fill_dialog(pilot, {"source": str(tmp_path / "missing.py")})
        assert "does not exist" in str(app.screen.query_one("#error-source").render())
        # As az (and `bai storage file upload`): one file goes into a folder that exists (issue 9).
        await backend.storage.create_directory(ACCOUNT, SHARE, "cifar")
        await fill_dialog(pilot, {"source": str(script), "directory": "cifar"})
        await until(pilot, lambda: any("Uploaded train.py" in n for n in notices(app)), what="the upload")
        await pilot.press("right")
        await go_to(pilot, app, "cifar", "train.py")
        await pilot.press("f")
        target = tmp_path / "back" / "train.py"
        await fill_dialog(pilot, {"destination": str(target)})
        await until(pilot, lambda: target.exists(), what="the download")
        assert target.read_text() == "print('hello')\n"


# ---------------------------------------------------------------------------------------------- job form


def write_job(folder: Path, document: dict | None = None) -> Path:
    path = folder / "job.json"
    path.write_text(json.dumps(document or TUTORIAL_JOB, indent=4))
    return path


async def test_job_form_is_prefilled_from_job_json(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_job(tmp_path)
    app = make_app(backend, job_path=path)
    async with app.run_test(size=SIZE) as pilot:
        form = await job_form(pilot, app)
        await until(pilot, lambda: form.path == path, what="the file in the form")
        assert app.query_one("#tabs").active == "job"
        values = {
            name: form._value(name)
            for name in (
                "node_count",
                "toolkit",
                "script",
                "arguments",
                "std_out_err_path_prefix",
                "shares",
                "job_preparation",
                "image",
            )
        }
        assert values == {
            "node_count": "4",
            "toolkit": "horovod",
            "script": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar/cifar_cnn_distributed.py",
            "arguments": "--dir=$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar",
            "std_out_err_path_prefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/myshare/cifar",
            "shares": "myshare = https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/myshare",
            "job_preparation": TUTORIAL_JOB["properties"]["jobPreparation"]["commandLine"],
            "image": "tensorflow/tensorflow:1.8.0-gpu",
        }
        assert app.query_one("#advanced-fold").collapsed


async def test_job_form_shows_each_error_next_to_its_field(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend, job_path=write_job(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        form = await job_form(pilot, app)
        await until(pilot, lambda: form.path is not None)
        form.set_value("node_count", "four")
        form.set_value("std_out_err_path_prefix", "")
        form.set_value("advanced", '{"schedulingPriorty": "high"}')
        await until(pilot, lambda: "node_count" in form.errors and "advanced" in form.errors, what="errors")
        assert form.errors["node_count"] == ["must be a whole number, got 'four'"]
        assert "required" in form.errors["std_out_err_path_prefix"][0]
        assert "schedulingPriorty" in form.errors["advanced"][0]
        assert "schedulingPriority" in form.errors["advanced"][0]  # did you mean
        shown = str(app.query_one("#e-node-count").render())
        assert shown == "✘ must be a whole number, got 'four'"
        assert not app.query_one("#advanced-fold").collapsed  # opened to show its error
        await pilot.press("s")
        assert any("problems" in n for n in notices(app))


async def test_save_writes_the_edited_job_json_back(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_job(tmp_path)
    app = make_app(backend, job_path=path)
    async with app.run_test(size=SIZE) as pilot:
        form = await job_form(pilot, app)
        await until(pilot, lambda: form.path == path)
        form.set_value("node_count", "2")
        form.set_value("environment", "EPOCHS=2\nDATA=/data")
        await pilot.press("ctrl+p")  # from the palette, as a user would
        await pilot.press(*"save job")
        await until(
            pilot,
            lambda: (
                "Save job.json" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt)
                if app.screen.query("CommandList")
                else False
            ),
            what="the palette hit",
        )
        await pilot.press("enter")
        await until(
            pilot, lambda: json.loads(path.read_text())["properties"]["nodeCount"] == 2, what="the file"
        )
        saved = json.loads(path.read_text())
        expected = json.loads(json.dumps(TUTORIAL_JOB))
        expected["properties"]["nodeCount"] = 2
        expected["properties"]["environmentVariables"] = [
            {"name": "EPOCHS", "value": "2"},
            {"name": "DATA", "value": "/data"},
        ]
        assert saved == expected


async def test_submit_creates_the_job_selects_it_and_shows_its_log(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = {
        "properties": {
            "nodeCount": 1,
            "customToolkitSettings": {"commandLine": "echo hello from the console"},
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
    app = make_app(backend, job_path=write_job(tmp_path, document))
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT)
        await pilot.press("down")  # the cluster: fills the form's cluster field
        form = await job_form(pilot, app)
        await until(pilot, lambda: form._value("target.cluster") == CLUSTER)
        form.set_value("target.name", "hello")
        form.set_value("target.storage_account", ACCOUNT)
        await pilot.press("s")
        await until(pilot, lambda: app.tree.cursor_node.data.name == "hello", what="the job selected")
        assert app.query_one("#tabs").active == "log"
        log = app.query_one(LiveLog)
        await until(
            pilot,
            lambda: "hello from the console" in "\n".join(log.text.lines),
            timeout=60,
            what="the job's output",
        )
        await until(pilot, lambda: "succeeded" in str(app.tree.cursor_node.label), timeout=30)
        await pilot.press("x")
        assert log.file_name == "stderr.txt"
        await pilot.press("x")
        await until(pilot, lambda: "hello from the console" in "\n".join(log.text.lines))


async def test_terminate_asks_first(backend) -> None:  # type: ignore[no-untyped-def]
    from tui.core.jobspec import parse_job_spec

    spec = parse_job_spec(
        {
            "properties": {
                "nodeCount": 1,
                "customToolkitSettings": {"commandLine": "sleep 120"},
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
            }
        }
    )
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, "sleeper")
    await backend.jobs.create(ref, CLUSTER, spec)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, EXPERIMENT, "sleeper")
        await pilot.press("t")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await until(
            pilot,
            lambda: any(s in str(app.tree.cursor_node.label) for s in ("failed", "terminating")),
            timeout=30,
            what="the job to stop",
        )
        final = await backend.jobs.wait(ref, poll_interval=0.2, timeout=60)
        assert final.execution_state.is_final


# ---------------------------------------------------------------------------------------------- live log


def file_source(path: Path, chunk: int = 997) -> Callable[[str], AsyncIterator[bytes]]:
    async def source(name: str) -> AsyncIterator[bytes]:
        data = path.read_bytes() if name == "stdout.txt" else b"[0]<stderr>:a warning\n"
        for start in range(0, len(data), chunk):
            yield data[start : start + chunk]
            await asyncio.sleep(0)

    return source


async def test_live_log_rows_chart_search_and_follow(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sample = Path(__file__).parent / "data" / "logs" / "horovodrun-np2-sample.log"
    if not sample.exists():
        pytest.skip("the log parser's sample logs are not there yet")
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(LiveLog)
        log.open_source(file_source(sample), "job sample", "succeeded")
        await pilot.press("3")
        await until(pilot, lambda: log.finished, what="the whole file")
        epochs = log.stream.ranks["0"].epochs
        progress = log.query_one("#progress")
        # The rows are redrawn a few times a second, not at each line: wait for the last draw.
        await until(
            pilot,
            lambda: (
                len(progress.row_texts()) == 2
                and all(f"ep {epochs}/{epochs}" in row for row in progress.row_texts())
            ),
            what="both rows at the last epoch",
        )
        rows = progress.row_texts()
        assert len(rows) == 2 and rows[0].startswith("w0") and rows[1].startswith("w1")
        epochs = log.stream.ranks["0"].epochs
        assert all(f"ep {epochs}/{epochs}" in row for row in rows), rows
        assert log.query_one("#chart").filled_epochs == epochs
        assert log.text.line_count > 0 and not any("\b" in line or "\r" in line for line in log.text.lines)
        await pilot.press("p")
        assert not log.following and "paused" in log.title_text()
        await pilot.press("slash")
        await pilot.press(*"epoch", "enter")
        assert log._search_from >= 0 and "epoch" in log.text.lines[log._search_from].lower()
        assert log.text.scroll_y == min(log._search_from, log.text.max_scroll_y)
        await pilot.press("escape")
        await pilot.press("p")
        assert log.following


# ------------------------------------------------------------------------------------- palette, keys, looks


async def test_every_action_has_a_key_an_id_and_a_palette_entry(backend) -> None:  # type: ignore[no-untyped-def]
    from tui.console.palette import ConsoleCommands

    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        provider = ConsoleCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        assert titles == [spec.title for spec in ACTIONS]
        ids = [binding.id for binding in app.main.BINDINGS]  # type: ignore[union-attr]
        assert len(set(ids)) == len(ACTIONS) and all(i and i.startswith("bai.") for i in ids)
        for needed in (
            "Create workspace",
            "Create experiment",
            "Create cluster",
            "Create file share",
            "Upload to share",
            "Resize cluster",
            "Scale cluster to 0",
            "Submit job",
            "Terminate job",
            "Delete selected",
            "Download a file",
            "Refresh",
            "Switch backend",
        ):
            assert needed in titles
        hits = [hit async for hit in provider.search("scale")]
        best = max(hits, key=lambda hit: hit.score)
        assert best.text == "Scale cluster to 0" and "[key: 0]" in (best.help or "")


async def test_question_mark_shows_and_hides_the_keys(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: labels(app))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen), what="the key list")
        await pilot.press("question_mark")
        await until(pilot, lambda: not isinstance(app.screen, KeysScreen), what="the key list to go")


async def test_keymap_remaps_a_binding_by_id(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend, keymap={"bai.new_group": "f6"})
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: labels(app))
        await pilot.press("f6")
        assert isinstance(app.screen, FormDialog)


async def test_theme_switches_at_run_time_and_is_remembered(backend, home: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "bai-dark"
        await pilot.press("m")
        assert app.theme == "bai-light"
        await pilot.press("m")
        assert app.theme == "bai-high-contrast"
    assert json.loads((home / "console.json").read_text())["theme"] == "bai-high-contrast"
    again = make_app(backend)
    async with again.run_test(size=SIZE):
        assert again.theme == "bai-high-contrast"
        assert again.current_theme.ansi  # 16 colours: the terminal's own palette


async def test_usable_at_80x24_and_survives_resizes(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        tree = app.tree
        assert tree.region.width >= 22 and app.query_one("#tabs").region.width >= 50
        for size in ((60, 15), (200, 60), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.1)
        assert app.tree.cursor_node.data.name == CLUSTER
        await pilot.press("2")
        assert app.query_one("#tabs").active == "job"
        await pilot.press("3")
        assert app.query_one("#tabs").active == "log"


async def test_switching_backend_without_azure_credentials_says_what_to_do(backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: labels(app))
        await pilot.press("b")
        await until(pilot, lambda: app.sent, what="a notification")
        await pilot.pause(0.3)
        if app.backend_name == "local":
            message, severity = app.sent[-1]
            assert severity == "error" and "Traceback" not in message
        await pilot.press("q")


def test_bad_console_arguments_are_one_clear_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_console(["--theme", "neon"]) == 2
    assert (
        "--theme 'neon' is not a theme: use one of bai-dark, bai-light, bai-high-contrast"
        in capsys.readouterr().err
    )
    assert run_console(["--job", "nowhere.json"]) == 2
    assert "--job 'nowhere.json' is not a file" in capsys.readouterr().err
    assert run_console(["--backend", "cloud9"]) == 1  # the backend's typed error, in the command line's words
    assert "bai: --backend 'cloud9' is unknown" in capsys.readouterr().err


def test_a_bad_theme_is_answered_before_textual_is_imported(home: Path) -> None:
    """`bai --theme neon` is refused from the theme names alone: importing Textual first cost ~0.3 s."""
    import subprocess
    import sys

    import themes

    assert tuple(theme.name for theme in themes.THEMES) == themes.THEME_NAMES
    assert themes.THEMES[0].name == themes.DEFAULT_THEME
    code = (
        "import sys\n"
        "from tui.console.launch import run_console\n"
        "assert run_console(['--theme', 'neon']) == 2\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
    assert "--theme 'neon' is not a theme" in result.stderr


def test_selected_item_keys_are_stable() -> None:
    one = Item("cluster", group="g", workspace="w", name="c", obj=object())
    two = Item("cluster", group="g", workspace="w", name="c", obj=None)
    assert one.key == two.key


def test_starting_the_console_imports_neither_tensorflow_nor_the_azure_sdk(home: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tui.console.app import BaiApp\n"
        "from tui.backends import open_backend\n"
        "backend = open_backend('local')\n"
        "print(sorted({m.split('.')[0] + '.' + m.split('.')[1] if m.count('.') else m for m in sys.modules\n"
        "             if m.startswith(('tensorflow', 'azure', 'keras', 'horovod', 'msrest'))}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


async def test_pollers_keep_working_while_a_dialog_is_open(backend) -> None:  # type: ignore[no-untyped-def]
    """Regression: app-level queries hit the dialog's screen; pollers must reach the main screen's panes."""
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await pilot.press("z")  # a dialog opens before the job form is mounted and stays over several polls
        assert isinstance(app.screen, FormDialog)
        polls = app.nodes.polls
        await backend.clusters.resize(ClusterRef(GROUP, WORKSPACE, CLUSTER), 3)
        await until(pilot, lambda: app.nodes.polls > polls + 3, what="the node table to keep polling")
        await pilot.press("escape")
        await until(pilot, lambda: app.nodes.cell(CLUSTER, "target") == "3")
        await job_form(pilot, app)


async def test_long_work_shows_progress_and_failures_become_notifications(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        release = asyncio.Event()

        async def slow(task) -> None:  # type: ignore[no-untyped-def]
            task.progress(512, 2048)
            await release.wait()

        app.main.run_task("Uploading data", slow)
        bar = app.main.pane_task_bar
        await until(pilot, lambda: bar.has_class("-busy"), what="the task bar")
        label = bar.query_one("#task-label")
        progress = bar.query_one("#task-progress")
        await until(
            pilot,
            lambda: "Uploading data" in str(label.render()) and progress.percentage is not None,
            what="the task's name and progress drawn",
        )
        assert "Uploading data" in str(bar.query_one("#task-label").render())
        assert bar.query_one("#task-progress").percentage == 0.25
        release.set()
        await until(pilot, lambda: not bar.has_class("-busy"), what="the bar to go")

        async def broken(task) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("disk on fire")

        app.main.run_task("Saving", broken)
        await until(pilot, lambda: any("disk on fire" in n for n in notices(app)))
        message, severity = app.sent[-1]  # type: ignore[attr-defined]
        assert severity == "error" and "Press r to refresh" in message and "Traceback" not in message
        assert app.is_running


def test_an_internal_error_is_one_line_and_a_private_file(home: Path) -> None:
    from tui.console.lifecycle import crash_report

    try:
        token = "s3cr3t-storage-key"  # noqa: F841  (a local a rich traceback would have shown)
        raise KeyError("nodeCount")
    except KeyError as error:
        line = crash_report(error)
    log = home / "console-crash.log"
    assert (
        line
        == f"bai: the console stopped on an internal error (KeyError); details in {log}. Please report it."
    )
    assert "Traceback" in log.read_text() and "s3cr3t" not in log.read_text()
    assert oct(log.stat().st_mode & 0o777) == "0o600"


async def test_an_internal_error_is_filed_without_local_variables(backend, home: Path) -> None:  # type: ignore[no-untyped-def]
    """A bug that escapes every handler: Textual's own report of it (with each frame's local variables) goes
    to the private crash log, the local variables cut out, and the user is told where in one line."""
    app = make_app(backend)

    def broken() -> None:
        token = "-".join(("s3", "cr3t"))  # noqa: F841  (a local Textual's traceback would show: s3-cr3t)
        raise KeyError("nodeCount")

    app.main.action_refresh = broken  # type: ignore[method-assign]
    with pytest.raises(KeyError):
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: labels(app))
            await pilot.press("r")
            await pilot.pause(0.5)
    log = home / "console-crash.log"
    assert app.crash_log.file() == (
        f"bai: the console stopped on an internal error (KeyError); details in {log}. Please report it."
    )
    text = log.read_text()
    assert "in broken" in text and "KeyError: 'nodeCount'" in text and "s3-cr3t" not in text
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_keymap_comes_from_console_json(home: Path) -> None:
    from tui.console.settings import load_keymap

    assert load_keymap() == {}
    home.mkdir(parents=True, exist_ok=True)
    (home / "console.json").write_text(
        json.dumps({"theme": "bai-light", "keymap": {"bai.refresh": "f5", "x": 3}})
    )
    assert load_keymap() == {"bai.refresh": "f5"}
