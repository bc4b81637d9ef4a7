#!/usr/bin/env python
"""How fast the local backend turns a submission into a running job, and a written line into streamed bytes.

    .venv/bin/python bench/local_job_latency.py [--runs 10]

What a console user feels after `bai job create`: the time until the job is `running` with its nodes held
(scheduler claim + detached supervisor start), until the job's first stdout line reaches a `stream_file`
reader, and from the job's end until the stream finishes. The job is a customToolkit `echo` (no TensorFlow),
so the figures are the backend's own overhead. Each run is a new job on a 1-node cluster in a temporary
$BAI_HOME; medians printed, min and max beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


async def one_run(backend, index: int, gate: Path) -> tuple[float, float, float]:
    from tui.core.jobspec import parse_job_spec
    from tui.core.model import ExecutionState, JobRef

    spec = parse_job_spec(
        {
            "properties": {
                "nodeCount": 1,
                "customToolkitSettings": {
                    "commandLine": f"echo hello; while [ ! -e {gate}{index} ]; do sleep 0.05; done; echo bye"
                },
                "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_TEMP",
            }
        }
    )
    ref = JobRef("rg", "ws", "exp", f"job{index}")
    began = time.perf_counter()
    await backend.jobs.create(ref, "c", spec)
    while True:
        job = await backend.jobs.get(ref)
        if job.execution_state is ExecutionState.RUNNING and job.start_time is not None:
            running = time.perf_counter() - began
            break
        await asyncio.sleep(0.01)
    stream = backend.jobs.stream_file(ref, "stdout.txt")
    first = await anext(stream)
    first_byte = time.perf_counter() - began
    assert first.startswith(b"hello"), first
    Path(f"{gate}{index}").touch()
    async for _chunk in stream:
        pass
    stream_done = time.time()
    job = await backend.jobs.get(ref)
    assert job.execution_state is ExecutionState.SUCCEEDED, job.errors
    assert job.end_time is not None
    return running, first_byte, stream_done - job.end_time.timestamp()


async def main(runs: int) -> None:
    from tui.backends.local import open_local_backend
    from tui.core.model import ClusterRef, ExperimentRef

    with tempfile.TemporaryDirectory() as folder:
        backend = open_local_backend(Path(folder) / "home")
        await backend.groups.create("rg", "eastus")
        await backend.workspaces.create("rg", "ws")
        await backend.experiments.create(ExperimentRef("rg", "ws", "exp"))
        await backend.clusters.create(ClusterRef("rg", "ws", "c"), "Standard_NC6", 1)
        results = [await one_run(backend, index, Path(folder) / "gate") for index in range(runs)]
        await backend.groups.delete("rg")
    for label, values in zip(
        ("submit -> running", "submit -> first stdout byte streamed", "job end -> stream finished"),
        zip(*results, strict=True),
        strict=True,
    ):
        ms = [value * 1000 for value in values]
        print(
            f"{label}: median {statistics.median(ms):.0f} ms "
            f"(min {min(ms):.0f}, max {max(ms):.0f}, {runs} runs)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
