"""Plain `print` logs (no \\r, no prefixes): each line reported once, as a terminal shows it, in any chunking.

A plain block is stored in bulk (`_plain`, `_store_texts`): lines that end with white space are stripped
only when some do, a block whose lines all start above "T" skips the search for lines that say something,
and the characters kept are counted from the block's length. These check the events and the counts against
the lines themselves, whatever the chunking and the per-rank limit.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.logstream import EpochEnded, LineAdded, LogStream

# Kinds of line a script prints: the short lines of the bench, white space at the end, blank lines, lines
# that say something (or start like one), non-ASCII text and bytes that are not UTF-8.
LINES = [
    b"it 1234: loss=0.1234 acc=0.9876 lr=1e-3",
    b"it 7: loss=0.5  ",
    b"step\t",
    b"step \t ",
    b"",
    b"   ",
    b"\t",
    b"[INFO] saved",
    b"Uploading",
    b"Training on 2 workers",
    b"Epoch 1/3",
    b"Epoch 2/3 ",
    b"Test loss: 0.25",
    b"Test accuracy: 0.9",
    b"1/1 [==============================] - 0s 3ms/step - loss: 0.5000",
    b" leading space",
    b"- dash",
    b"a\tb",
    "\u00fcber gr\u00fcn ".encode(),
    "caf\u00e9\u00a0".encode(),
    b"bad \xe2\x82 bytes",
    b"x\xff",
]

PROFILE = settings(max_examples=80, deadline=None)


def feed_all(data: bytes, cuts: list[int], max_lines: int) -> LogStream:
    stream = LogStream(max_lines_per_rank=max_lines)
    events = []
    previous = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += stream.feed(data[previous:cut])
        previous = cut
    events += stream.close()
    stream.events_seen = events  # type: ignore[attr-defined]
    return stream


@PROFILE
@given(
    st.lists(st.sampled_from(LINES), min_size=1, max_size=60),
    st.lists(st.integers(min_value=0, max_value=4000), max_size=8),
    st.sampled_from([3, 7, 5000]),
)
def test_plain_lines_are_reported_stripped_in_any_chunking(
    lines: list[bytes], cuts: list[int], keep: int
) -> None:
    data = b"\n".join(lines) + b"\n"
    cuts = [cut % (len(data) + 1) for cut in cuts]
    stream = feed_all(data, cuts, keep)
    whole = feed_all(data, [], keep)
    expected = [line.decode("utf-8", "replace").rstrip() for line in lines]
    reported = [event for event in stream.events_seen if type(event) is LineAdded]  # type: ignore[attr-defined]
    assert [event.text for event in reported] == expected
    assert reported == [event for event in whole.events_seen if type(event) is LineAdded]  # type: ignore[attr-defined]
    assert all(LineAdded("-", text) in stream.events_seen for text in expected)  # type: ignore[attr-defined]
    assert stream.lines("-") == expected[-keep:]
    assert stream._chars == sum(map(len, expected[-keep:]))  # the total the limits are kept by
    assert stream._kept == len(expected[-keep:])


def test_a_block_of_lower_case_lines_with_an_epoch_line_reads_the_epoch() -> None:
    """The least line decides: one line that says something among many plain ones is still read."""
    stream = LogStream()
    lines = [b"it %d: loss=0.5" % i for i in range(2000)]
    lines[1500] = b"Epoch 1/3"
    lines[1700] = b"12/12 [==============================] - 1s 5ms/step - loss: 0.2500 - accuracy: 0.9000"
    events = stream.feed(b"\n".join(lines) + b"\n")
    progress = stream.ranks["-"]
    assert (progress.epoch, progress.epochs) == (1, 3)
    assert progress.history == [{"epoch": 1, "loss": 0.25, "accuracy": 0.9}]
    assert [type(event) for event in events].count(EpochEnded) == 1
    assert sum(type(event) is LineAdded for event in events) == 2000


def test_a_control_character_far_into_a_large_block_is_dropped() -> None:
    """The block is searched for control characters a window at a time: one past the first window counts."""
    lines = [b"it %d: loss=0.5" % i for i in range(40_000)]  # about 700 KB: three windows
    lines[-3] = b"it done\x07 (bell)"
    stream = LogStream()
    events = stream.feed(b"\n".join(lines) + b"\n")
    assert LineAdded("-", "it done (bell)") in events
    assert stream.lines("-")[-3] == "it done (bell)"
