#!/usr/bin/env python
"""Training throughput of the trainer: plain tf.keras against Horovod at np=1, and np=2 against np=1.

    .venv/bin/python bench/trainer_throughput.py [--images 1600] [--epochs 6] [--repeats 3]

The same model, optimizer, batch (32), augmentation pipeline and test-made CIFAR-10 data in every
configuration, each a fresh process:

- plain:  tf.keras alone, built from the trainer's own functions without Horovod (no DistributedOptimizer,
          no broadcast callback, no checkpoints), `python` directly;
- np=1:   trainer/cifar_cnn_distributed.py under `horovodrun -np 1 --gloo` (target: at most 5% slower);
- np=2:   the same under `horovodrun -np 2 --gloo`, every rank on all the data as in the tutorial
          (aggregate images/s = both ranks' images over the epoch time).

Images per second count the training steps only (from an epoch's start to its last batch), epochs 2..N
(epoch 1 traces the graph); validation and checkpoint saving are outside that window, and are
reported separately as whole-epoch throughput. Configurations run interleaved `--repeats` times and the
median is printed, so a neighbour's load spike hits them alike. A timing callback is added to the
trainer's `fit` from outside (the trainer itself is unchanged).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "trainer" / "cifar_cnn_distributed.py"
BATCH = 32
MODES = ("plain", "np1", "np2")


def _trainer_module() -> Any:
    sys.path.insert(0, str(SCRIPT.parent))
    import cifar_cnn_distributed as trainer

    return trainer


class _EpochTimer:
    """Keras callback (created lazily, TensorFlow is imported in the child only) timing each epoch."""

    @staticmethod
    def make(tf: Any, records: list[dict[str, float]]) -> Any:
        class EpochTimer(tf.keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self.begin, self.begin_cpu = time.perf_counter(), time.process_time()
                self.last_batch, self.last_batch_cpu = self.begin, self.begin_cpu

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                self.last_batch, self.last_batch_cpu = time.perf_counter(), time.process_time()

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                now = time.perf_counter()
                records.append(
                    {
                        "epoch": epoch + 1,
                        "train_s": self.last_batch - self.begin,
                        "train_cpu_s": self.last_batch_cpu - self.begin_cpu,
                        "epoch_s": now - self.begin,
                    }
                )

        return EpochTimer()


def child(mode: str, data_dir: str, images: int, epochs: int, result_dir: str) -> None:
    """One measured run; writes rank-R.json with per-epoch timings to result_dir."""
    import tensorflow as tf

    trainer = _trainer_module()
    records: list[dict[str, float]] = []
    timer = _EpochTimer.make(tf, records)
    rank, workers = 0, 1
    if mode == "plain":
        data = trainer.limit(trainer.load_cifar_dir(data_dir), images, 64)
        model = trainer.build_model(tf)
        trainer.compile_model(tf, model, trainer.make_optimizer(tf, 1))
        model.fit(
            trainer.train_dataset(tf, data, BATCH, None),
            epochs=epochs,
            validation_data=trainer.test_dataset(tf, data, BATCH),
            callbacks=[timer],
            verbose=2,
        )
    else:
        import horovod.tensorflow.keras as hvd

        original_fit = tf.keras.Model.fit

        def timed_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), timer]
            return original_fit(self, *args, **kwargs)

        tf.keras.Model.fit = timed_fit
        with tempfile.TemporaryDirectory() as out:
            code = trainer.main(
                [
                    "--dir",
                    out,
                    "--data-dir",
                    data_dir,
                    "--epochs",
                    str(epochs),
                    "--verbose",
                    "2",
                    "--max-train-images",
                    str(images),
                    "--max-test-images",
                    "64",
                ]
            )
        if code:
            raise SystemExit(code)
        rank, workers = hvd.rank(), hvd.size()
    result = {"mode": mode, "rank": rank, "workers": workers, "images": images, "epochs": records}
    (Path(result_dir) / f"rank-{rank}.json").write_text(json.dumps(result))


def measure(mode: str, data_dir: Path, images: int, epochs: int) -> dict[str, float]:
    """Run one configuration in fresh processes; aggregate images/s over ranks, median over epochs 2..N."""
    with tempfile.TemporaryDirectory() as result_dir:
        inner = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            mode,
            "--data-dir",
            str(data_dir),
            "--images",
            str(images),
            "--epochs",
            str(epochs),
            "--result-dir",
            result_dir,
        ]
        if mode == "plain":
            argv = inner
        else:
            workers = {"np1": 1, "np2": 2}[mode]
            argv = [str(Path(sys.executable).parent / "horovodrun"), "-np", str(workers), "--gloo", *inner]
        env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"}
        completed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
        if completed.returncode:
            output = f"{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
            sys.exit(f"{mode} failed ({completed.returncode}):\n{output}")
        ranks = [json.loads(path.read_text()) for path in sorted(Path(result_dir).glob("rank-*.json"))]
    measured = range(1, epochs)  # skip epoch 1: graph tracing
    train_s = [max(rank["epochs"][i]["train_s"] for rank in ranks) for i in measured]
    epoch_s = [max(rank["epochs"][i]["epoch_s"] for rank in ranks) for i in measured]
    cpu_s = [sum(rank["epochs"][i]["train_cpu_s"] for rank in ranks) for i in measured]
    total_images = images * len(ranks)
    return {
        "train_ips": total_images / statistics.median(train_s),
        "epoch_ips": total_images / statistics.median(epoch_s),
        "cpu_ms": 1000 * statistics.median(cpu_s) / total_images,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1600, help="training images per worker and epoch")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per run (the first is not counted)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of each configuration")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of plain,np1,np2")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is not counted)")
    if args.child:
        child(args.child, args.data_dir, args.images, args.epochs, args.result_dir)
        return

    sys.path.insert(0, str(REPO / "tests"))
    from cifar_data import write_cifar_dataset

    modes = tuple(mode for mode in MODES if mode in args.modes.split(","))
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as tmp:
        per_batch = -(-args.images // 5)
        data_dir = write_cifar_dataset(Path(tmp) / "data", train_per_batch=per_batch, test_images=64)
        print(
            f"{args.images} images per worker and epoch, batch {BATCH}, {args.epochs} epochs (first not "
            f"counted), {args.repeats} repeats; load average {os.getloadavg()[0]:.1f} at start",
            flush=True,
        )
        for repeat in range(args.repeats):
            for mode in modes:
                result = measure(mode, data_dir, args.images, args.epochs)
                runs[mode].append(result)
                print(
                    f"  repeat {repeat + 1} {mode:5s}: {result['train_ips']:7.1f} images/s in training "
                    f"steps, {result['epoch_ips']:7.1f} images/s whole epochs, "
                    f"{result['cpu_ms']:.2f} CPU ms/image",
                    flush=True,
                )

    median = {
        mode: {key: statistics.median(run[key] for run in runs[mode]) for key in runs[mode][0]}
        for mode in modes
    }
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    header = f"{'configuration':34s} {'train images/s':>15s} {'whole-epoch images/s':>21s}"
    print(f"{header} {'CPU ms/image':>13s}")
    names = {
        "plain": "plain tf.keras (no Horovod)",
        "np1": "trainer, horovodrun -np 1",
        "np2": "trainer, horovodrun -np 2 (sum)",
    }
    for mode in modes:
        print(
            f"{names[mode]:34s} {median[mode]['train_ips']:15.1f} {median[mode]['epoch_ips']:21.1f} "
            f"{median[mode]['cpu_ms']:13.2f}"
        )
    if "plain" in median and "np1" in median:
        ratio = median["np1"]["train_ips"] / median["plain"]["train_ips"]
        verdict = "within" if ratio >= 0.95 else "OVER"
        print(
            f"\nHorovod np=1 / plain tf.keras: {ratio:.3f} "
            f"(cost {100 * (1 - ratio):+.1f}%; target at most 5%: {verdict})"
        )
        cpu_ratio = median["np1"]["cpu_ms"] / median["plain"]["cpu_ms"]
        print(
            f"Horovod np=1 / plain tf.keras, CPU time per image: {cpu_ratio:.3f} "
            f"(less sensitive to neighbours' load than wall time)"
        )
    if "np1" in median and "np2" in median:
        speedup = median["np2"]["train_ips"] / median["np1"]["train_ips"]
        print(f"np=2 / np=1 (aggregate images/s): {speedup:.2f}")


if __name__ == "__main__":
    main()
