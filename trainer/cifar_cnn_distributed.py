#!/usr/bin/env python
"""Train the classic Keras CIFAR-10 CNN with Horovod: the 2018 Batch AI tutorial's script for TF 2.15.

Run it the way the tutorial does, by path from a file share (so this file imports nothing from the
``trainer`` package), or as ``python -m trainer.cifar_cnn_distributed``:

    horovodrun -np 2 python cifar_cnn_distributed.py --dir OUT [--data-dir DATA] [--epochs N] ...

What is kept from the tutorial: the model, RMSprop (learning rate 1e-4 times the number of workers, decay
1e-6) wrapped in ``hvd.DistributedOptimizer``, batch 32, ceil(100 / workers) epochs, 10% shift and
horizontal-flip augmentation, initial variables broadcast from rank 0, rank-0-only checkpoints
``DIR/checkpoint-{epoch}.h5``, every rank printing its Keras progress, the final model in
``DIR/saved_models/keras_cifar10_trained_model.h5`` and the ``Test loss:`` / ``Test accuracy:`` lines.

What is new: augmentation runs in tf.data with Keras preprocessing layers (ImageDataGenerator is
deprecated and needs scipy), ``--data-dir`` reads the CIFAR-10 python files from disk (no machine here
reaches the internet), ``--shard`` gives each rank its own part of the data, and ``--resume`` continues
from the newest checkpoint after a pre-empted low-priority node.

Argument names: horovodrun's own parser accepts abbreviations and classifies *every* word of its
command line, the script's included, before handing the rest to the script; a script option that is a
prefix of two or more horovodrun options (``--n``, ``--no``, ``--s``, ``--h``...) makes horovodrun fail
with "ambiguous option". None of the options below is such a prefix (``--verbose`` matches horovodrun's
own ``--verbose`` exactly, which argparse then leaves to the script), and this parser refuses
abbreviations so no user-chosen prefix of ours can collide either.

TensorFlow and Horovod are imported inside the functions that need them: ``--help`` and argument or
data errors answer at once, and the data reader can be tested without TensorFlow.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import pickle
import re
import socket
import sys
import tarfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

PROGRAM = "cifar_cnn_distributed.py"
NUM_CLASSES = 10
BATCH_SIZE = 32
BASE_LEARNING_RATE = 1e-4
LEARNING_RATE_DECAY = 1e-6
EPOCH_BUDGET = 100  # the tutorial trains ceil(100 / workers) epochs
MODEL_NAME = "keras_cifar10_trained_model.h5"
CHECKPOINT_FORMAT = "checkpoint-{epoch}.h5"
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)\.h5$")
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
TRAIN_BATCH_RE = re.compile(r"^data_batch_(\d+)$")
TEST_BATCH = "test_batch"
DOWNLOAD_TIMEOUT_S = 60.0
EXPECTED_DATA = f"data_batch_1..5 and {TEST_BATCH} directly, a {CIFAR_FOLDER}/ folder or {CIFAR_ARCHIVE}"


class DataError(Exception):
    """The training data could not be read; the message says what was wrong and what to do."""


class JobFailure(Exception):
    """Every rank stops with exit code 2; the message (rank 0's, empty elsewhere) is printed once."""


@dataclass(frozen=True)
class CifarData:
    """Images as uint8 (N, 32, 32, 3) and labels as int (N,), the way keras' load_data returns them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


# --------------------------------------------------------------------------------------- arguments


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (0 epochs or a batch of 0 is always a mistake)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The script's parser; allow_abbrev=False so only full names work (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        allow_abbrev=False,
        description="Train the Keras CIFAR-10 CNN with Horovod (one process per worker).",
    )
    parser.add_argument(
        "--dir",
        default=".",
        metavar="DIR",
        help="output folder: checkpoint-{epoch}.h5 and saved_models/" + MODEL_NAME + " (default: .)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help=f"CIFAR-10 python-format data: {EXPECTED_DATA}; without it keras downloads CIFAR-10",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"total epochs (default: ceil({EPOCH_BUDGET} / workers), as the tutorial)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=BATCH_SIZE,
        metavar="N",
        help=f"images per batch and worker (default: {BATCH_SIZE})",
    )
    parser.add_argument(
        "--shard",
        action="store_true",
        help="each rank trains on its own 1/N of the training data (default: every rank sees all of it)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest DIR/checkpoint-{epoch}.h5 (rank 0 reads it and broadcasts)",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="Keras verbosity: 1 progress bar (default), 2 one line per epoch, 0 silent",
    )
    parser.add_argument(
        "--max-train-images",
        type=positive_int,
        default=None,
        metavar="N",
        help="use only the first N training images (quick runs, benchmarks)",
    )
    parser.add_argument(
        "--max-test-images",
        type=positive_int,
        default=None,
        metavar="N",
        help="use only the first N test images",
    )
    return parser


def fail(message: str) -> int:
    """Print one error line the way argparse does and give the usage-error exit code."""
    print(f"{PROGRAM}: error: {message}", file=sys.stderr, flush=True)
    return 2


# -------------------------------------------------------------------------------------------- data


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR-10 batch holds (numpy arrays, bytes), never arbitrary callables.

    The files come from a shared folder; a plain pickle.load would run any code a tampered file asks for.
    """

    _ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name}")
        return super().find_class(module, name)


def read_batch(stream: BinaryIO, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch as (uint8 images N x 32 x 32 x 3, int64 labels N)."""
    try:
        batch = _CifarUnpickler(stream, encoding="bytes").load()
        data = np.asarray(batch[b"data"])
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise DataError(f"{name} is not a CIFAR-10 python batch ({error})") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{name}: expected uint8 rows of 3072 values, got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise DataError(f"{name}: {data.shape[0]} images but {labels.size} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(f"{name}: labels must be 0..{NUM_CLASSES - 1}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _assemble(names: Iterable[str], opener: Callable[[str], BinaryIO], where: str) -> CifarData:
    """Read data_batch_N (every N present, in order) and test_batch through ``opener``."""
    names = set(names)
    train_names = sorted(
        (name for name in names if TRAIN_BATCH_RE.match(name)),
        key=lambda name: int(TRAIN_BATCH_RE.match(name).group(1)),  # type: ignore[union-attr]
    )
    missing = ([] if train_names else ["data_batch_1..5"]) + ([] if TEST_BATCH in names else [TEST_BATCH])
    if missing:
        raise DataError(f"{where} has no {' or '.join(missing)}")
    train = []
    for name in train_names:
        with opener(name) as stream:
            train.append(read_batch(stream, f"{where}/{name}"))
    with opener(TEST_BATCH) as stream:
        x_test, y_test = read_batch(stream, f"{where}/{TEST_BATCH}")
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    return CifarData(x_train, y_train, x_test, y_test)


def _read_archive(archive_path: Path) -> CifarData:
    """Read the batches straight out of the tar.gz: no extraction into a possibly read-only share."""
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            members = {
                Path(member.name).name: member
                for member in archive.getmembers()
                if member.isfile()
                and (TRAIN_BATCH_RE.match(Path(member.name).name) or Path(member.name).name == TEST_BATCH)
            }

            def opener(name: str) -> BinaryIO:
                return io.BytesIO(archive.extractfile(members[name]).read())  # type: ignore[union-attr]

            return _assemble(members, opener, str(archive_path))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataError(f"{archive_path} is not a readable tar.gz ({error})") from None


def _read_folder(folder: Path) -> CifarData:
    names = [entry.name for entry in folder.iterdir() if entry.is_file()]
    return _assemble(names, lambda name: (folder / name).open("rb"), str(folder))


def load_cifar_dir(data_dir: str | os.PathLike[str]) -> CifarData:
    """Read CIFAR-10 from ``--data-dir``: flat batch files, a cifar-10-batches-py/ folder, or the tar.gz.

    Any number of images per batch and any data_batch_N files are accepted, so tests and quick runs can
    use a small set in the real format. Raises DataError naming --data-dir on anything unreadable.
    """
    root = Path(data_dir)
    try:
        if root.is_file():
            if root.name.endswith((".tar.gz", ".tgz")):
                return _read_archive(root)
            raise DataError(f"{root} is a file, not a folder or a .tar.gz")
        if not root.is_dir():
            raise DataError(f"{root} does not exist")
        names = {entry.name for entry in root.iterdir()}
        if TEST_BATCH in names or any(TRAIN_BATCH_RE.match(name) for name in names):
            return _read_folder(root)
        if (root / CIFAR_FOLDER).is_dir():
            return _read_folder(root / CIFAR_FOLDER)
        if (root / CIFAR_ARCHIVE).is_file():
            return _read_archive(root / CIFAR_ARCHIVE)
        raise DataError(f"{root} holds no CIFAR-10 data (expected {EXPECTED_DATA})")
    except OSError as error:
        raise DataError(f"{root} cannot be read ({error.strerror or error})") from None


def download_cifar() -> CifarData:
    """keras.datasets.cifar10.load_data(), the tutorial's source, turned into a DataError when offline.

    A socket timeout keeps a firewalled (silently dropping) network from hanging the job for minutes.
    """
    import tensorflow as tf

    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        (x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()
    except Exception as error:  # keras raises bare Exception for URL failures
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DataError(
            f"could not download CIFAR-10 ({reason}); on a machine without internet access pass "
            f"--data-dir DIR with {EXPECTED_DATA}"
        ) from None
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return CifarData(x_train, y_train.reshape(-1), x_test, y_test.reshape(-1))


def limit(data: CifarData, max_train: int | None, max_test: int | None) -> CifarData:
    """The first N images of each part (the files are already shuffled, as CIFAR-10's are)."""
    return CifarData(
        data.x_train[:max_train], data.y_train[:max_train], data.x_test[:max_test], data.y_test[:max_test]
    )


# ------------------------------------------------------------------------------------- the training


def pin_gpu(tf: Any, local_rank: int) -> None:
    """One GPU per process, chosen by local rank, with memory growth (the tutorial's allow_growth)."""
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    if gpus:
        tf.config.set_visible_devices(gpus[local_rank % len(gpus)], "GPU")


def build_model(tf: Any) -> Any:
    """The tutorial's CNN, layer for layer (the Keras cifar10_cnn example)."""
    layers = tf.keras.layers
    return tf.keras.Sequential(
        [
            layers.Conv2D(32, (3, 3), padding="same", input_shape=(32, 32, 3)),
            layers.Activation("relu"),
            layers.Conv2D(32, (3, 3)),
            layers.Activation("relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.25),
            layers.Conv2D(64, (3, 3), padding="same"),
            layers.Activation("relu"),
            layers.Conv2D(64, (3, 3)),
            layers.Activation("relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(512),
            layers.Activation("relu"),
            layers.Dropout(0.5),
            layers.Dense(NUM_CLASSES),
            layers.Activation("softmax"),
        ]
    )


def make_optimizer(tf: Any, workers: int) -> Any:
    """RMSprop, lr 1e-4 times the workers, decay 1e-6 (the legacy class: TF 2.15's new one has no decay)."""
    return tf.keras.optimizers.legacy.RMSprop(
        learning_rate=BASE_LEARNING_RATE * workers, decay=LEARNING_RATE_DECAY
    )


def compile_model(tf: Any, model: Any, optimizer: Any) -> None:
    model.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])


def make_augmenter(tf: Any) -> Any:
    """10% width/height shifts (edges filled from the nearest pixel, as ImageDataGenerator did), h-flips."""
    layers = tf.keras.layers
    return tf.keras.Sequential(
        [layers.RandomTranslation(0.1, 0.1, fill_mode="nearest"), layers.RandomFlip("horizontal")]
    )


def _to_model_input(tf: Any) -> Callable[[Any, Any], tuple[Any, Any]]:
    def convert(images: Any, labels: Any) -> tuple[Any, Any]:
        return tf.cast(images, tf.float32) / 255.0, tf.one_hot(labels, NUM_CLASSES)

    return convert


def train_dataset(tf: Any, data: CifarData, batch_size: int, shard: tuple[int, int] | None) -> Any:
    """Shuffled, augmented batches; with ``shard=(count, index)`` only this rank's equal part.

    Images stay uint8 until a batch is formed (a quarter of the memory of the tutorial's float copy).
    Shards are cut to equal sizes so every rank runs the same number of steps: Horovod's allreduce
    would wait forever for a rank that has one batch fewer.
    """
    images, labels = data.x_train, data.y_train
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shard is not None:
        count, index = shard
        dataset = dataset.take(len(images) - len(images) % count).shard(count, index)
        size = len(images) // count
    else:
        size = len(images)
    augment = make_augmenter(tf)
    return (
        dataset.shuffle(max(size, 1), reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(_to_model_input(tf), num_parallel_calls=tf.data.AUTOTUNE)
        .map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def test_dataset(tf: Any, data: CifarData, batch_size: int) -> Any:
    dataset = tf.data.Dataset.from_tensor_slices((data.x_test, data.y_test)).batch(batch_size)
    return dataset.map(_to_model_input(tf), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def find_resume_point(out_dir: Path) -> tuple[int, str, bytes] | None:
    """(epoch, path, file bytes) of the newest checkpoint that opens as a Keras HDF5 model.

    A node pre-empted while saving leaves a truncated newest file; it is skipped (with a note) for the
    one before it. The bytes travel to the other ranks by broadcast, so only rank 0 needs to see DIR.
    """
    import h5py

    candidates = sorted(
        (
            (int(match.group(1)), entry)
            for entry in (out_dir.iterdir() if out_dir.is_dir() else ())
            if (match := CHECKPOINT_RE.match(entry.name)) and entry.is_file()
        ),
        reverse=True,
    )
    for epoch, path in candidates:
        try:
            content = path.read_bytes()
            with h5py.File(io.BytesIO(content), "r") as checkpoint:
                if "model_config" not in checkpoint.attrs or "model_weights" not in checkpoint:
                    raise ValueError("no Keras model in it")
        except (OSError, ValueError) as error:
            print(f"Skipping unreadable checkpoint {path} ({error})", flush=True)
            continue
        return epoch, str(path), content
    return None


def load_checkpoint(hvd: Any, content: bytes) -> Any:
    """The model with its DistributedOptimizer state (iterations drive the decay, RMS accumulators).

    Every rank loads the same bytes the same way: Horovod names its broadcasts after variable names, and
    a freshly built optimizer names its slots differently from a loaded one ("DistributedRMSprop/iter"
    against "iter"), which would leave the ranks waiting for each other forever.
    """
    import h5py

    with h5py.File(io.BytesIO(content), "r") as checkpoint:
        return hvd.load_model(checkpoint, legacy_opts=True)


def load_data(args: argparse.Namespace, hvd_core: Any) -> CifarData:
    """Every rank reads the data; if any rank cannot, all raise JobFailure (rank 0 with every message).

    Without --data-dir only local rank 0 of each node downloads, the others then read keras' cache:
    several processes writing the same 170 MB file at once would corrupt it.
    """
    error: str | None = None
    data: CifarData | None = None
    if args.data_dir is not None:
        try:
            data = load_cifar_dir(args.data_dir)
        except DataError as problem:
            error = f"--data-dir {problem}"
    else:
        if hvd_core.local_rank() == 0:
            try:
                data = download_cifar()
            except DataError as problem:
                error = str(problem)
        downloaded = not any(hvd_core.allgather_object(error, name="cifar_download"))
        if downloaded and data is None:
            try:
                data = download_cifar()
            except DataError as problem:
                error = str(problem)
    errors = hvd_core.allgather_object(error, name="cifar_load")
    if any(errors):
        # Say it once: rank 0 prints every distinct problem, the others exit quietly.
        if hvd_core.rank() == 0:
            raise JobFailure("\n".join(dict.fromkeys(message for message in errors if message)))
        raise JobFailure("")
    assert data is not None
    if not len(data.x_train) or not len(data.x_test):
        raise JobFailure("--data-dir: the training and test batches must hold at least one image each")
    return limit(data, args.max_train_images, args.max_test_images)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    # The tutorial's file name is .h5 (the legacy format Keras 2 warns about on every save).
    warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")

    import horovod.tensorflow as hvd_core
    import horovod.tensorflow.keras as hvd
    import tensorflow as tf

    hvd.init()
    pin_gpu(tf, hvd.local_rank())
    try:
        train(args, tf, hvd, hvd_core)
    except JobFailure as failure:
        if hvd.rank() == 0 and str(failure):
            fail(str(failure))
        # Wait until rank 0 has said it: horovodrun kills the other workers as soon as one exits.
        hvd_core.allgather_object(None, name="failure_reported")
        return 2
    return 0


def train(args: argparse.Namespace, tf: Any, hvd: Any, hvd_core: Any) -> None:
    """The tutorial's run: data, model (new or resumed), fit with augmentation, save, evaluate."""
    rank, workers = hvd.rank(), hvd.size()
    data = load_data(args, hvd_core)
    if args.shard and len(data.x_train) < workers:
        raise JobFailure(
            f"--shard needs at least one training image per worker ({workers}), got {len(data.x_train)}"
        )

    out_dir = Path(args.dir)
    epochs = args.epochs if args.epochs is not None else math.ceil(EPOCH_BUDGET / workers)
    print("x_train shape:", data.x_train.shape, flush=True)
    print(data.x_train.shape[0], "train samples", flush=True)
    print(data.x_test.shape[0], "test samples", flush=True)
    if args.shard:
        part = len(data.x_train) // workers
        print(f"Rank {rank} trains on shard {rank + 1} of {workers}: {part} images per epoch", flush=True)

    # Rank 0 alone looks for checkpoints (only it writes them) and sends the newest to the others.
    found = find_resume_point(out_dir) if args.resume and rank == 0 else None
    resume = hvd_core.broadcast_object(found, root_rank=0, name="resume_from")
    if resume is not None:
        initial_epoch, checkpoint, content = resume
        if rank == 0:
            print(f"Resuming from {checkpoint} (epoch {initial_epoch} of {epochs} done)", flush=True)
        try:
            model = load_checkpoint(hvd, content)
        except (OSError, ValueError, KeyError) as error:
            raise JobFailure(f"--resume: {checkpoint} is not a readable Keras checkpoint ({error})") from None
        model.optimizer.learning_rate = BASE_LEARNING_RATE * workers
    else:
        if args.resume and rank == 0:
            print(f"No checkpoint-{{epoch}}.h5 in {out_dir}: starting from epoch 1", flush=True)
        initial_epoch = 0
        model = build_model(tf)
        compile_model(tf, model, hvd.DistributedOptimizer(make_optimizer(tf, workers)))
        # Start every rank from rank 0's initial weights; the callback below also syncs the optimizer
        # state once its slots exist (after the first batch), as in the tutorial.
        hvd_core.broadcast_variables(model.variables, root_rank=0)

    callbacks = [hvd.callbacks.BroadcastGlobalVariablesCallback(0)]
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        # verbose: "Epoch N: saving model to ..." shows in the log which rank writes (rank 0 alone).
        checkpoint_path = str(out_dir / CHECKPOINT_FORMAT)
        callbacks.append(tf.keras.callbacks.ModelCheckpoint(checkpoint_path, verbose=1))

    print("Using real-time data augmentation.", flush=True)
    shard = (workers, rank) if args.shard else None
    model.fit(
        train_dataset(tf, data, args.batch_size, shard),
        epochs=epochs,
        initial_epoch=initial_epoch,
        validation_data=test_dataset(tf, data, args.batch_size),
        callbacks=callbacks,
        verbose=args.verbose,
    )

    if rank == 0:
        save_dir = out_dir / "saved_models"
        save_dir.mkdir(parents=True, exist_ok=True)
        model_path = save_dir / MODEL_NAME
        model.save(str(model_path))
        print(f"Saved trained model at {model_path}", flush=True)

    loss, accuracy = model.evaluate(test_dataset(tf, data, args.batch_size), verbose=args.verbose)
    print("Test loss:", loss, flush=True)
    print("Test accuracy:", accuracy, flush=True)


if __name__ == "__main__":
    sys.exit(main())
