"""Write small CIFAR-10 data sets in the real python-pickle format, for tests and benchmarks.

No machine here reaches the internet and ``keras.datasets.cifar10.load_data()`` can only fetch the
real 170 MB archive, so every test that trains makes its own data with this module. The images carry
class-dependent patterns (a colour per class plus a stripe direction and frequency) that survive the
trainer's augmentation (10% shifts, horizontal flips), so the seed's CNN separates them within one to
three epochs of a few hundred images: a test can then assert "accuracy well above chance".

numpy only: importing TensorFlow here would slow down every test module that merely writes data.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path
from typing import Literal

import numpy as np

Layout = Literal["flat", "folder", "targz"]

LABEL_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
FOLDER_NAME = "cifar-10-batches-py"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
IMAGE_SIDE = 32

# One well-separated colour per class (RGB in 0..1); the pattern below adds a second, spatial cue.
_PALETTE = np.array(
    [
        [0.9, 0.1, 0.1],
        [0.1, 0.9, 0.1],
        [0.1, 0.1, 0.9],
        [0.9, 0.9, 0.1],
        [0.9, 0.1, 0.9],
        [0.1, 0.9, 0.9],
        [0.9, 0.5, 0.1],
        [0.5, 0.1, 0.9],
        [0.5, 0.5, 0.5],
        [0.95, 0.95, 0.95],
    ],
    dtype=np.float32,
)


def _class_pattern(label: int) -> np.ndarray:
    """A 32x32 stripe pattern in 0..1: even classes horizontal, odd vertical, period by class."""
    period = 4 + 2 * (label // 2)
    ramp = (np.arange(IMAGE_SIDE) % period) < period // 2
    stripes = np.tile(ramp.astype(np.float32), (IMAGE_SIDE, 1))  # varies along x: vertical stripes
    return stripes if label % 2 else stripes.T


def make_images(count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """``count`` images as CIFAR rows (N x 3072 uint8, R plane then G then B) and their labels.

    Labels cycle through all ten classes (shuffled) so even a tiny batch holds every class.
    """
    labels = np.resize(np.arange(10), count)
    rng.shuffle(labels)
    images = np.empty((count, 3, IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32)
    for index, label in enumerate(labels):
        colour = _PALETTE[label] * rng.uniform(0.75, 1.0)
        pattern = _class_pattern(int(label))
        image = 0.65 * colour[:, None, None] + 0.3 * pattern[None, :, :]
        image += rng.normal(0.0, 0.06, size=image.shape)
        images[index] = image
    rows = (np.clip(images, 0.0, 1.0) * 255).round().astype(np.uint8).reshape(count, 3 * IMAGE_SIDE**2)
    return rows, [int(label) for label in labels]


def _batch_bytes(name: str, rows: np.ndarray, labels: list[int]) -> bytes:
    """One batch file's bytes, with the keys the real files have (bytes keys, as Python 2 wrote them)."""
    batch = {
        b"batch_label": name.encode(),
        b"labels": labels,
        b"data": rows,
        b"filenames": [f"{name}_{i:05d}.png".encode() for i in range(len(labels))],
    }
    return pickle.dumps(batch, protocol=2)


def _meta_bytes(images_per_batch: int) -> bytes:
    meta = {
        b"label_names": [name.encode() for name in LABEL_NAMES],
        b"num_cases_per_batch": images_per_batch,
        b"num_vis": 3 * IMAGE_SIDE**2,
    }
    return pickle.dumps(meta, protocol=2)


def cifar_files(
    train_per_batch: int = 100, test_images: int = 200, batches: int = 5, seed: int = 0
) -> dict[str, bytes]:
    """The data set as ``{file name: bytes}``: data_batch_1..N, test_batch and batches.meta."""
    rng = np.random.default_rng(seed)
    files: dict[str, bytes] = {"batches.meta": _meta_bytes(train_per_batch)}
    for number in range(1, batches + 1):
        rows, labels = make_images(train_per_batch, rng)
        files[f"data_batch_{number}"] = _batch_bytes(f"training batch {number} of {batches}", rows, labels)
    rows, labels = make_images(test_images, rng)
    files["test_batch"] = _batch_bytes("testing batch 1 of 1", rows, labels)
    return files


def write_cifar_dataset(
    folder: Path,
    train_per_batch: int = 100,
    test_images: int = 200,
    batches: int = 5,
    seed: int = 0,
    layout: Layout = "flat",
) -> Path:
    """Write a learnable CIFAR-10 look-alike under ``folder`` and return the path to pass as ``--data-dir``.

    ``layout`` picks how the files sit, matching what the trainer's ``--data-dir`` accepts:
    ``flat`` (data_batch_1.. and test_batch directly in ``folder``), ``folder``
    (``folder/cifar-10-batches-py/...``) or ``targz`` (``folder/cifar-10-python.tar.gz`` holding
    ``cifar-10-batches-py/``, as the real download does). The returned path is ``folder`` itself.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = cifar_files(train_per_batch, test_images, batches, seed)
    if layout == "flat":
        for name, data in files.items():
            (folder / name).write_bytes(data)
    elif layout == "folder":
        target = folder / FOLDER_NAME
        target.mkdir(exist_ok=True)
        for name, data in files.items():
            (target / name).write_bytes(data)
    elif layout == "targz":
        with tarfile.open(folder / ARCHIVE_NAME, "w:gz") as archive:
            for name, data in files.items():
                info = tarfile.TarInfo(f"{FOLDER_NAME}/{name}")
                info.size = len(data)
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(data))
    else:
        raise ValueError(f"layout must be 'flat', 'folder' or 'targz', not {layout!r}")
    return folder
