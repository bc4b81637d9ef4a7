"""Property tests: any chunking gives the state of one-shot feeding; random bytes never raise.

A live stream arrives in arbitrary pieces (a read may end inside a prefix, a UTF-8 character, an ANSI
sequence or a run of backspaces), so the parser's state must depend on the bytes only.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.logstream import LogStream

LOGS = Path(__file__).parent / "data" / "logs"
REAL_LOGS = {path.name: path.read_bytes() for path in sorted(LOGS.glob("*.log"))}
# The same real bytes as other launchers write them: unprefixed (workers interleaved) and timestamped.
REAL_LOGS["interleaved-unprefixed"] = re.sub(
    rb"\[\d+\]<std(?:out|err)>:", b"", REAL_LOGS["horovodrun-np2-sample.log"]
)

PROFILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def state(stream: LogStream) -> Any:
    """Everything a reader of the parser can see."""
    return (
        stream.summary(),
        [dataclasses.asdict(progress) for progress in stream.ranks.values()],
        stream.records(),
        stream.partial_lines(),
        stream.test,
        stream.failed,
    )


def one_shot(data: bytes) -> Any:
    stream = LogStream()
    stream.feed(data)
    stream.close()
    return state(stream)


def chunked(data: bytes, cuts: list[int]) -> Any:
    stream = LogStream()
    previous = 0
    for cut in sorted(set(cuts)):
        stream.feed(data[previous:cut])
        previous = cut
    stream.feed(data[previous:])
    stream.close()
    return state(stream)


@PROFILE
@given(name=st.sampled_from(sorted(REAL_LOGS)), data=st.data())
def test_real_logs_in_random_chunks_equal_one_shot(name: str, data: st.DataObject) -> None:
    log = REAL_LOGS[name]
    cuts = data.draw(st.lists(st.integers(0, len(log)), max_size=200))
    assert chunked(log, cuts) == one_shot(log)


def test_real_logs_byte_by_byte_equal_one_shot() -> None:
    for log in REAL_LOGS.values():
        assert chunked(log, list(range(len(log)))) == one_shot(log)


# Pieces of the formats the parser reads, to build adversarial streams from.
PIECES = [
    b"[0]<stdout>:",
    b"[1]<stderr>:",
    b"[12]<stdout>:",
    b"[1,0]<stdout>:",
    b"[1,3]<stderr>:",
    b"Fri Nov 27 14:59:15 2026[1]<stdout>:",
    b"Epoch 1/3",
    b"Epoch 2/3",
    b"Epoch 3: saving model to x.h5",
    b" 3/63 [>.............................] - ETA: 2s - loss: 2.4025 - accuracy: 0.0729",
    b"63/63 [==============================] - ETA: 0s - loss: 2.3376 - accuracy: 0.0970",
    b"63/63 [==============================] - 7s 32ms/step - loss: 2.3356 - acc: 0.1003 - val_acc: 0.1",
    b"63/63 - 7s - loss: 2.3356 - accuracy: 0.1003 - 7s/epoch - 112ms/step",
    "\x1b[1m 6/25\x1b[0m \x1b[32m━━━━\x1b[0m\x1b[37m━━━━\x1b[0m \x1b[1m0s\x1b[0m 11ms/step - l: 2".encode(),
    b"     10/Unknown - 1s 20ms/step - loss: 2.0",
    b"Test loss: 2.5",
    b"Test accuracy: 0.25",
    b"Process 1 exit with status code 1.",
    b"Process name: 2",
    b"Exit code: 3",
    # Older Keras and other launchers, as found in public logs (see tests/data/logs/README.md).
    b" - 151s - loss: 1.8841 - acc: 0.3105 - val_acc: 0.4254",
    b"3083s - loss: 1.7197 - acc: 0.5893",
    b"32800/33600 [============================>.] - ETA: 0s - loss: 0.6106 - acc: 0.8120Epoch 00000: x",
    b"33600/33600 [==============================] - 3s - loss: 0.6038 - top5-acc: 0.1407",
    b"60000/60000 [==============================] - 2s 28us/sample - loss: 1.6077",
    b"6/6 [==============================]",
    b"mpirun noticed that process rank 2 with PID 4257 on node n1 exited on signal 9 (Killed).",
    b"Process name: worker-1[0]",
    b"Test accuracy: 52.64%",
    b"WARNING:tensorflow:slow",
    b"\x08" * 84,
    b"\x08",
    b"\r",
    b"\n",
    b"\r\n",
    b"\x1b[",
    b"\x1b",
    b"\x1b]0;t\x07",
    "é━".encode(),
    b"\xe2\x94",
    b"\xff",
    b"\x00\t",
    b" ",
]


@settings(PROFILE, max_examples=200)
@given(
    pieces=st.lists(st.sampled_from(PIECES), max_size=120),
    data=st.data(),
)
def test_adversarial_streams_in_random_chunks_equal_one_shot(
    pieces: list[bytes], data: st.DataObject
) -> None:
    log = b"".join(pieces)
    cuts = data.draw(st.lists(st.integers(0, len(log)), max_size=60))
    assert chunked(log, cuts) == one_shot(log)


@PROFILE
@given(blob=st.binary(max_size=4000), data=st.data())
def test_random_bytes_never_raise_and_chunking_does_not_matter(blob: bytes, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=40))
    stream = LogStream()
    previous = 0
    for cut in sorted(set(cuts)):
        stream.feed(blob[previous:cut])
        previous = cut
    stream.feed(blob[previous:])
    stream.close()
    assert state(stream) == one_shot(blob)
    assert not any("log parser error" in line for line in stream.lines())


@settings(max_examples=10, deadline=None)
@given(size=st.integers(64 * 1024 - 3, 64 * 1024 + 300), cut=st.integers(0, 70000), data=st.data())
def test_segments_over_the_cap_are_cut_the_same_way_in_any_chunking(
    size: int, cut: int, data: st.DataObject
) -> None:
    body = data.draw(st.sampled_from([b"x", b"\x08", "━".encode(), b"\x1b[1m"]))
    log = (
        b"[0]<stdout>:"
        + (body * size)[:size]
        + data.draw(st.sampled_from([b"\r", b"\n", b"\r\n", b""]))
        + b"ok\n"
    )
    assert chunked(log, [cut % (len(log) + 1)]) == one_shot(log)
