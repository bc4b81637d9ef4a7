"""The trainer run for real: ``horovodrun -np 2 --gloo`` on data the tests write, as a user would check it.

Each training run is made once per test session and shared by the tests that inspect it, also across
pytest-xdist workers (a file lock in the session's shared temporary folder): the whole module costs
about four short trainings on two cores. Every child runs in its own process group and is killed
with it on a timeout, so a hung collective fails the test instead of the suite.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from cifar_data import write_cifar_dataset

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "trainer" / "cifar_cnn_distributed.py"
BIN = Path(sys.executable).parent
HOROVODRUN = BIN / "horovodrun"
RUN_TIMEOUT_S = 300
TRAIN_PER_BATCH, TEST_IMAGES = 100, 200  # 500 training images: 16 steps of 32, 8 with --shard on 2
TUTORIAL_LAYERS = [
    "Conv2D",
    "Activation",
    "Conv2D",
    "Activation",
    "MaxPooling2D",
    "Dropout",
    "Conv2D",
    "Activation",
    "Conv2D",
    "Activation",
    "MaxPooling2D",
    "Dropout",
    "Flatten",
    "Dense",
    "Activation",
    "Dropout",
    "Dense",
    "Activation",
]

pytestmark = pytest.mark.slow


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    out_dir: str
    model: dict[str, object] | None = None

    def lines(self, stream: str = "stdout") -> list[str]:
        """Output lines, split on \\r and \\b too (Keras progress bars redraw in place)."""
        return [line for line in re.split(r"[\r\n\b]+", getattr(self, stream)) if line.strip()]

    def rank_lines(self, rank: int, text: str) -> list[str]:
        prefix = f"[{rank}]<stdout>:"
        return [line for line in self.lines() if line.startswith(prefix) and text in line]


def run_command(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run in a new process group; on timeout kill the whole group (horovodrun's workers included)."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{argv} did not finish in {RUN_TIMEOUT_S}s:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return process.returncode, stdout, stderr


def child_env(home: Path) -> dict[str, str]:
    """No network: a closed proxy port makes any download fail at once, whether or not there is internet."""
    env = {key: value for key, value in os.environ.items() if key.lower() != "no_proxy"}
    env.update(
        HOME=str(home),
        https_proxy="http://127.0.0.1:1",
        HTTPS_PROXY="http://127.0.0.1:1",
        http_proxy="http://127.0.0.1:1",
        HTTP_PROXY="http://127.0.0.1:1",
        PYTHONUNBUFFERED="1",
    )
    return env


def horovodrun(np: int, *args: str) -> list[str]:
    return [str(HOROVODRUN), "-np", str(np), "--gloo", sys.executable, str(SCRIPT), *args]


MODEL_REPORT = """
import json, sys
import tensorflow as tf
sys.path.insert(0, sys.argv[3])
import cifar_cnn_distributed as trainer
model = tf.keras.models.load_model(sys.argv[1])
data = trainer.load_cifar_dir(sys.argv[2])
x = data.x_test.astype("float32") / 255
accuracy = float((model.predict(x, verbose=0).argmax(axis=1) == data.y_test).mean())
config = model.optimizer.get_config()
print(json.dumps({
    "layers": [type(layer).__name__ for layer in model.layers],
    "filters": [layer.filters for layer in model.layers if hasattr(layer, "filters")],
    "units": [layer.units for layer in model.layers if hasattr(layer, "units")],
    "optimizer": type(model.optimizer).__name__,
    "learning_rate": float(config["learning_rate"]),
    "decay": float(config["decay"]),
    "iterations": int(model.optimizer.iterations.numpy()),
    "accuracy": accuracy,
}))
"""


def model_report(model_path: Path, data_dir: Path, home: Path) -> dict[str, object]:
    """Load the saved model in a fresh process with plain tf.keras (no Horovod), as a user would."""
    argv = [sys.executable, "-c", MODEL_REPORT, str(model_path), str(data_dir), str(SCRIPT.parent)]
    returncode, stdout, stderr = run_command(argv, child_env(home), home)
    assert returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session sees (the documented xdist pattern)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(shared_root: Path, name: str, produce: Callable[[Path], Run]) -> Run:
    """Make the run ``name`` once per session under a lock; later callers read its recorded result."""
    folder = shared_root / f"trainer-{name}"
    with (shared_root / f"trainer-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = folder / "run.json"
        if record.exists():
            return Run(**json.loads(record.read_text()))
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "home").mkdir(parents=True)
        run = produce(folder)
        record.write_text(json.dumps(asdict(run)))
        return run


@pytest.fixture(scope="session")
def data(shared_root: Path) -> dict[str, Path]:
    """One data set (one seed) in the three layouts --data-dir accepts."""
    paths = {}
    for layout in ("flat", "folder", "targz"):
        folder = shared_root / f"trainer-data-{layout}"
        with (shared_root / f"trainer-data-{layout}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / "done").exists():
                shutil.rmtree(folder, ignore_errors=True)
                write_cifar_dataset(folder, TRAIN_PER_BATCH, TEST_IMAGES, layout=layout)  # type: ignore[arg-type]
                (folder / "done").touch()
        paths[layout] = folder
    return paths


@pytest.fixture(scope="session")
def two_workers(shared_root: Path, data: dict[str, Path]) -> Run:
    """np=2, every rank sees all the data, the tutorial's progress bars (verbose 1), 2 epochs."""

    def produce(folder: Path) -> Run:
        out = folder / "out"
        argv = horovodrun(2, "--dir", str(out), "--data-dir", str(data["flat"]), "--epochs", "2")
        returncode, stdout, stderr = run_command(argv, child_env(folder / "home"), folder)
        run = Run(returncode, stdout, stderr, str(out))
        if returncode == 0:
            run.model = model_report(
                out / "saved_models" / "keras_cifar10_trained_model.h5", data["flat"], folder / "home"
            )
        return run

    return once(shared_root, "two-workers", produce)


@pytest.fixture(scope="session")
def resumed(shared_root: Path, data: dict[str, Path], two_workers: Run) -> Run:
    """The checkpoints of ``two_workers`` resumed to 3 epochs, sharded, from the tar.gz, verbose 2."""

    def produce(folder: Path) -> Run:
        out = folder / "out"
        out.mkdir()
        for checkpoint in Path(two_workers.out_dir).glob("checkpoint-*.h5"):
            shutil.copy2(checkpoint, out / checkpoint.name)
        argv = horovodrun(
            2,
            "--dir",
            str(out),
            "--data-dir",
            str(data["targz"]),
            "--epochs",
            "3",
            "--resume",
            "--shard",
            "--verbose",
            "2",
        )
        returncode, stdout, stderr = run_command(argv, child_env(folder / "home"), folder)
        run = Run(returncode, stdout, stderr, str(out))
        if returncode == 0:
            run.model = model_report(
                out / "saved_models" / "keras_cifar10_trained_model.h5", data["targz"], folder / "home"
            )
        return run

    return once(shared_root, "resumed", produce)


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    yield home


def test_two_workers_train_and_save_the_tutorials_model(two_workers: Run) -> None:
    assert two_workers.returncode == 0, two_workers.stderr[-3000:]
    model = two_workers.model
    assert model is not None
    assert model["layers"] == TUTORIAL_LAYERS
    assert model["filters"] == [32, 32, 64, 64] and model["units"] == [512, 10]
    assert model["optimizer"] == "RMSprop"
    assert model["learning_rate"] == pytest.approx(2e-4)  # 1e-4 scaled by 2 workers
    assert model["decay"] == pytest.approx(1e-6)
    assert model["iterations"] == 2 * 16


def test_the_model_classifies_well_above_chance(two_workers: Run) -> None:
    assert two_workers.model is not None
    assert two_workers.model["accuracy"] >= 0.5  # chance is 0.1
    accuracies = [float(line.split(":", 2)[2]) for line in two_workers.lines() if "Test accuracy:" in line]
    assert len(accuracies) == 2 and min(accuracies) >= 0.5


def test_every_rank_prints_progress_and_ends_with_the_same_weights(two_workers: Run) -> None:
    for rank in (0, 1):
        assert two_workers.rank_lines(rank, "Epoch 1/2") and two_workers.rank_lines(rank, "Epoch 2/2")
        assert two_workers.rank_lines(rank, "16/16 [==============================]")
        assert two_workers.rank_lines(rank, "Using real-time data augmentation.")
    losses = {rank: two_workers.rank_lines(rank, "Test loss:") for rank in (0, 1)}
    assert len(losses[0]) == len(losses[1]) == 1
    # Identical weights evaluate the same test set to the same loss, to the last printed digit.
    assert losses[0][0].split(":", 2)[2] == losses[1][0].split(":", 2)[2]


def test_rank_zero_alone_writes_checkpoints_and_the_model(two_workers: Run) -> None:
    out = Path(two_workers.out_dir)
    assert sorted(path.name for path in out.glob("checkpoint-*.h5")) == ["checkpoint-1.h5", "checkpoint-2.h5"]
    saving = [line for line in two_workers.lines() if "saving model to" in line]
    assert len(saving) == 2 and all(line.startswith("[0]<stdout>:") for line in saving)
    model_path = out / "saved_models" / "keras_cifar10_trained_model.h5"
    saved = [line for line in two_workers.lines() if "Saved trained model at" in line]
    assert saved == [f"[0]<stdout>:Saved trained model at {model_path}"]
    assert model_path.is_file()


def test_resume_continues_from_the_last_checkpoint(two_workers: Run, resumed: Run) -> None:
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    out = Path(resumed.out_dir)
    assert resumed.rank_lines(0, f"Resuming from {out / 'checkpoint-2.h5'} (epoch 2 of 3 done)")
    assert not resumed.rank_lines(1, "Resuming from")
    for rank in (0, 1):
        assert resumed.rank_lines(rank, "Epoch 3/3")
        assert not resumed.rank_lines(rank, "Epoch 1/3") and not resumed.rank_lines(rank, "Epoch 2/3")
    assert (out / "checkpoint-3.h5").is_file()
    assert resumed.model is not None
    # The optimizer state came back: 2 x 16 steps before, 8 sharded steps after.
    assert resumed.model["iterations"] == 2 * 16 + 8
    assert resumed.model["accuracy"] >= 0.5


def test_shard_gives_each_rank_half_the_data(resumed: Run) -> None:
    for rank in (0, 1):
        assert resumed.rank_lines(rank, f"Rank {rank} trains on shard {rank + 1} of 2: 250 images per epoch")
        epoch_lines = resumed.rank_lines(rank, "8/8 - ")  # verbose 2: one line per epoch, 250 / 32 steps
        assert len(epoch_lines) == 1 and "val_accuracy" in epoch_lines[0]
    assert not any("[==" in line for line in resumed.lines())  # verbose 2 draws no bars


def test_python_dash_m_reads_the_folder_layout(
    data: dict[str, Path], tmp_path: Path, fresh_home: Path
) -> None:
    """A single process without horovodrun (Horovod size 1), started as a module from the repository."""
    out = tmp_path / "out"
    argv = [
        sys.executable,
        "-m",
        "trainer.cifar_cnn_distributed",
        "--dir",
        str(out),
        "--data-dir",
        str(data["folder"]),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--max-train-images",
        "64",
        "--max-test-images",
        "40",
        "--verbose",
        "2",
    ]
    returncode, stdout, stderr = run_command(argv, child_env(fresh_home), REPO)
    assert returncode == 0, stderr[-3000:]
    assert "x_train shape: (64, 32, 32, 3)" in stdout and "40 test samples" in stdout
    assert "4/4 - " in stdout  # 64 images in batches of 16
    assert (out / "checkpoint-1.h5").is_file()
    assert (out / "saved_models" / "keras_cifar10_trained_model.h5").is_file()
    assert re.search(r"^Test accuracy: [0-9.]+$", stdout, re.MULTILINE)


def test_offline_without_data_dir_gives_one_error_line(tmp_path: Path, fresh_home: Path) -> None:
    env = child_env(fresh_home) | {"TF_CPP_MIN_LOG_LEVEL": "2"}  # no TensorFlow start-up notes
    returncode, stdout, stderr = run_command(horovodrun(2, "--dir", str(tmp_path / "out")), env, tmp_path)
    # "[1]<stderr>:Terminated" is horovodrun stopping the other worker once rank 0 has exited.
    worker_errors = [
        line for line in stderr.splitlines() if re.match(r"\[\d\]<stderr>:(?!Terminated$)", line)
    ]
    assert returncode != 0
    # One line, from rank 0, and no download traceback from any worker; rank 1 waited for it.
    assert len(worker_errors) == 1, worker_errors
    assert worker_errors[0].startswith(
        "[0]<stderr>:cifar_cnn_distributed.py: error: could not download CIFAR-10"
    )
    assert "pass --data-dir DIR" in worker_errors[0]
    assert "Traceback" not in stdout
    assert "Exit code: 2" in stderr  # horovodrun's own summary of the first failed worker
    assert not (tmp_path / "out").exists()


def test_a_wrong_data_dir_exits_2_with_one_line(tmp_path: Path, fresh_home: Path) -> None:
    env = child_env(fresh_home) | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    returncode, stdout, stderr = run_command(
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path / "out"), "--data-dir", str(tmp_path / "nope")],
        env,
        tmp_path,
    )
    assert returncode == 2
    assert stderr.strip() == f"cifar_cnn_distributed.py: error: --data-dir {tmp_path / 'nope'} does not exist"
    assert stdout == ""
