"""The log parser on training output found in public issues, READMEs and docs (tests/data/logs/README.md
gives each file's source): older Keras (2.0-2.2, tf.keras 1.x/2.0), the Batch AI tutorial's own stdout,
Horovod elastic runs, horovodrun's and mpirun's failure reports, Windows line ends. Assertions are on what
`bai logs summarize -o json` shows (epoch, epochs, step, steps, metrics, history, test, failed) and on the
speed and ETA the console shows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_logstream import LOGS, parse, read
from tui.cli.main import main
from tui.core.logstream import EpochEnded, LogStream, RankFailure, TestResult

PREFIX = re.compile(rb"\[(?:\d+,)?\d+\]<std(?:out|err)>:")


def summarize(path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    """What a user gets from `bai logs summarize FILE -o json`."""
    assert main(["logs", "summarize", str(path), "-o", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------------ Keras 2.0 and 2.1/2.2 verbose=2


KANJI_FIRST_RUN = [
    (1, 1.7197, 0.5893, 0.3504, 0.8959),
    (2, 0.6644, 0.8074, 0.2832, 0.9182),
    (3, 0.6163, 0.8242, 0.2946, 0.9136),
]


def test_keras20_verbose2_epoch_lines_without_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    # Keras 2.0 verbose=2 ends each epoch with "3083s - loss: ... - val_acc: ..." and no step count.
    summary = summarize(LOGS / "keras20-verbose2-kanji.log", capsys)
    rank = summary["ranks"]["-"]
    assert (rank["epoch"], rank["epochs"], rank["step"], rank["steps"]) == (6, 10, None, None)
    assert rank["metrics"] == {"loss": 0.0134, "accuracy": 0.9962, "val_loss": 0.074, "val_accuracy": 0.9848}
    history = rank["history"]
    assert [tuple(h.values()) for h in history[:3]] == KANJI_FIRST_RUN
    assert list(history[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    # Three fit() calls in one log, the last two stopped early ("Epoch 00008: early stopping" comes
    # before the line that ends epoch 9): every epoch the log shows, once, in order.
    assert [h["epoch"] for h in history] == [*range(1, 11), *range(1, 10), *range(1, 7)]
    assert history[18] == {
        "epoch": 9,
        "loss": 0.0516,
        "accuracy": 0.9841,
        "val_loss": 0.0787,
        "val_accuracy": 0.9836,
    }


def test_keras22_verbose2_under_horovodrun(capsys: pytest.CaptureFixture[str]) -> None:
    # Keras 2.1/2.2 verbose=2: " - 151s - loss: ..." (a dash first, still no step count).
    summary = summarize(LOGS / "keras22-verbose2-np2.log", capsys)
    assert list(summary["ranks"]) == ["0", "1"]
    rank0, rank1 = summary["ranks"]["0"], summary["ranks"]["1"]
    assert (rank0["epoch"], rank0["epochs"]) == (3, 3)
    assert rank0["history"][0] == {
        "epoch": 1,
        "loss": 1.8841,
        "accuracy": 0.3105,
        "val_loss": 1.577,
        "val_accuracy": 0.4254,
    }
    assert [h["epoch"] for h in rank1["history"]] == [1, 2, 3]
    assert rank1["history"][2]["loss"] == 1.339
    assert rank0["metrics"] == {
        "loss": 1.3406,
        "accuracy": 0.5176,
        "val_loss": 1.2116,
        "val_accuracy": 0.5689,
    }
    assert summary["test"] == {"loss": 1.2116289712905884, "accuracy": 0.5689}
    assert summary["failed"] == []


def test_keras22_verbose2_workers_interleaved_without_prefixes() -> None:
    stream = parse(PREFIX.sub(b"", read("keras22-verbose2-np2.log")))
    progress = stream.ranks["-"]
    assert progress.workers == 2
    assert [h["epoch"] for h in progress.history] == [1, 2, 3]  # once per epoch, not once per worker
    assert progress.history[0]["loss"] == 1.879  # the first worker to finish epoch 1 was rank 1


def test_a_count_free_line_outside_an_epoch_is_just_text() -> None:
    stream = parse(b"Took 12s - loss: 0.5\n 5s - loss: 0.3 - acc: 0.9\n")
    assert stream.summary()["ranks"]["-"]["history"] == []
    assert stream.ranks["-"].metrics == {}


# --------------------------------------------------------------------------- Keras 2.0 glued callback


def test_keras20_checkpoint_message_glued_to_the_bar(capsys: pytest.CaptureFixture[str]) -> None:
    # Keras 2.0's ModelCheckpoint printed "Epoch 00000: val_loss improved ..." right after the
    # progress bar, on the same line: "... - acc: 0.8120Epoch 00000: ...".
    data = read("keras20-checkpoint-glued.log")
    cut = data.index(b"Epoch 00000")
    stream = LogStream()
    stream.feed(data[: data.index(b"\n", cut) + 1])
    progress = stream.ranks["-"]
    assert (progress.epoch, progress.step, progress.steps) == (1, 32800, 33600)
    assert progress.metrics == {"loss": 0.6106, "accuracy": 0.812}
    summary = summarize(LOGS / "keras20-checkpoint-glued.log", capsys)
    rank = summary["ranks"]["-"]
    assert [h["epoch"] for h in rank["history"]] == [1, 2, 3, 4, 5, 19, 20]
    assert rank["history"][0] == {
        "epoch": 1,
        "loss": 0.6038,
        "accuracy": 0.8141,
        "val_loss": 0.181,
        "val_accuracy": 0.9432,
    }
    # evaluate()'s "7400/8400 [...] - ETA: 0sAccuracy: [...]" after the last epoch is not progress.
    assert (rank["epoch"], rank["step"], rank["steps"]) == (20, 33600, 33600)
    assert rank["metrics"]["loss"] == 0.0187


def test_speed_from_the_elapsed_time_when_no_per_step_time_is_printed() -> None:
    # Keras 2.0 ("33600/33600 [====] - 2s - loss") and tf.keras 2.0-2.2 verbose 2 ("125/125 - 3s - loss")
    # print the epoch's time only: the speed is the count over it.
    glued = parse(read("keras20-checkpoint-glued.log")).ranks["-"]
    assert glued.steps_per_second == pytest.approx(33600 / 2)
    elastic = parse(read("horovod-2844-elastic-verbose2.log")).ranks["0"]
    assert elastic.steps_per_second == pytest.approx(125 / 3)
    # "0s" says nothing about the speed.
    assert parse(b"Epoch 1/1\n5/5 - 0s - loss: 0.1\n").ranks["-"].steps_per_second is None


# ------------------------------------------------------------------------ tf.keras counting samples


def test_tf20_samples_per_sample_speed_and_evaluate(capsys: pytest.CaptureFixture[str]) -> None:
    # "Train on 50000 samples": the bar counts samples; the time is "981us/sample", not "/step".
    stream = parse(read("tf20-samples-verbose1.log"))
    progress = stream.ranks["-"]
    assert (progress.epoch, progress.epochs, progress.step, progress.steps) == (2, 2, 50000, 50000)
    assert progress.steps_per_second == pytest.approx(1 / 0.001)  # "1ms/sample"
    assert progress.history[0] == {
        "epoch": 1,
        "loss": 1.5001,
        "accuracy": 0.45,
        "val_loss": 1.2034,
        "val_accuracy": 0.56,
    }
    assert stream.test == TestResult(1.0100893943786621, 0.6452000141143799)
    summary = summarize(LOGS / "tf20-samples-verbose1.log", capsys)
    assert summary["ranks"]["-"]["metrics"]["val_loss"] == 1.0101
    assert summary["ranks"]["-"]["step"] == 50000  # not evaluate()'s 10000


def test_mid_epoch_sample_counts_eta_and_speed() -> None:
    data = read("tf20-samples-verbose1.log")
    stream = LogStream()
    stream.feed(data[: data.index(b"   96/50000")])
    progress = stream.ranks["-"]
    assert (progress.step, progress.steps) == (64, 50000)
    assert progress.eta_seconds == 4 * 60 + 21
    assert progress.steps_per_second == pytest.approx((50000 - 64) / 261)


@pytest.mark.parametrize(
    ("line", "steps_per_second"),
    [
        (b"95/95 [==============================] - 1s 6ms/sample - loss: 0.5928", 1 / 0.006),
        (b"60000/60000 [==============================] - 2s 28us/sample - loss: 1.6", 1 / 28e-6),
        (b"10/10 [==============================] - 88s 9s/step - loss: 0.2229", 1 / 9),
        (b"1563/1563 [==============================] - 0s 45us/step - loss: 2.3", 1 / 45e-6),
        (b"1563/1563 - 45s - 29ms/step - accuracy: 0.45 - loss: 1.5", 1 / 0.029),
    ],
)
def test_per_unit_times(line: bytes, steps_per_second: float) -> None:
    progress = parse(b"Epoch 1/2\n" + line + b"\n").ranks["-"]
    assert progress.steps_per_second == pytest.approx(steps_per_second)
    assert len(progress.history) == 1


# ------------------------------------------------------------------------- the tutorial's stdout.txt


def test_batchai_tutorial_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    # 4 workers' Keras bars in one unprefixed file, two bars sometimes run together on one line.
    summary = summarize(LOGS / "batchai-tutorial-stdout.log", capsys)
    rank = summary["ranks"]["-"]
    assert (rank["epoch"], rank["epochs"], rank["step"], rank["steps"]) == (1, 25, 8, 1563)
    assert rank["metrics"] == {"loss": 2.3152, "accuracy": 0.1172}
    assert rank["history"] == []
    stream = parse(read("batchai-tutorial-stdout.log"))
    assert stream.ranks["-"].eta_seconds == 10 * 60 + 51
    assert stream.lines()[:4] == [
        "50000 train samples",
        "10000 test samples",
        "Using real-time data augmentation.",
        "Epoch 1/25",
    ]


def test_keras22_piped_bars_of_four_workers_interleaved(capsys: pytest.CaptureFixture[str]) -> None:
    # Keras 2.1/2.2 writes "\n" + bar + info per update when stdout is a file; four workers' writes
    # interleave, so a finished bar can be cut from its metrics ("6/6 [====]5/6 [====>.]"): a
    # bar with nothing after it does not end the epoch.
    summary = summarize(LOGS / "keras22-nontty-np4-interleaved.log", capsys)
    rank = summary["ranks"]["-"]
    assert (rank["epoch"], rank["epochs"], rank["step"], rank["steps"]) == (2, 2, 6, 6)
    assert rank["history"] == [
        {"epoch": 1, "loss": 1.68, "accuracy": 0.162, "val_loss": 2.0, "val_accuracy": 0.2},
        {"epoch": 2, "loss": 1.47, "accuracy": 0.163, "val_loss": 1.9, "val_accuracy": 0.3},
    ]
    assert parse(read("keras22-nontty-np4-interleaved.log")).ranks["-"].workers == 4


def test_a_finished_bar_without_anything_after_it_is_not_an_epoch_end() -> None:
    stream = LogStream()
    events = stream.feed(b"Epoch 1/2\n6/6 [==============================]\n")
    assert not any(isinstance(e, EpochEnded) for e in events)
    assert stream.ranks["-"].history == []
    stream.feed(b"6/6 [==============================] - 10s 1667ms/step - loss: 1.6800\n")
    assert stream.ranks["-"].history == [{"epoch": 1, "loss": 1.68}]


# ------------------------------------------------------------------------------ Horovod in the wild


def test_horovod_elastic_warmup_bars_then_verbose2(capsys: pytest.CaptureFixture[str]) -> None:
    summary = summarize(LOGS / "horovod-2844-elastic-verbose2.log", capsys)
    ranks = summary["ranks"]
    assert list(ranks) == ["0", "1", "2", "3"]
    assert (ranks["0"]["epoch"], ranks["0"]["epochs"]) == (3, 200)
    assert ranks["0"]["history"] == [
        {"epoch": 1, "loss": 0.2595, "accuracy": 0.9216},
        {"epoch": 2, "loss": 0.0767, "accuracy": 0.9756},
    ]
    # The other ranks printed only one warm-up bar before training: a step, no epoch.
    assert (ranks["3"]["epoch"], ranks["3"]["step"], ranks["3"]["steps"]) == (None, 1, 1)
    assert ranks["3"]["metrics"] == {"loss": 2.298, "accuracy": 0.1172}


def test_horovodrun_elastic_failure_report(capsys: pytest.CaptureFixture[str]) -> None:
    summary = summarize(LOGS / "horovod-2835-failure.log", capsys)
    assert summary["failed"] == [{"rank": "2", "exit_code": 1}]
    assert summary["test"] is None


def test_mpirun_reports_a_rank_killed_by_a_signal(capsys: pytest.CaptureFixture[str]) -> None:
    # Open MPI's "mpirun noticed that process rank 2 with PID 4257 on node ... exited on signal 9
    # (Killed)." is the only word of a rank the kernel's OOM killer took: exit code 128 + 9, as a shell says.
    summary = summarize(LOGS / "mpirun-tag-output-signal.log", capsys)
    assert summary["failed"] == [{"rank": "2", "exit_code": 137}]
    # "-" holds mpirun's own lines.
    workers = {rank: info for rank, info in summary["ranks"].items() if rank != "-"}
    assert sorted(workers) == ["0", "1", "2", "3"]
    assert all(r["epoch"] == 2 and len(r["history"]) == 1 for r in workers.values())
    assert summary["ranks"]["-"]["epoch"] is None
    assert summary["ranks"]["2"]["history"][0]["loss"] == 1.6198
    stream = parse(
        b"mpirun noticed that process rank 14 with PID 4257 on node compute-0-2.local"
        b" exited on signal 11 (Segmentation fault).\n"
    )
    assert stream.failed == [RankFailure("14", 139)]


def test_process_exit_137_with_timestamps() -> None:
    # horovodrun --prefix-output-with-timestamp, a worker OOM-killed (from a horovod elastic issue).
    stream = parse(
        b"Thu Mar 11 01:53:18 2021[2]<stdout>:Epoch 1/3\n"
        b"Thu Mar 11 01:54:27 2021[2]<stderr>:command terminated with exit code 137\n"
        b"Process 2 exit with status code 137.\n"
        b"Thu Mar 11 01:54:27 2021[0]<stderr>:command terminated with exit code 137\n"
        b"Process 0 exit with status code 137.\n"
        b"Terminated\n"
    )
    assert stream.failed == [RankFailure("2", 137), RankFailure("0", 137)]
    assert stream.lines()[-1] == "Terminated"


# ---------------------------------------------------------------------------------- Windows line ends


@pytest.mark.parametrize(
    "name", ["keras20-checkpoint-glued.log", "keras20-verbose2-kanji.log", "tf20-samples-verbose1.log"]
)
def test_windows_line_ends_read_the_same(name: str) -> None:
    data = read(name)
    crlf = re.sub(rb"\r?\n", b"\r\n", data)
    assert parse(crlf).summary() == parse(data).summary()
    assert parse(crlf).lines() == parse(data).lines()


# ----------------------------------------------------------------------------------- odd metric values


def test_nan_inf_and_exponents_in_history_and_json() -> None:
    stream = parse(
        b"Epoch 448/1000\n"
        b"2/2 [==============================] - 1s 298ms/step - loss: nan - acc: 0.4239 - val_loss: inf"
        b" - val_acc: 0.4332 - lr: 1.0000e-04 - val_auc_1: -inf - top_k_categorical_accuracy: 1.2345e-04\n"
    )
    progress = stream.ranks["-"]
    assert progress.history[0]["lr"] == 1e-4
    assert progress.history[0]["top_k_categorical_accuracy"] == 1.2345e-4
    json_history = stream.summary()["ranks"]["-"]["history"][0]
    assert json_history["loss"] is None and json_history["val_loss"] is None  # JSON has no NaN/inf
    assert json_history["val_auc_1"] is None
    assert json_history["accuracy"] == 0.4239


def test_tf20_evaluate_after_fit_with_a_count_past_its_total() -> None:
    # TF 2.0's evaluate(verbose=2) printed "11005/1 - 1s - loss: ..." (a count over a wrong total).
    stream = parse(
        b"Epoch 49/100\n"
        b"84736/84736 [==============================] - 8s 93us/sample - loss: 0.3739 - accuracy: 0.8812"
        b" - val_loss: 0.3101 - val_accuracy: 0.9068\n"
        b"Epoch 00049: early stopping\n"
        b"\n"
        b"11005/1 - 1s - loss: 0.4222 - accuracy: 0.8964\n"
    )
    progress = stream.ranks["-"]
    assert (progress.epoch, progress.step, progress.steps) == (49, 84736, 84736)
    assert progress.metrics["accuracy"] == 0.8812
    assert len(progress.history) == 1


def test_elastic_horovodrun_names_the_failed_process_by_host_and_slot() -> None:
    # Elastic horovodrun names the first failed process "host[local_rank]" (horovod issue 2484), after its
    # own "Process 2 exit with status code 137." for the same worker: one failure, by rank.
    report = (
        b"RuntimeError: Horovod detected that one or more processes exited with non-zero status, thus causing"
        b" the job to be terminated. The first process to do so was:\n"
        b"Process name: elastic-test-worker-1[0]\n"
        b"Exit code: 137\n"
    )
    stream = parse(b"Process 2 exit with status code 137.\nTraceback (most recent call last):\n" + report)
    assert stream.failed == [RankFailure("2", 137)]
    # With no numbered report before it, the name is all there is.
    assert parse(report).failed == [RankFailure("elastic-test-worker-1[0]", 137)]


def test_metric_names_with_hyphens(capsys: pytest.CaptureFixture[str]) -> None:
    # keras.io's Perceiver example names a metric "top5-acc": it is not "acc" (accuracy).
    summary = summarize(LOGS / "keras-io-perceiver-top5.log", capsys)
    rank = summary["ranks"]["-"]
    assert rank["history"][0] == {
        "epoch": 1,
        "loss": 4.455,
        "accuracy": 0.0389,
        "top5-acc": 0.1407,
        "val_loss": 4.0544,
        "val_accuracy": 0.0802,
        "val_top5-acc": 0.2516,
    }
    assert [h["epoch"] for h in rank["history"]] == [1, 2, 3, 44, 45]
    assert rank["metrics"]["accuracy"] == 0.6197  # evaluate()'s 0.5264 is not the epoch's
    # "Test accuracy: 52.64%" is a percentage; "Test top 5 accuracy: 80.87%" is another metric.
    assert summary["test"]["loss"] is None
    assert summary["test"]["accuracy"] == pytest.approx(0.5264)


@pytest.mark.parametrize(
    ("line", "metrics"),
    [
        # TF 2.x prints this warning (stderr) onto the bar's line (as pasted in many READMEs).
        (
            b" 2/50 [>.............................] - ETA: 3s - loss: 3.3039 - accuracy: 0.4297WARNING:"
            b"tensorflow:Callbacks method `on_train_batch_end` is slow compared to the batch time",
            {"loss": 3.3039, "accuracy": 0.4297},
        ),
        (
            b"   6/1641 [..............................] - ETA: 20:16 - loss: 84.9471 - f1_score: 0.0000e+00"
            b"WARNING:tensorflow:Callback method `on_train_batch_end` is slow compared to the batch time",
            {"loss": 84.9471, "f1_score": 0.0},
        ),
        (
            "1/2 ━━ 0s 762ms/step - loss: nan - mae: nan[WARNING] absl - You are saving".encode(),
            {"loss": float("nan"), "mae": float("nan")},
        ),
    ],
)
def test_a_warning_printed_onto_the_bar_line_keeps_the_last_value(line: bytes, metrics: dict) -> None:
    progress = parse(b"Epoch 1/30\n" + line + b"\n").ranks["-"]
    assert set(progress.metrics) == set(metrics)
    for name, value in metrics.items():
        assert progress.metrics[name] == pytest.approx(value, nan_ok=True)


def test_keras22_callback_messages_are_not_epochs() -> None:
    stream = parse(
        b"Epoch 5/50\n"
        b"1563/1563 [==============================] - 41s 26ms/step - loss: 0.9 - acc: 0.68 - val_loss: 0.91"
        b" - val_acc: 0.69 - lr: 0.0010\n"
        b"\n"
        b"Epoch 00005: val_acc improved from 0.66990 to 0.69000, saving model to /mnt/cifar/model.005.h5\n"
        b"\n"
        b"Epoch 00005: ReduceLROnPlateau reducing learning rate to 0.00010000000474974513.\n"
        b"Epoch 6/50\n"
        b"1563/1563 [==============================] - 40s 26ms/step - loss: 0.8 - acc: 0.72 - val_loss: 0.85"
        b" - val_acc: 0.71 - lr: 1.0000e-04\n"
        b"Epoch 00006: early stopping\n"
    )
    progress = stream.ranks["-"]
    assert (progress.epoch, progress.epochs) == (6, 50)
    assert [(h["epoch"], h["lr"]) for h in progress.history] == [(5, 0.001), (6, 1e-4)]


# ------------------------------------------------------------------- other launchers' and wrappers' prefixes


def test_sagemaker_mpi_tags_name_the_rank(capsys: pytest.CaptureFixture[str]) -> None:
    # SageMaker's MPI launcher tags lines "[1,mpirank:3,algo-1]<stderr>:" (job, rank, host): eight ranks,
    # and the training toolkit's own untagged lines.
    summary = summarize(LOGS / "sagemaker-mpirank-tags.log", capsys)
    assert list(summary["ranks"]) == [*map(str, range(8)), "-"]
    stream = parse(read("sagemaker-mpirank-tags.log"))
    assert stream.lines("3") == ["INFO:root:Reducer buckets have been rebuilt in this iteration."]
    assert stream.lines("0")[0] == "algo-1:79:1300 [0] NCCL INFO Launch mode Parallel"
    assert stream.lines("0")[-1] == "epoch 2: {'accuracy': 0.75, 'f1': 0.838095238095238}"
    assert stream.lines("-")[-1].endswith("Reporting training SUCCESS")


def test_horovodrun_under_a_logger_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    # Airflow's BashOperator logs each output line behind "[date time,ms] {bash.py:173} INFO - ": the
    # horovodrun tag after it still names the rank.
    summary = summarize(LOGS / "airflow-bashoperator-horovodrun.log", capsys)
    assert list(summary["ranks"]) == ["0", "1", "-"]
    rank0, rank1 = summary["ranks"]["0"], summary["ranks"]["1"]
    assert (rank0["epoch"], rank0["epochs"], rank1["epoch"]) == (3, 24, 3)
    assert rank0["history"][1] == {
        "epoch": 2,
        "loss": 0.1047,
        "accuracy": 0.969,
        "val_loss": 0.0498,
        "val_accuracy": 0.9838,
    }
    assert [h["loss"] for h in rank1["history"]] == [0.3141, 0.1062]
    stream = parse(read("airflow-bashoperator-horovodrun.log"))
    assert stream.lines("1")[3].startswith("2021-05-14 19:44:52.117951: W tensorflow/")
    assert stream.lines("-") == [
        "[2021-05-14 19:43:40,512] {bash.py:158} INFO - Running command: horovodrun -np 2 -H localhost:2"
        " python train.py",
        "[2021-05-14 19:43:40,530] {bash.py:169} INFO - Output:",
    ]


def test_open_mpi_5_names_the_failed_process_by_rank(capsys: pytest.CaptureFixture[str]) -> None:
    # Open MPI 5 (PRRTE) names the process "[prterun-gpu013-1009179@1,1]": job 1, rank 1.
    summary = summarize(LOGS / "prterun-failure.log", capsys)
    assert summary["failed"] == [{"rank": "1", "exit_code": 1}]
    assert summary["ranks"]["1"]["epoch"] == 3


def test_sagemaker_cloudwatch_octal_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    # CloudWatch shows Keras's \r and \b as "#015" and "#010": the bar is read as a terminal would show it.
    summary = summarize(LOGS / "sagemaker-cloudwatch-escapes.log", capsys)
    rank = summary["ranks"]["-"]
    assert (rank["epoch"], rank["epochs"], rank["step"], rank["steps"]) == (27, 30, 4, 4)
    assert rank["history"][0] == {"epoch": 25, "loss": 23.863, "val_loss": 26.5982, "batch": 24.0}
    assert [h["epoch"] for h in rank["history"]] == [25, 26, 27]
    assert rank["metrics"] == {"loss": 22.2273, "val_loss": 26.5363, "batch": 26.0}
    lines = parse(read("sagemaker-cloudwatch-escapes.log")).lines()
    assert lines[1] == (
        "4/4 [==============================] - 0s 10ms/step - loss: 23.8630 - val_loss: 26.5982"
        " - batch: 24.0000"
    )
    assert len(lines) == 6
    # Only those escapes: "#01" and "#0" (a chunk may end in them, see the chunking tests) stay text.
    assert parse(b"issue #01, #0 and #016\n").lines() == ["issue #01, #0 and #016"]
