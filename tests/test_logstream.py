"""The live training-log parser on real logs (tests/data/logs, see its README) and on the formats the
launchers write: horovodrun prefixes, timestamps, mpirun tags, unprefixed and interleaved workers,
Keras 2 and 3 bars, verbose 1 and 2, failures. Assertions are on what a user sees: epochs, steps,
metrics as printed, the text of the log pane.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tui.core.logstream import (
    MAX_SEGMENT_BYTES,
    EpochEnded,
    EpochStarted,
    LineAdded,
    LogStream,
    RankFailed,
    RankFailure,
    StepProgress,
    TestFinished,
    TestResult,
)

LOGS = Path(__file__).parent / "data" / "logs"
HOROVOD_PREFIX = re.compile(rb"\[(\d+)\]<(stdout|stderr)>:")


def read(name: str) -> bytes:
    return (LOGS / name).read_bytes()


def parse(data: bytes, **kwargs: object) -> LogStream:
    stream = LogStream(**kwargs)  # type: ignore[arg-type]
    stream.feed(data)
    stream.close()
    return stream


def rank_stream(data: bytes, rank: str, name: str = "stdout") -> bytes:
    """The bytes one worker wrote to one stream: horovodrun's prefixes taken off again.

    horovodrun prefixes every piece that ends in \\r or \\n, so the pieces of a rank concatenated are
    exactly what its Keras wrote (this is what a per-rank file, or plain `python train.py`, holds).
    """
    out = bytearray()
    tag = f"[{rank}]<{name}>:".encode()
    for piece in re.split(rb"(?<=[\r\n])", data):
        if piece.startswith(tag):
            out += piece[len(tag) :]
    return bytes(out)


HOROVOD_NP2_HISTORY = [
    {"epoch": 1, "loss": 2.3356, "accuracy": 0.1003, "val_loss": 2.3376, "val_accuracy": 0.1060},
    {"epoch": 2, "loss": 2.3079, "accuracy": 0.1082, "val_loss": 2.3259, "val_accuracy": 0.0960},
    {"epoch": 3, "loss": 2.2889, "accuracy": 0.1227, "val_loss": 2.3263, "val_accuracy": 0.0960},
]


# ------------------------------------------------------------------------------- real horovodrun log


def test_horovodrun_np2_sample_per_rank_progress_history_and_test_result() -> None:
    stream = parse(read("horovodrun-np2-sample.log"))
    assert list(stream.ranks) == ["1", "0"]  # in the order they first wrote
    for rank in ("0", "1"):
        progress = stream.ranks[rank]
        assert (progress.epoch, progress.epochs, progress.step, progress.steps) == (3, 3, 63, 63)
        assert progress.history == HOROVOD_NP2_HISTORY
        assert progress.metrics == {
            "loss": 2.2889,
            "accuracy": 0.1227,
            "val_loss": 2.3263,
            "val_accuracy": 0.096,
        }
        assert progress.eta_seconds == 0.0
        assert progress.steps_per_second == pytest.approx(1 / 0.029)  # "29ms/step"
        assert progress.workers == 1
    assert stream.test == TestResult(loss=2.3337388038635254, accuracy=0.09399999678134918)
    assert stream.failed == []


def test_horovodrun_np2_sample_summary_is_the_issue_json_shape() -> None:
    summary = parse(read("horovodrun-np2-sample.log")).summary()
    assert list(summary) == ["ranks", "test", "failed"]
    assert list(summary["ranks"]) == ["0", "1"]
    assert summary["ranks"]["0"] == {
        "epoch": 3,
        "epochs": 3,
        "step": 63,
        "steps": 63,
        "metrics": {"loss": 2.2889, "accuracy": 0.1227, "val_loss": 2.3263, "val_accuracy": 0.096},
        "history": HOROVOD_NP2_HISTORY,
    }
    assert summary["test"] == {"loss": 2.3337388038635254, "accuracy": 0.09399999678134918}
    assert summary["failed"] == []


def test_horovodrun_lines_are_what_a_terminal_shows_once_per_overwritten_line() -> None:
    stream = parse(read("horovodrun-np2-sample.log"))
    rank0 = stream.lines("0")
    assert rank0[:4] == [
        "x_train shape: (2000, 32, 32, 3)",
        "2000 train samples",
        "500 test samples",
        "Using real-time data augmentation.",
    ]
    assert "Epoch 1: saving model to /mnt/share/cifar/ckpt-1.h5" in rank0
    final = (
        "63/63 [==============================] - 7s 32ms/step - loss: 2.3356 - accuracy: 0.1003"
        " - val_loss: 2.3376 - val_accuracy: 0.1060"
    )
    assert rank0.count(final) == 1
    assert rank0[-2:] == ["Test loss: 2.3337388038635254", "Test accuracy: 0.09399999678134918"]
    everything = stream.lines()
    assert everything[0] == "[1] x_train shape: (2000, 32, 32, 3)"
    assert all("\b" not in line and "\r" not in line and "<stdout>" not in line for line in everything)
    # 63 steps x 3 epochs of bar updates collapse into one line per epoch (plus the line Keras ends
    # early when the checkpoint callback prints): rank 0 has 23 lines, not hundreds.
    assert len(rank0) == 23


def test_progress_mid_epoch_is_the_latest_update_of_each_rank() -> None:
    data = read("horovodrun-np2-sample.log")
    cut = data.index(b"[1]<stdout>:16/63") + len(b"[1]<stdout>:16/63")
    stream = LogStream()
    events = stream.feed(data[:cut])
    rank0, rank1 = stream.ranks["0"], stream.ranks["1"]
    assert (rank0.epoch, rank0.epochs, rank0.step, rank0.steps) == (1, 3, 15, 63)
    assert rank0.metrics == {"loss": 2.3443, "accuracy": 0.0958}
    assert rank0.eta_seconds == 1.0  # "ETA: 1s"
    assert rank0.steps_per_second == 48.0  # 48 steps left in 1 s
    assert (rank1.step, rank1.metrics) == (12, {"loss": 2.3596, "accuracy": 0.0911})
    assert rank1.history == []
    assert stream.partial_lines()["0"].startswith("15/63 [======>.......................] - ETA: 1s")
    assert EpochStarted("0", 1, 3) in events and EpochStarted("1", 1, 3) in events
    assert StepProgress("0", 15, 63) in events
    assert not any(isinstance(e, EpochEnded) for e in events)


def test_events_for_a_whole_run() -> None:
    stream = LogStream()
    events = stream.feed(read("horovodrun-np2-sample.log")) + stream.close()
    ended = [e for e in events if isinstance(e, EpochEnded) and e.rank == "0"]
    assert [e.epoch for e in ended] == [1, 2, 3]
    assert ended[0].metrics == {"loss": 2.3356, "accuracy": 0.1003, "val_loss": 2.3376, "val_accuracy": 0.106}
    tests = [e for e in events if isinstance(e, TestFinished)]
    assert tests[-1] == TestFinished(TestResult(2.3337388038635254, 0.09399999678134918), "0")
    assert LineAdded("0", "Test loss: 2.3337388038635254") in events
    assert all(e.rank in ("0", "1") for e in events)


def test_evaluate_after_fit_is_not_an_epoch() -> None:
    stream = parse(read("horovodrun-np2-sample.log"))
    progress = stream.ranks["0"]
    assert len(progress.history) == 3
    assert (progress.step, progress.steps) == (63, 63)  # not evaluate()'s 16/16
    assert progress.metrics["loss"] == 2.2889  # not evaluate()'s 2.3337


def test_timestamp_prefixes_read_like_plain_ones() -> None:
    data = read("horovodrun-np2-sample.log")
    stamped = HOROVOD_PREFIX.sub(lambda m: b"Fri Nov 27 14:59:15 2026" + m.group(0), data)
    assert parse(stamped).summary() == parse(data).summary()
    assert parse(stamped).lines("0") == parse(data).lines("0")


# ------------------------------------------------------------------------------------------ Keras 3


def test_keras3_sample_bars_ansi_and_history() -> None:
    stream = parse(read("keras3-verbose1-sample.log"))
    assert list(stream.ranks) == ["-"]
    progress = stream.ranks["-"]
    assert (progress.epoch, progress.epochs, progress.step, progress.steps) == (3, 3, 25, 25)
    assert progress.history == [
        {"epoch": 1, "accuracy": 0.0887, "loss": 2.3225, "val_accuracy": 0.0900, "val_loss": 2.3174},
        {"epoch": 2, "accuracy": 0.1338, "loss": 2.2780, "val_accuracy": 0.0950, "val_loss": 2.3260},
        {"epoch": 3, "accuracy": 0.1663, "loss": 2.2445, "val_accuracy": 0.0750, "val_loss": 2.3131},
    ]
    assert stream.test == TestResult(2.215399742126465, 0.20499999821186066)
    assert stream.lines() == [
        "x_train shape: (1000, 32, 32, 3)",
        "Epoch 1/3",
        "25/25 ━━━━━━━━━━━━━━━━━━━━ 0s 16ms/step - accuracy: 0.0887 - loss: 2.3225 - val_accuracy: 0.0900"
        " - val_loss: 2.3174",
        "Epoch 2/3",
        "25/25 ━━━━━━━━━━━━━━━━━━━━ 0s 13ms/step - accuracy: 0.1338 - loss: 2.2780 - val_accuracy: 0.0950"
        " - val_loss: 2.3260",
        "Epoch 3/3",
        "25/25 ━━━━━━━━━━━━━━━━━━━━ 0s 15ms/step - accuracy: 0.1663 - loss: 2.2445 - val_accuracy: 0.0750"
        " - val_loss: 2.3131",
        "7/7 ━━━━━━━━━━━━━━━━━━━━ 0s 6ms/step - accuracy: 0.2050 - loss: 2.2154",
        "Test loss: 2.215399742126465",
        "Test accuracy: 0.20499999821186066",
    ]


def test_keras3_mid_epoch_unlabelled_eta_and_speed() -> None:
    data = read("keras3-verbose1-sample.log")
    cut = data.index(b"12/25")
    stream = LogStream()
    stream.feed(data[: data.index(b"\r", cut) + 1])
    progress = stream.ranks["-"]
    assert (progress.epoch, progress.step, progress.steps) == (1, 12, 25)
    assert progress.metrics == {"accuracy": 0.0938, "loss": 2.3172}
    assert progress.eta_seconds == 0.0  # Keras 3's bold "0s" before the per-step time
    assert progress.steps_per_second == pytest.approx(1 / 0.015)  # "15ms/step"


def test_keras3_final_bar_again_after_a_checkpoint_message_completes_the_epoch() -> None:
    # Keras 3 ends the bar line early when ModelCheckpoint prints, then prints it again with val_*.
    log = (
        "Epoch 1/2\n"
        "\r\x1b[1m25/25\x1b[0m \x1b[32m━━━━\x1b[0m \x1b[1m0s\x1b[0m 16ms/step"
        " - accuracy: 0.0887 - loss: 2.3225\n"
        "Epoch 1: saving model to ckpt.keras\n"
        "\b\b\b\r\x1b[1m25/25\x1b[0m \x1b[32m━━━━\x1b[0m \x1b[1m1s\x1b[0m 20ms/step - accuracy: 0.0887"
        " - loss: 2.3225 - val_accuracy: 0.0900 - val_loss: 2.3174\n"
    ).encode()
    stream = LogStream()
    events = stream.feed(log)
    assert stream.ranks["-"].history == [
        {"epoch": 1, "accuracy": 0.0887, "loss": 2.3225, "val_accuracy": 0.09, "val_loss": 2.3174}
    ]
    assert [e.metrics for e in events if isinstance(e, EpochEnded)][-1]["val_loss"] == 2.3174


# --------------------------------------------------------------------------- other launchers, formats


def test_mpirun_tags_at_line_starts_only() -> None:
    data = read("horovodrun-np2-sample.log")
    per_rank = {rank: rank_stream(data, rank) for rank in ("0", "1")}
    # mpirun --tag-output: "[1,R]<stdout>:" at the start of each \n line; the \r pieces are not tagged.
    tagged_lines: dict[str, list[bytes]] = {}
    for rank, raw in per_rank.items():
        tag = f"[1,{rank}]<stdout>:".encode()
        tagged_lines[rank] = [tag + line for line in raw.splitlines(keepends=True)]
    mixed = b"".join(a + b for a, b in zip(tagged_lines["0"], tagged_lines["1"], strict=False))
    longer = max(tagged_lines.values(), key=len)
    mixed += b"".join(longer[min(map(len, tagged_lines.values())) :])
    stream = parse(mixed)
    assert sorted(stream.ranks) == ["0", "1"]
    assert stream.ranks["0"].history == HOROVOD_NP2_HISTORY
    assert stream.ranks["1"].history == HOROVOD_NP2_HISTORY
    assert stream.test == TestResult(2.3337388038635254, 0.09399999678134918)


def test_one_unprefixed_worker_and_a_per_rank_file() -> None:
    raw = rank_stream(read("horovodrun-np2-sample.log"), "0")
    plain = parse(raw)
    assert list(plain.ranks) == ["-"]
    assert plain.ranks["-"].history == HOROVOD_NP2_HISTORY
    per_rank_file = parse(raw, default_rank="0")
    assert list(per_rank_file.ranks) == ["0"]
    horovodrun = parse(read("horovodrun-np2-sample.log"))
    assert per_rank_file.summary()["ranks"]["0"] == horovodrun.summary()["ranks"]["0"]


def test_interleaved_unprefixed_workers_are_not_double_counted() -> None:
    # mpirun without --tag-output (the tutorial's stdout.txt): both workers' bytes in one stream.
    data = HOROVOD_PREFIX.sub(b"", read("horovodrun-np2-sample.log"))
    stream = parse(data)
    progress = stream.ranks["-"]
    assert progress.workers == 2
    assert (progress.epoch, progress.epochs, progress.step, progress.steps) == (3, 3, 63, 63)
    assert progress.history == HOROVOD_NP2_HISTORY  # one entry per epoch, not one per worker
    assert stream.test == TestResult(2.3337388038635254, 0.09399999678134918)


def test_keras2_verbose2_tutorial_era_names_and_long_eta() -> None:
    log = (
        b"Epoch 1/25\n"
        b"   1/1563 [..............................] - ETA: 2:42:25 - loss: 2.3334 - acc: 0.0312\b\b\b\r"
    )
    stream = LogStream()
    stream.feed(log)
    progress = stream.ranks["-"]
    assert (progress.step, progress.steps, progress.eta_seconds) == (1, 1563, 9745.0)
    assert progress.metrics == {"loss": 2.3334, "accuracy": 0.0312}
    stream.feed(
        b"1563/1563 [==============================] - 151s 97ms/step - loss: 1.8841 - acc: 0.3105"
        b" - val_loss: 1.5770 - val_acc: 0.4254\n"
        b"Epoch 2/25\n"
        b"1563/1563 - 150s - loss: 1.5012 - acc: 0.4512 - val_loss: 1.3390 - val_acc: 0.5210 - 150s/epoch"
        b" - 96ms/step\n"
    )
    assert progress.history == [
        {"epoch": 1, "loss": 1.8841, "accuracy": 0.3105, "val_loss": 1.577, "val_accuracy": 0.4254},
        {"epoch": 2, "loss": 1.5012, "accuracy": 0.4512, "val_loss": 1.339, "val_accuracy": 0.521},
    ]
    assert progress.steps_per_second == pytest.approx(1 / 0.096)


def test_epoch_callback_messages_are_not_epochs() -> None:
    stream = parse(
        b"Epoch 2/5\n"
        b"Epoch 2: saving model to /mnt/cifar/checkpoint-2.h5\n"
        b"Epoch 3: finished gradual learning rate warmup to 0.0002.\n"
    )
    progress = stream.ranks["-"]
    assert (progress.epoch, progress.epochs) == (2, 5)
    assert progress.history == []


def test_horovodrun_failure_lines() -> None:
    stream = LogStream()
    events = stream.feed(
        b"[1]<stderr>:RuntimeError: out of memory\n"
        b"Process 1 exit with status code 1.\n"
        b"Traceback (most recent call last):\n"
        b"RuntimeError: Horovod detected that one or more processes exited with non-zero status, thus causing"
        b" the job to be terminated. The first process to do so was:\n"
        b"Process name: 1\n"
        b"Exit code: 1\n"
    )
    assert stream.failed == [RankFailure("1", 1)]
    assert [e for e in events if isinstance(e, RankFailed)] == [RankFailed(RankFailure("1", 1))]
    assert RankFailed(RankFailure("1", 1)).rank == "1"
    only_name = parse(b"Process name: 3\nExit code: 137\n")
    assert only_name.failed == [RankFailure("3", 137)]
    mpirun = parse(b"  Process name: [[51234,1],2]\n  Exit code:    9\n")
    assert mpirun.failed == [RankFailure("2", 9)]
    assert parse(b"Exit code: 1\n").failed == []  # without its "Process name:" it names no one


def test_terminal_rules_for_carriage_return_backspace_and_ansi() -> None:
    stream = parse(b"abcdef\rxy\nabc\b\bX\n\x1b[1mbold\x1b[0m \x1b]0;title\x07text\nwin\r\nend")
    assert stream.lines() == ["xycdef", "aXc", "bold text", "win", "end"]


def test_lines_are_bounded_per_rank() -> None:
    stream = parse(b"".join(b"line %d\n" % i for i in range(100)), max_lines_per_rank=10)
    assert stream.lines("-") == [f"line {i}" for i in range(90, 100)]


def test_a_50_mb_line_without_newline_stays_bounded() -> None:
    import tracemalloc

    chunk = b"x" * (1024 * 1024)
    stream = LogStream()
    tracemalloc.start()
    try:
        for _ in range(50):
            stream.feed(chunk)
        stream.feed(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert stream.lines() == ["x" * MAX_SEGMENT_BYTES]


def test_garbage_is_text_and_never_an_error() -> None:
    stream = parse(bytes(range(256)) * 4 + b"\xff\xfe[9999999999]<stdout>:\x1b[\n")
    assert all("log parser error" not in line for line in stream.lines())


# ------------------------------------------------- logs recorded here with the trainer under horovodrun


def test_recorded_np2_verbose1_each_rank_keeps_its_own_metrics() -> None:
    stream = parse(read("np2-verbose1.log"))
    assert sorted(stream.ranks) == ["0", "1"]
    rank0, rank1 = stream.ranks["0"], stream.ranks["1"]
    assert (rank0.epoch, rank0.epochs, rank0.step, rank0.steps) == (3, 3, 20, 20)
    assert rank0.history[0] == {
        "epoch": 1,
        "loss": 1.6992,
        "accuracy": 0.4578,
        "val_loss": 0.8212,
        "val_accuracy": 0.7,
    }
    assert rank1.history[0] == {
        "epoch": 1,
        "loss": 1.6947,
        "accuracy": 0.4641,
        "val_loss": 0.8212,
        "val_accuracy": 0.7,
    }
    assert [h["epoch"] for h in rank1.history] == [1, 2, 3]
    assert rank0.history[-1]["val_accuracy"] == 1.0
    assert stream.test == TestResult(0.13943108916282654, 1.0)
    assert "Epoch 1: saving model to /mnt/share/o1/checkpoint-1.h5" in stream.lines("0")


def test_recorded_np2_verbose2_one_line_per_epoch() -> None:
    stream = parse(read("np2-verbose2.log"))
    rank0 = stream.ranks["0"]
    assert (rank0.epoch, rank0.step, rank0.steps) == (3, 20, 20)
    assert rank0.history == [
        {"epoch": 1, "loss": 1.9962, "accuracy": 0.2625, "val_loss": 1.3611, "val_accuracy": 0.4},
        {"epoch": 2, "loss": 1.0347, "accuracy": 0.6203, "val_loss": 0.6798, "val_accuracy": 0.7},
        {"epoch": 3, "loss": 0.46, "accuracy": 0.8266, "val_loss": 0.3698, "val_accuracy": 0.9},
    ]
    # "20/20 - 3s - ... - 3s/epoch - 130ms/step": the speed is the per-step time, not the epoch time.
    assert rank0.steps_per_second == pytest.approx(1 / 0.130)
    # evaluate()'s "5/5 - 0s - loss: ..." after the last epoch is not a fourth epoch.
    assert len(stream.ranks["1"].history) == 3
    # Rank 1 printed its test result first; rank 0's is the job's.
    assert stream.test == TestResult(0.36981436610221863, 0.8999999761581421)


def test_recorded_timestamps() -> None:
    stream = parse(read("np2-timestamps.log"))
    assert sorted(stream.ranks) == ["0", "1"]
    assert stream.ranks["1"].history[-1] == {
        "epoch": 2,
        "loss": 0.597,
        "accuracy": 0.8031,
        "val_loss": 0.2552,
        "val_accuracy": 0.9,
    }
    assert stream.lines("0")[:2] == ["x_train shape: (640, 32, 32, 3)", "640 train samples"]
    assert not any("2026" in line for line in stream.lines())  # the dates are prefixes, not text


def test_recorded_failing_rank() -> None:
    stream = parse(read("np2-failing-rank.log"))
    assert stream.failed == [RankFailure("1", 1)]  # from both horovodrun messages, once
    assert stream.lines("1")[-2:] == [
        "RuntimeError: simulated worker failure on rank 1 (out of memory)",
        "Epoch 1/1",
    ]
    assert stream.lines("-")[0] == "Process 1 exit with status code 1."
    assert stream.ranks["0"].history == [{"epoch": 1, "loss": 2.3026, "accuracy": 0.1}]


def test_recorded_np4_four_ranks() -> None:
    stream = parse(read("np4-verbose1.log"))
    assert sorted(stream.ranks) == ["0", "1", "2", "3"]
    assert [stream.ranks[r].history[-1]["loss"] for r in "0123"] == [0.5047, 0.5079, 0.4729, 0.5025]
    assert all(stream.ranks[r].history[-1]["val_accuracy"] == 1.0 for r in "0123")
    assert stream.test == TestResult(0.12932072579860687, 1.0)


@pytest.mark.parametrize(
    ("name", "workers", "epochs"),
    [
        ("np4-verbose1.log", 4, 2),
        ("np2-verbose1.log", 2, 3),
        ("np2-verbose2.log", 2, 3),
        ("np2-timestamps.log", 2, 2),
    ],
)
def test_recorded_runs_interleaved_without_prefixes(name: str, workers: int, epochs: int) -> None:
    # What mpirun without --tag-output writes: every worker's bytes in one stream, as they came.
    data = re.sub(rb"[^\r\n\[]{0,40}\[\d+\]<std(?:out|err)>:", b"", read(name))
    progress = parse(data).ranks["-"]
    assert progress.workers == workers
    assert (progress.epoch, progress.epochs) == (epochs, epochs)
    assert [h["epoch"] for h in progress.history] == list(range(1, epochs + 1))


def test_recorded_long_epochs() -> None:
    stream = parse(read("np2-long-epochs.log"))
    rank1 = stream.ranks["1"]
    assert (rank1.epoch, rank1.epochs, rank1.step, rank1.steps) == (2, 2, 200, 200)
    assert [h["epoch"] for h in rank1.history] == [1, 2]
    assert stream.ranks["0"].history[-1]["val_loss"] == 2.4163e-05  # Keras prints small values as %.4e
    # 200 rewrites of each epoch's bar are one line each.
    assert sum(line.startswith("200/200 [====") for line in stream.lines("0")) == 4


def test_keras3_verbose2_line() -> None:
    # Keras 3's verbose=2 epoch line: count, elapsed, time per step, then the sorted metrics.
    stream = parse(
        b"Epoch 1/3\n"
        b"25/25 - 1s - 28ms/step - accuracy: 0.0887 - loss: 2.3225 - val_accuracy: 0.0900"
        b" - val_loss: 2.3174\n"
        b"7/7 - 0s - 6ms/step - accuracy: 0.2050 - loss: 2.2154\n"
    )
    progress = stream.ranks["-"]
    assert progress.history == [
        {"epoch": 1, "accuracy": 0.0887, "loss": 2.3225, "val_accuracy": 0.09, "val_loss": 2.3174}
    ]
    assert progress.steps_per_second == pytest.approx(1 / 0.028)
    assert (progress.step, progress.steps) == (25, 25)  # evaluate()'s 7/7 left it alone


def test_progress_on_both_streams_of_a_rank_the_later_update_wins() -> None:
    # Some scripts draw their bar on stderr (tqdm) and Keras on stdout: what was written last shows.
    log = (
        b"[0]<stdout>:Epoch 1/2\n"
        b"[0]<stdout>: 1/10 [==>...........................] - ETA: 9s - loss: 1.0000\x08\x08\r"
        b"[0]<stderr>: 2/10 [=====>........................] - ETA: 8s - loss: 0.9000\x08\x08\r"
        b"[0]<stdout>: 3/10 [========>.....................] - ETA: 7s - loss: 0.8000\x08\x08\r"
        b"[0]<stderr>: 4/10 [===========>..................] - ETA: 6s - loss: 0.7000\x08\x08\r"
        b"[0]<stderr>:warning\n"
    )
    for cut in range(len(log) + 1):
        stream = LogStream()
        stream.feed(log[:cut])
        stream.feed(log[cut:])
        progress = stream.ranks["0"]
        assert (progress.step, progress.metrics) == (4, {"loss": 0.7}), cut
