"""The console while workers stream (issue 12): the rows pane shows what fits, the slowest kept; the
cyclic GC's full collections do not walk what lives as long as the app.

A job of 64 workers used to lay out 64 rows ten times a second, of which the 9 the pane holds were seen;
now the first workers, the slowest one (wherever it sorts) and a line counting the others are shown. A full
collection walked the Azure SDK's models (imported by the job form's first check, after the start-up
freeze) each time: 42-50 ms a collection with the log streaming, felt as a stalled key press.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

from tests import test_console as base
from tests.test_console import make_app, until
from tui.console.widgets.live_log import LiveLog
from tui.console.widgets.progress_rows import MAX_ROWS, ProgressRows

home = base.home  # the fixtures: a temporary BAI_HOME and the tutorial's resources in it
backend = base.backend

WORKERS = 64
BEHIND = 37  # the one worker still in epoch 1


def update(rank: int, step: int, steps: int = 100) -> bytes:
    """One Keras progress update of `rank`, as horovodrun tags it (a \\r rewrite, no newline)."""
    text = f"{step:3d}/{steps} [====>....] - ETA: 9s - loss: 0.5000 - accuracy: 0.7000"
    return f"[{rank}]<stdout>:{text}\r".encode()


def at_last_step(row: str) -> bool:
    """The row's bar is half full (step 50 of 100): the pane is narrow, so the steps column is left out."""
    bar = row[row.index("[") + 1 : row.index("]")]
    return bar.count("█") == bar.count("░") > 0


async def many_workers(name: str, keep_open: asyncio.Event | None = None) -> AsyncIterator[bytes]:
    """Every worker in epoch 2 at step 50 (the last step written: 50), but worker BEHIND in epoch 1; with
    `keep_open`, the job goes on running (the file stays open, nothing more written) until it is set."""
    if name != "stdout.txt":
        return
    yield b"".join(f"[{r}]<stdout>:Epoch {1 if r == BEHIND else 2}/3\n".encode() for r in range(WORKERS))
    for step in range(1, 51):
        yield b"".join(update(rank, step) for rank in range(WORKERS))
        await asyncio.sleep(0)
    if keep_open is not None:
        await keep_open.wait()


async def test_a_job_of_64_workers_shows_the_first_rows_the_slowest_and_a_count(backend) -> None:  # type: ignore[no-untyped-def]
    app = make_app(backend)
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(LiveLog)
        log.open_source(many_workers, "job wide", "running")
        await pilot.press("3")
        await until(pilot, lambda: log.finished, timeout=60, what="the whole stream")
        rows = log.query_one(ProgressRows)
        await until(
            pilot,
            lambda: len(rows.row_texts()) == MAX_ROWS and at_last_step(rows.row_texts()[0]),
            timeout=30,
            what=f"the rows at the last step (shown: {rows.row_texts()})",
        )
        texts = rows.row_texts()
        assert [text.split()[0] for text in texts[: MAX_ROWS - 2]] == [f"w{r}" for r in range(MAX_ROWS - 2)]
        assert texts[MAX_ROWS - 2].startswith(f"w{BEHIND}") and "◀ slowest" in texts[MAX_ROWS - 2], texts
        assert texts[-1] == f"… and {WORKERS - (MAX_ROWS - 1)} more workers ({WORKERS} in all)"
        assert all(at_last_step(text) for text in texts[:-1]), texts  # every row shown has the newest step
        assert rows.size.height == MAX_ROWS  # the pane is as tall as before, the text below keeps its room
        assert all(len(text) <= rows.size.width for text in texts)


async def test_the_sdk_the_job_form_imports_at_start_is_left_out_of_full_collections(backend) -> None:  # type: ignore[no-untyped-def]
    def sdk_frozen() -> bool:
        import sys

        models = sys.modules.get("azure.mgmt.batchai.models")
        if models is None:
            return False  # the form's first check has not imported it yet
        job_class = models.JobCreateParameters
        return not any(obj is job_class for obj in gc.get_objects())  # frozen objects are not listed

    app = make_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, sdk_frozen, timeout=60, what="the SDK's models imported and frozen")


async def test_while_following_the_rows_show_each_workers_newest_step_before_the_stream_ends(backend) -> None:  # type: ignore[no-untyped-def]
    """The last updates of a running job (no newline after them, the file still open) reach the rows at the
    next redraw tick, not when more output or the end of the file comes."""
    keep_open = asyncio.Event()
    app = make_app(backend)
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(LiveLog)
        log.open_source(lambda name: many_workers(name, keep_open), "job running", "running")
        await pilot.press("3")
        rows = log.query_one(ProgressRows)
        await until(
            pilot,
            lambda: len(rows.row_texts()) == MAX_ROWS and all(at_last_step(t) for t in rows.row_texts()[:-1]),
            timeout=30,
            what=f"every row shown at the newest step (shown: {rows.row_texts()})",
        )
        assert not log.finished and log.following and "following" in log.title_text()
        keep_open.set()
