"""Make the README's SVG screenshots of the console from a real session on a temporary local backend.

    .venv/bin/python bench/console_screenshots.py [--out docs/screenshots] [--no-training]

It creates the tutorial's resources, submits the tutorial's job.json (2 workers, test-made CIFAR-10 data,
3 epochs) through the job form, and saves the screens as a user would see them at 100x30: the tree and node
table, the job form, the live log while training and after, the finished job's output files in the tree,
and Compare runs over it and a second, 2-epoch run of the same job. With --no-training, the live log
replays tests/data/logs/horovodrun-np2-sample.log instead (real horovodrun output) and the two training
screens (output files, Compare runs) are not made.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def main(out: Path, training: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="bai-shots-"))
    os.environ["BAI_HOME"] = str(work / "home")
    from tests.tutorial_resources import ACCOUNT, create_tutorial_resources, write_tutorial_job
    from tui.backends import open_backend
    from tui.console.app import BaiApp
    from tui.console.widgets.job_form import JobForm
    from tui.console.widgets.live_log import LiveLog

    backend = open_backend("local")
    await create_tutorial_resources(backend, work, train_per_batch=130, test_images=64)

    out.mkdir(parents=True, exist_ok=True)
    app = BaiApp(
        backend,
        job_path=write_tutorial_job(work / "job.json", 3, train_images=640, test_images=64, keep_setup=True),
        poll_seconds=0.5,
        node_poll_seconds=0.5,
        remember_theme=False,
    )
    async with app.run_test(size=(100, 30)) as pilot:

        async def until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
            for _ in range(int(timeout / 0.2)):
                if condition():
                    return
                await pilot.pause(0.2)
            raise SystemExit(f"timed out: {condition}")

        await until(lambda: app.tree.cursor_node is not None)
        await until(lambda: app.query(JobForm) and app.query_one(JobForm).path is not None)
        await pilot.pause(0.5)
        await pilot.press("1", "right")
        await until(lambda: len(app.tree.root.children[0].children) > 1)
        await pilot.press("down", "right")
        await until(
            lambda: any(n.data.kind == "cluster" for n in app.tree.root.children[0].children[0].children)
        )
        await pilot.press("down", "down")
        await pilot.pause(1.0)
        app.save_screenshot("console-tree-and-nodes.svg", str(out))

        form = app.query_one(JobForm)
        form.set_value("target.name", "cifar_distributed")
        form.set_value("target.storage_account", ACCOUNT)
        await pilot.press("2")
        await pilot.pause(1.5)
        app.save_screenshot("console-job-form.svg", str(out))

        if training:
            await pilot.press("s")
            log = app.query_one(LiveLog)
            await until(lambda: any(rank.epoch == 2 and rank.step for rank in log.stream.ranks.values()), 600)
            await pilot.pause(0.5)
            app.save_screenshot("console-live-log-running.svg", str(out))
            await until(lambda: log.finished, 600)
            await shoot_files_and_comparison(app, pilot, backend, work, out, until)
        else:
            sample = ROOT / "tests" / "data" / "logs" / "horovodrun-np2-sample.log"

            async def source(name: str):  # type: ignore[no-untyped-def]
                yield sample.read_bytes() if name == "stdout.txt" else b""

            log = app.query_one(LiveLog)
            log.open_source(source, "job sample", "succeeded")
            await pilot.press("3")
            await until(lambda: log.finished)
        await pilot.pause(0.5)
        app.save_screenshot("console-live-log.svg", str(out))
        app.theme = "bai-high-contrast"
        await pilot.pause(0.5)
        app.save_screenshot("console-high-contrast.svg", str(out))
        app.theme = "bai-light"
        await pilot.press("1")
        await pilot.pause(0.5)
        app.save_screenshot("console-light.svg", str(out))
    await backend.close()
    for path in sorted(out.glob("console-*.svg")):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


async def shoot_files_and_comparison(app, pilot, backend, work: Path, out: Path, until) -> None:  # type: ignore[no-untyped-def]
    """The finished job opened in the tree to its output files; then a second run of the same job with 2
    epochs, and Compare runs over both (the experiment's k)."""
    from tests.tutorial_resources import ACCOUNT, CLUSTER, EXPERIMENT, GROUP, WORKSPACE, write_tutorial_job
    from tui.console.widgets.compare_runs import CompareRunsScreen
    from tui.core.model import JobRef
    from tui.core.operations import prepare_job, submit_job

    tree = app.tree
    job = tree.cursor_node
    await pilot.press("right")
    await until(lambda: job.is_expanded and any(c.data.kind == "output" for c in job.children))
    await pilot.press("down")
    await pilot.pause(0.5)
    app.save_screenshot("console-job-files.svg", str(out))

    second = write_tutorial_job(work / "job-2-epochs.json", 2, train_images=640, test_images=64)
    ref = JobRef(GROUP, WORKSPACE, EXPERIMENT, "cifar_2_epochs")
    await submit_job(backend.jobs, ref, CLUSTER, prepare_job(second, ACCOUNT))
    final = await backend.jobs.wait(ref, poll_interval=1.0, timeout=900)
    print(f"second run: {final.execution_state.value}", file=sys.stderr)
    await pilot.press("left", "left", "left", "r")  # file -> job (folded) -> experiment; r shows the new job
    await pilot.pause(1.0)
    await pilot.press("k")
    await until(lambda: isinstance(app.screen, CompareRunsScreen) and app.screen.loaded)
    await pilot.pause(0.5)
    app.save_screenshot("console-compare-runs.svg", str(out))
    await pilot.press("escape")
    await pilot.pause(0.3)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--no-training", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.out.resolve(), not arguments.no_training))
