#!/usr/bin/env python
"""The Azure backend's two hot paths, through the real SDK pipeline against the local Azure emulator.

    .venv/bin/python bench/batchai_backend.py [--items 10] [--latency 0.2] [--megabytes 16]

1. Refreshing the console's view: `--items` clusters and `--items` jobs, each GET answered after
   `--latency` seconds (a far-away region), fetched one after another (as a naive poller would) and with
   `tui.backends.refresh.refresh` (asyncio.gather). Concurrent time should stay near one latency.
2. Streaming a finished job's stdout.txt (`--megabytes` MB) by byte range from its SAS download URL:
   throughput of `jobs.stream_file`, bytes checked against the source.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


async def refresh_figures(items: int, latency: float) -> tuple[float, float]:
    from azure_emulator import AzureEmulator, Timings
    from azure_emulator.testing import ACCOUNT, EXPERIMENT_REF, RG, WS, job_spec, tutorial_setup

    from tui.backends.base import JobSubmitOptions
    from tui.backends.batchai import open_batchai_backend
    from tui.backends.refresh import refresh
    from tui.core.model import ClusterRef, JobRef

    with AzureEmulator(Timings()) as emulator, tempfile.TemporaryDirectory() as tmp:
        backend = open_batchai_backend(emulator.env())
        try:
            await tutorial_setup(backend, Path(tmp), nodes=0)
            clusters = [ClusterRef(RG, WS, f"c{index}") for index in range(items)]
            jobs = [JobRef(RG, WS, EXPERIMENT_REF.name, f"j{index}") for index in range(items)]
            options = JobSubmitOptions(storage_account_name=ACCOUNT)
            for ref in clusters:
                await backend.clusters.create(
                    ref, "Standard_NC6", 0, ssh_public_key="ssh-rsa AAAAB3Nza bench"
                )
            for ref in jobs:  # queued for ever on a 0-node cluster: their state keeps being asked for
                await backend.jobs.create(ref, "nc6cluster", job_spec(nodeCount=1), options)
            emulator.add_fault(r"/(clusters|jobs)/[cj]\d+$", method="GET", delay=latency, times=10**9)
            started = time.perf_counter()
            for ref in clusters:
                await backend.clusters.get(ref)
            for ref in jobs:
                await backend.jobs.get(ref)
            sequential = time.perf_counter() - started
            started = time.perf_counter()
            snapshot = await refresh(backend, clusters, jobs, timeout=30)
            concurrent = time.perf_counter() - started
            assert not snapshot.errors and len(snapshot.clusters) == len(snapshot.jobs) == items
            return sequential, concurrent
        finally:
            await backend.close()


async def stream_figure(megabytes: int) -> float:
    from azure_emulator import AzureEmulator, Timings
    from azure_emulator.testing import ACCOUNT, CLUSTER, job_ref, job_spec, tutorial_setup

    from tui.backends.base import JobSubmitOptions
    from tui.backends.batchai import open_batchai_backend

    data = os.urandom(megabytes * 1024 * 1024)
    timings = Timings(replay=0.0, replay_pieces=1)
    with AzureEmulator(timings, stdout=data) as emulator, tempfile.TemporaryDirectory() as tmp:
        backend = open_batchai_backend(emulator.env())
        try:
            await tutorial_setup(backend, Path(tmp), nodes=2)
            ref = job_ref()
            await backend.jobs.create(
                ref, CLUSTER, job_spec(), JobSubmitOptions(storage_account_name=ACCOUNT)
            )
            await backend.jobs.wait(ref, poll_interval=0.05, timeout=60)
            received = bytearray()
            started = time.perf_counter()
            async for chunk in backend.jobs.stream_file(ref, "stdout.txt", follow=False):
                received += chunk
            elapsed = time.perf_counter() - started
            assert bytes(received) == data
            return len(data) / elapsed / 1e6
        finally:
            await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10, help="clusters and jobs each (default 10)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per GET (default 0.2)")
    parser.add_argument(
        "--megabytes", type=int, default=16, help="size of the streamed stdout.txt (default 16)"
    )
    args = parser.parse_args()
    sequential, concurrent = asyncio.run(refresh_figures(args.items, args.latency))
    print(
        f"refresh {args.items} clusters + {args.items} jobs at {args.latency * 1000:.0f} ms each: "
        f"one by one {sequential * 1000:.0f} ms, concurrent {concurrent * 1000:.0f} ms"
    )
    rate = asyncio.run(stream_figure(args.megabytes))
    print(f"stream_file of a {args.megabytes} MB stdout.txt: {rate:.1f} MB/s (bytes identical)")


if __name__ == "__main__":
    main()
