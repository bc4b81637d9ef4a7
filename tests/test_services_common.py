"""The backend-neutral pieces both backends share (tui/backends/common.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tui.backends.common import files_to_upload, offset_progress, wait_until_final
from tui.core.errors import BaiError
from tui.core.model import ExecutionState, Job


def _job(state: ExecutionState) -> Job:
    return Job(
        name="j", resource_group="g", workspace="w", experiment="e", cluster="c", execution_state=state
    )


async def test_wait_returns_the_final_job() -> None:
    states = iter([ExecutionState.QUEUED, ExecutionState.RUNNING, ExecutionState.SUCCEEDED])

    async def get() -> Job:
        return _job(next(states))

    job = await wait_until_final(get, 0.01, None, lambda job, timeout: "never")
    assert job.execution_state == ExecutionState.SUCCEEDED


@pytest.mark.parametrize("clamp", [True, False])
async def test_wait_gives_up_with_the_backends_words(clamp: bool) -> None:
    async def get() -> Job:
        return _job(ExecutionState.RUNNING)

    started = time.monotonic()
    with pytest.raises(BaiError, match=r"^job j is still running after 0.2 s$"):
        await wait_until_final(
            get,
            0.5,
            0.2,
            lambda job, timeout: f"job {job.name} is still {job.execution_state.value} after {timeout:g} s",
            clamp_to_deadline=clamp,
        )
    waited = time.monotonic() - started
    # Clamped, the last sleep stops at the deadline; unclamped it is a whole poll interval.
    assert (waited < 0.45) if clamp else (waited >= 0.5)


def test_files_to_upload_and_offset_progress(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two").write_bytes(b"22")
    (tmp_path / "one").write_bytes(b"1")
    files, total = files_to_upload(tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in files] == ["b/two", "one"] and total == 3
    seen: list[tuple[int, int | None]] = []
    report = offset_progress(lambda done, of: seen.append((done, of)), 2, total)
    assert report is not None
    report(1, 1)
    assert seen == [(3, 3)]
    assert offset_progress(None, 0, 3) is None
