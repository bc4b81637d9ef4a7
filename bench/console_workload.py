"""Shared by the console benchmarks: a temporary tutorial backend, and horovodrun-style worker output.

The output is what `horovodrun -np N` writes for our trainer with Keras 2 progress bars: each update is
`[RANK]<stdout>:` + the bar + a run of backspaces + `\\r`, as recorded in tests/data/logs/np2-verbose1.log;
each epoch ends with a newline-terminated bar carrying val_loss and val_accuracy.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import random
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

GROUP, WORKSPACE, EXPERIMENT, CLUSTER = "batchai.horovod", "batchaidev", "cifar", "nc6cluster"
KEEP_HOME = "BAI_BENCH_KEEP_HOME"  # set: make_home leaves its home for the process that asked for it


async def make_home() -> Path:
    """A temporary BAI_HOME (exported) holding the tutorial's group, workspace, experiment and cluster.

    Removed when the process ends with the copy a bench may make beside it ("<home>-before"): benches run
    again and again, and each home holds a database and logs. A process that only makes a home for another
    one sets BAI_BENCH_KEEP_HOME (that one removes it).
    """
    home = Path(tempfile.mkdtemp(prefix="bai-bench-"))
    if not os.environ.get(KEEP_HOME):
        atexit.register(_remove_home, home)
    os.environ["BAI_HOME"] = str(home)
    from tui.backends import open_backend
    from tui.core.model import ClusterRef, ExperimentRef

    backend = open_backend("local")
    await backend.groups.create(GROUP, "eastus")
    await backend.workspaces.create(GROUP, WORKSPACE)
    await backend.experiments.create(ExperimentRef(GROUP, WORKSPACE, EXPERIMENT))
    await backend.clusters.create(ClusterRef(GROUP, WORKSPACE, CLUSTER), "Standard_NC6", 4)
    await backend.close()
    return home


def _remove_home(home: Path) -> None:
    for folder in (home, home.with_name(home.name + "-before")):
        shutil.rmtree(folder, ignore_errors=True)


def progress_update(rank: int, step: int, steps: int, loss: float, accuracy: float) -> bytes:
    done = int(30 * step / steps)
    bar = "=" * max(0, done - 1) + (">" if done < 30 else "=") + "." * (30 - done)
    eta = max(0, steps - step) // 20
    text = f"{step:4d}/{steps} [{bar[:30]}] - ETA: {eta}s - loss: {loss:.4f} - accuracy: {accuracy:.4f}"
    return f"[{rank}]<stdout>:".encode() + text.encode() + b"\b" * len(text) + b"\r"


def epoch_end(rank: int, steps: int, loss: float, accuracy: float) -> bytes:
    text = (
        f"{steps}/{steps} [==============================] - 50s 32ms/step - loss: {loss:.4f} - accuracy: "
        f"{accuracy:.4f} - val_loss: {loss * 1.1:.4f} - val_accuracy: {accuracy * 0.95:.4f}\n"
    )
    return f"[{rank}]<stdout>:".encode() + text.encode()


async def workers(
    ranks: int, updates_per_second: float, seconds: float, steps: int = 1563, epochs: int = 25
) -> AsyncIterator[bytes]:
    """`ranks` workers, each writing `updates_per_second` progress updates a second, for `seconds`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tick = 1.0 / updates_per_second
    step, epoch = 0, 1
    rng = random.Random(0)
    yield b"".join(f"[{r}]<stdout>:Epoch 1/{epochs}\n".encode() for r in range(ranks))
    while loop.time() - start < seconds:
        step += 1
        chunk = bytearray()
        for rank in range(ranks):
            loss = 2.3 / (1 + 0.02 * (epoch * steps + step) / 100) + rng.random() * 0.01
            accuracy = min(0.99, 0.1 + 0.6 * (1 - loss / 2.3))
            chunk += progress_update(rank, min(step, steps), steps, loss, accuracy)
            if step >= steps:
                chunk += epoch_end(rank, steps, loss, accuracy)
                chunk += f"[{rank}]<stdout>:Epoch {epoch + 1}/{epochs}\n".encode()
        if step >= steps:
            step, epoch = 0, epoch + 1
        yield bytes(chunk)
        next_tick = start + (loop.time() - start) // tick * tick + tick
        await asyncio.sleep(max(0.0, next_tick - loop.time()))
