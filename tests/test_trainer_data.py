"""The trainer's data reader, arguments and checkpoint choice, without TensorFlow (fast).

What a user would hit: every ``--data-dir`` layout reads the same images, bad data gives one
error naming what is wrong, tampered pickles run no code, and no script option is ever taken by
horovodrun's abbreviation-accepting parser.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from cifar_data import write_cifar_dataset

from trainer import cifar_cnn_distributed as trainer


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same data set (same seed) in each layout --data-dir accepts."""
    root = tmp_path_factory.mktemp("cifar-layouts")
    return {
        layout: write_cifar_dataset(root / layout, train_per_batch=30, test_images=20, layout=layout)
        for layout in ("flat", "folder", "targz")
    }


@pytest.mark.parametrize("layout", ["flat", "folder", "targz"])
def test_every_layout_reads_the_same_images(layouts: dict[str, Path], layout: str) -> None:
    data = trainer.load_cifar_dir(layouts[layout])
    reference = trainer.load_cifar_dir(layouts["flat"])

    assert data.x_train.shape == (150, 32, 32, 3) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (20, 32, 32, 3)
    assert set(data.y_train.tolist()) == set(range(10))
    np.testing.assert_array_equal(data.x_train, reference.x_train)
    np.testing.assert_array_equal(data.y_train, reference.y_train)
    np.testing.assert_array_equal(data.x_test, reference.x_test)


def test_the_archive_itself_can_be_the_data_dir(layouts: dict[str, Path]) -> None:
    data = trainer.load_cifar_dir(layouts["targz"] / "cifar-10-python.tar.gz")
    assert len(data.x_train) == 150


def test_any_number_of_batches_and_images_per_batch(tmp_path: Path) -> None:
    folder = write_cifar_dataset(tmp_path, train_per_batch=7, test_images=3, batches=2)
    data = trainer.load_cifar_dir(folder)
    assert data.x_train.shape[0] == 14 and data.x_test.shape[0] == 3


def test_batches_are_read_in_numeric_order(tmp_path: Path) -> None:
    write_cifar_dataset(tmp_path, train_per_batch=4, test_images=2, batches=11)
    first = trainer.read_batch((tmp_path / "data_batch_1").open("rb"), "data_batch_1")[0]
    tenth = trainer.read_batch((tmp_path / "data_batch_10").open("rb"), "data_batch_10")[0]
    data = trainer.load_cifar_dir(tmp_path)
    np.testing.assert_array_equal(data.x_train[:4], first)
    np.testing.assert_array_equal(data.x_train[36:40], tenth)  # after batches 1..9, not after 1


def test_rows_are_red_green_blue_planes_like_cifar(tmp_path: Path) -> None:
    rows = np.zeros((1, 3072), dtype=np.uint8)
    rows[0, 0] = 255  # red plane, pixel (0, 0)
    rows[0, 1024 + 33] = 128  # green plane, row 1, column 1
    rows[0, 2048 + 31] = 7  # blue plane, row 0, column 31
    for name in ("data_batch_1", "test_batch"):
        (tmp_path / name).write_bytes(pickle.dumps({b"data": rows, b"labels": [3]}, protocol=2))

    image = trainer.load_cifar_dir(tmp_path).x_train[0]

    assert image[0, 0].tolist() == [255, 0, 0]
    assert image[1, 1].tolist() == [0, 128, 0]
    assert image[0, 31].tolist() == [0, 0, 7]


def _error(data_dir: Path) -> str:
    with pytest.raises(trainer.DataError) as caught:
        trainer.load_cifar_dir(data_dir)
    return str(caught.value)


def test_missing_or_empty_data_dir_says_what_it_expected(tmp_path: Path) -> None:
    assert "does not exist" in _error(tmp_path / "nowhere")
    message = _error(tmp_path)
    assert "holds no CIFAR-10 data" in message
    assert "data_batch_1..5" in message and "cifar-10-batches-py/" in message
    assert "cifar-10-python.tar.gz" in message


def test_a_missing_test_batch_is_named(tmp_path: Path) -> None:
    write_cifar_dataset(tmp_path, train_per_batch=3, test_images=3, batches=1)
    (tmp_path / "test_batch").unlink()
    assert _error(tmp_path).endswith("has no test_batch")


def test_a_corrupt_batch_is_named(tmp_path: Path) -> None:
    write_cifar_dataset(tmp_path, train_per_batch=3, test_images=3, batches=2)
    (tmp_path / "data_batch_2").write_bytes(b"not a pickle")
    message = _error(tmp_path)
    assert "data_batch_2 is not a CIFAR-10 python batch" in message


def test_wrong_shapes_and_labels_are_refused(tmp_path: Path) -> None:
    (tmp_path / "test_batch").write_bytes(
        pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]})
    )
    (tmp_path / "data_batch_1").write_bytes(
        pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]})
    )
    assert "labels must be 0..9" in _error(tmp_path)


class _Payload:
    """A pickle that would create a file if unpickled with plain pickle.load."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.target), "w"))


def test_a_tampered_batch_runs_no_code(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    write_cifar_dataset(tmp_path, train_per_batch=3, test_images=3, batches=1)
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": _Payload(target), b"labels": []}))

    assert "unexpected object" in _error(tmp_path)
    assert not target.exists()


def test_the_parser_refuses_abbreviations_and_nonsense() -> None:
    parser = trainer.build_parser()
    args = parser.parse_args(["--dir=out", "--epochs", "3", "--shard", "--resume", "--verbose", "2"])
    assert (args.dir, args.epochs, args.shard, args.resume, args.verbose) == ("out", 3, True, True, 2)
    assert args.batch_size == 32 and args.data_dir is None
    for bad in (["--epo", "3"], ["--epochs", "0"], ["--verbose", "3"], ["--batch-size", "x"]):
        with pytest.raises(SystemExit) as caught:
            parser.parse_args(bad)
        assert caught.value.code == 2


def _script_options() -> list[str]:
    return sorted(
        option
        for action in trainer.build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    )


def test_horovodrun_leaves_every_script_option_to_the_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """horovodrun classifies every word, the script's too; an ambiguous prefix (--n) is fatal."""
    from horovod.runner import launch

    script = ["python", "cifar_cnn_distributed.py"]
    for option in _script_options():
        script += [option, "2"] if option not in ("--shard", "--resume") else [option]
        script += [f"{option}=2"] if option not in ("--shard", "--resume") else []
    monkeypatch.setattr(sys, "argv", ["horovodrun", "-np", "2", *script])
    assert launch.parse_args().command == script

    # The pitfall this guards against, so the check above is known to bite.
    monkeypatch.setattr(sys, "argv", ["horovodrun", "-np", "2", *script, "--n", "1000"])
    with pytest.raises(SystemExit):
        launch.parse_args()


def _write_checkpoint(path: Path) -> None:
    with h5py.File(path, "w") as checkpoint:
        checkpoint.attrs["model_config"] = "{}"
        checkpoint.create_group("model_weights")


def test_resume_takes_the_highest_epoch_and_skips_a_truncated_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for epoch in (2, 9, 10):
        _write_checkpoint(tmp_path / f"checkpoint-{epoch}.h5")
    (tmp_path / "checkpoint-11.h5").write_bytes((tmp_path / "checkpoint-10.h5").read_bytes()[:100])
    (tmp_path / "checkpoint-latest.h5").write_bytes(b"ignored: not an epoch number")

    epoch, path, content = trainer.find_resume_point(tmp_path) or (0, "", b"")

    assert epoch == 10 and path == str(tmp_path / "checkpoint-10.h5")
    assert content == (tmp_path / "checkpoint-10.h5").read_bytes()
    assert "Skipping unreadable checkpoint" in capsys.readouterr().out
    assert trainer.find_resume_point(tmp_path / "empty") is None
