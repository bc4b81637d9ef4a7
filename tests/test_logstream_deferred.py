"""A stream's `\\r` rewrites are read only when needed, with the state of reading each at once.

The parser keeps each run of a stream's rewrites unread until a line of that stream, a line of its rank that
says something, or the end of a block reads it, and then searches the runs newest first, only as far as the
last progress update. These pin the cases where an older run still matters (its update was not overwritten by
a newer run of the same stream) and where a run of one segment is only backspaces, one-shot and byte by byte;
and the readings of "Epoch N/M" lines, remembered per text, stay exact and bounded.
"""

from __future__ import annotations

from tests.test_logstream_chunking import chunked, one_shot
from tui.core.logstream import LogStream

BAR = b" 5/10 [==============>...............] - ETA: 1s - loss: 0.5000"


def feed(data: bytes) -> LogStream:
    stream = LogStream()
    stream.feed(data)
    return stream


def test_an_older_runs_update_counts_when_the_newer_run_has_only_text() -> None:
    data = (
        b"[0]<stdout>:Epoch 1/2\n"
        + b"[0]<stdout>:"
        + BAR
        + b"\r[1]<stdout>:first\n"
        + b"[0]<stdout>:writing a checkpoint\r[1]<stdout>:second\n"
    )
    stream = feed(data)
    assert stream.ranks["0"].step == 5 and stream.ranks["0"].steps == 10
    assert stream.ranks["0"].metrics == {"loss": 0.5}
    assert stream.partial_lines() == {"0": "writing a checkpoint"}
    assert stream.lines("1") == ["first", "second"]
    assert chunked(data, list(range(len(data)))) == one_shot(data)


def test_a_run_of_backspaces_keeps_the_bar_before_it() -> None:
    data = b"[0]<stdout>:Epoch 1/2\n[0]<stdout>:" + BAR + b"\r[0]<stdout>:\x08\x08\x08\x08\r[1]<stdout>:x\n"
    stream = feed(data)
    assert stream.ranks["0"].step == 5
    assert stream.partial_lines() == {"0": BAR.decode().rstrip()}
    assert chunked(data, list(range(0, len(data), 3))) == one_shot(data)


def test_the_newest_update_of_several_runs_is_the_one_applied() -> None:
    later = BAR.replace(b" 5/10", b" 7/10").replace(b"0.5000", b"0.4000")
    data = (
        b"[0]<stdout>:Epoch 1/2\n"
        + b"[0]<stdout>:"
        + BAR
        + b"\r[1]<stdout>:a\n"
        + b"[0]<stdout>:"
        + later
        + b"\r[0]<stdout>:\r[1]<stdout>:b\n"
    )
    stream = feed(data)
    assert (stream.ranks["0"].step, stream.ranks["0"].metrics) == (7, {"loss": 0.4})
    assert stream.partial_lines() == {"0": later.decode().rstrip()}
    # The line that ends the rank's epoch reads the pending update first, as before.
    stream.feed(b"[0]<stdout>:Epoch 2/2\n")
    assert stream.ranks["0"].epoch == 2 and stream.ranks["0"].metrics == {"loss": 0.4}


def test_epoch_lines_read_through_the_remembered_readings_stay_exact_and_bounded() -> None:
    from tui.core.logstream import progress

    stream = LogStream()
    stream.feed(b"".join(b"[0]<stdout>:Epoch %d/3000\n" % n for n in range(1, 3001)))
    stream.feed(b"[0]<stdout>:Epoch 7/3000" + b" " * 100 + b"\n")  # a long text: read, not remembered
    assert (stream.ranks["0"].epoch, stream.ranks["0"].epochs) == (7, 3000)
    assert len(progress._EPOCHS) <= progress._MAX_EPOCHS
    assert all(len(text) <= progress._MAX_EPOCH_TEXT for text in progress._EPOCHS)
    stream.feed(b"[1]<stdout>:Epoch 2/3000\n")  # remembered from rank 0's line, read for rank 1
    assert (stream.ranks["1"].epoch, stream.ranks["1"].epochs) == (2, 3000)


def test_a_finished_bar_line_supersedes_the_ranks_pending_updates_on_both_streams() -> None:
    # Rank 0's stderr left an update at step 3 pending; its stdout then finishes a line at step 5 (not final).
    data = (
        b"[0]<stdout>:Epoch 1/2\n"
        + b"[0]<stderr>:"
        + BAR.replace(b" 5/10", b" 3/10")
        + b"\r[0]<stdout>:"
        + BAR.replace(b" 5/10", b" 4/10")
        + b"\r[0]<stdout>:"
        + BAR
        + b"\n"
    )
    stream = feed(data)
    progress = stream.ranks["0"]
    assert (progress.step, progress.steps, progress.metrics) == (5, 10, {"loss": 0.5})
    assert stream.partial_lines() == {"0": BAR.replace(b" 5/10", b" 3/10").decode()}
    assert chunked(data, list(range(len(data)))) == one_shot(data)
