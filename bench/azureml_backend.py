#!/usr/bin/env python
"""The azureml backend's two hot paths, through its REST pipelines against the local emulator's Azure ML API.

    .venv/bin/python bench/azureml_backend.py [--items 10] [--latency 0.2] [--megabytes 8]

1. Refreshing the console's view: `--items` clusters and `--items` jobs, each ARM GET answered after
   `--latency` seconds, fetched one after another and with `tui.backends.refresh.refresh` (asyncio.gather).
   The jobs wait on a 0-node cluster, so each job's GET also reads its cluster (why it waits): two latencies.
2. Streaming a finished 2-rank job's logs by byte range from run history's SAS URLs (`--megabytes` MB per
   rank): one rank's file as it is, and `stdout.txt`, every rank merged as `[1,N]<stdout>:` lines; bytes are
   checked against the source.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

RG, WS, EXP, CLUSTER, ACCOUNT, SHARE = ("bench.rg", "benchws", "cifar", "cluster", "benchstore", "myshare")


def _spec() -> Any:
    from tui.core.jobspec import parse_job_spec

    data = json.loads((REPO / "tests" / "data" / "jobs" / "tutorial-job.json").read_text())
    data["properties"]["nodeCount"] = 2
    return parse_job_spec(data)


async def _setup(backend: Any, tmp: Path, nodes: int) -> None:
    from tui.core.model import ClusterRef

    await backend.groups.create(RG, "eastus")
    await backend.storage.create_account(RG, ACCOUNT, "eastus")
    await backend.storage.create_share(ACCOUNT, SHARE)
    await backend.storage.create_directory(ACCOUNT, SHARE, "cifar")
    script = tmp / "cifar_cnn_distributed.py"
    script.write_text("print('train')\n")
    await backend.storage.upload_file(ACCOUNT, SHARE, "cifar", script)
    await backend.workspaces.create(RG, WS, storage_account=ACCOUNT)
    await backend.clusters.create(ClusterRef(RG, WS, CLUSTER), "Standard_NC4as_T4_v3", nodes)


def _env(emulator: Any, tmp: str) -> dict[str, str]:
    return {**emulator.ml_env(), "BAI_HOME": tmp, "AZURE_BATCHAI_STORAGE_ACCOUNT": ACCOUNT}


async def refresh_figures(items: int, latency: float) -> tuple[float, float]:
    from azure_emulator import AzureEmulator, Timings

    from tui.backends.azureml import open_azureml_backend
    from tui.backends.refresh import refresh
    from tui.core.model import ClusterRef, JobRef

    with AzureEmulator(Timings()) as emulator, tempfile.TemporaryDirectory() as tmp:
        backend = open_azureml_backend(_env(emulator, tmp))
        try:
            await _setup(backend, Path(tmp), nodes=0)
            clusters = [ClusterRef(RG, WS, f"c{index}") for index in range(items)]
            jobs = [JobRef(RG, WS, EXP, f"j{index}") for index in range(items)]
            for ref in clusters:
                await backend.clusters.create(ref, "Standard_NC4as_T4_v3", 0)
            for ref in jobs:  # queued for ever on a 0-node cluster: their state keeps being asked for
                await backend.jobs.create(ref, CLUSTER, _spec())
            emulator.add_fault(r"/(computes|jobs)/[a-z]*\d*$", method="GET", delay=latency, times=10**9)
            started = time.perf_counter()
            for cluster in clusters:
                await backend.clusters.get(cluster)
            for job in jobs:
                await backend.jobs.get(job)
            sequential = time.perf_counter() - started
            started = time.perf_counter()
            snapshot = await refresh(backend, clusters, jobs, timeout=30)
            concurrent = time.perf_counter() - started
            assert not snapshot.errors and len(snapshot.clusters) == len(snapshot.jobs) == items
            return sequential, concurrent
        finally:
            await backend.close()


def _rank_log(megabytes: int, rank: int) -> bytes:
    """A rank's output: Keras-like progress lines with `\\r` rewrites, `megabytes` MB of them."""
    rng = random.Random(rank)
    lines = []
    size = 0
    step = 0
    while size < megabytes * 1024 * 1024:
        step += 1
        line = f"{step}/200 [==>...] - ETA: {rng.randint(1, 99)}s - loss: {rng.random():.4f}\r" * 3 + "\n"
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()


async def stream_figures(megabytes: int) -> tuple[float, float]:
    from azure_emulator import AzureEmulator, Timings
    from azure_emulator.ml import split_ranks

    from tui.backends.azureml import open_azureml_backend
    from tui.core.model import JobRef

    ranks = {rank: _rank_log(megabytes, rank) for rank in (0, 1)}
    log = b"".join(
        f"[{rank}]<stdout>:".encode() + line
        for rank, data in ranks.items()
        for line in data.splitlines(keepends=True)
    )
    assert split_ranks(log) == ranks
    with (
        AzureEmulator(Timings(replay=0.0, replay_pieces=1)) as emulator,
        tempfile.TemporaryDirectory() as tmp,
    ):
        emulator.ml.log = log
        backend = open_azureml_backend(_env(emulator, tmp))
        try:
            await _setup(backend, Path(tmp), nodes=2)
            ref = JobRef(RG, WS, EXP, "bench")
            await backend.jobs.create(ref, CLUSTER, _spec())
            await backend.jobs.wait(ref, poll_interval=0.05, timeout=60)
            received = bytearray()
            started = time.perf_counter()
            async for chunk in backend.jobs.stream_file(ref, "user_logs/std_log_process_0.txt", follow=False):
                received += chunk
            one = len(received) / (time.perf_counter() - started) / 1e6
            assert bytes(received) == ranks[0]
            merged = bytearray()
            started = time.perf_counter()
            async for chunk in backend.jobs.stream_file(ref, "stdout.txt", follow=False):
                merged += chunk
            elapsed = time.perf_counter() - started
            for rank, data in ranks.items():
                prefix = f"[1,{rank}]<stdout>:".encode()
                lines = [
                    line[len(prefix) :] for line in bytes(merged).split(b"\n") if line.startswith(prefix)
                ]
                assert b"\n".join(lines) + b"\n" == data
            return one, sum(map(len, ranks.values())) / elapsed / 1e6
        finally:
            await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10, help="clusters and jobs each (default 10)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per GET (default 0.2)")
    parser.add_argument("--megabytes", type=int, default=8, help="MB of log per rank (default 8)")
    args = parser.parse_args()
    sequential, concurrent = asyncio.run(refresh_figures(args.items, args.latency))
    print(
        f"refresh {args.items} clusters + {args.items} jobs at {args.latency * 1000:.0f} ms per GET: "
        f"one by one {sequential * 1000:.0f} ms, concurrent {concurrent * 1000:.0f} ms"
    )
    one, merged = asyncio.run(stream_figures(args.megabytes))
    print(
        f"stream_file of one rank's {args.megabytes} MB log: {one:.1f} MB/s; stdout.txt merging 2 ranks "
        f"({2 * args.megabytes} MB): {merged:.1f} MB/s of rank bytes (bytes identical)"
    )


if __name__ == "__main__":
    main()
