"""The parser's memory limits over all ranks: lines (the oldest of all ranks go first) and epoch history.

A long run with many workers must not grow without bound: lines are capped per rank and in total, and
history is capped for the charted rank and shared by the others. The caps are lowered here so the tests
are fast; the rule they check is the same at the real sizes (bench/logstream.py --ranks 256 measures those).
"""

from __future__ import annotations

import random

import pytest

from tui.core.logstream import LogStream
from tui.core.logstream import parser as logstream_parser


def feed_in_chunks(data: bytes, cuts: list[int], **kwargs: object) -> LogStream:
    stream = LogStream(**kwargs)  # type: ignore[arg-type]
    previous = 0
    for cut in sorted(set(cuts)):
        stream.feed(data[previous:cut])
        previous = cut
    stream.feed(data[previous:])
    stream.close()
    return stream


def expected_records(lines: list[tuple[str, str]], per_rank: int, chars: int, total: int) -> list:
    """What a reader should see: each rank's newest `per_rank` lines, then the oldest of all dropped first."""
    kept: list[tuple[str, str]] = []
    for rank, text in lines:
        kept.append((rank, text))
        mine = [i for i, (r, _) in enumerate(kept) if r == rank]
        if len(mine) > per_rank:
            del kept[mine[0]]
        while sum(len(t) for _, t in kept) > chars or len(kept) > total:
            del kept[0]
    return kept


@pytest.mark.parametrize("seed", range(6))
def test_the_oldest_lines_of_all_ranks_go_first_in_any_chunking(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logstream_parser, "MAX_TOTAL_CHARS", 300)
    monkeypatch.setattr(logstream_parser, "MAX_TOTAL_LINES", 25)
    rng = random.Random(seed)
    lines = []
    for i in range(400):
        rank = str(rng.randrange(5))
        lines.append((rank, f"line {i}:" + "x" * rng.randrange(30)))
    # Runs of plain lines of one stream (stored in bulk) and horovodrun-prefixed ones (one at a time).
    plain = b"".join(f"{text}\n".encode() for _, text in lines)
    prefixed = b"".join(f"[{rank}]<stdout>:{text}\n".encode() for rank, text in lines)
    for data, model in ((plain, [("-", text) for _, text in lines]), (prefixed, lines)):
        want = expected_records(model, per_rank=10, chars=300, total=25)
        for cuts in ([], [rng.randrange(len(data)) for _ in range(20)]):
            stream = feed_in_chunks(data, cuts, max_lines_per_rank=10)
            assert stream.records() == want


def test_history_of_many_ranks_is_capped_as_a_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logstream_parser, "MAX_HISTORY", 40)
    monkeypatch.setattr(logstream_parser, "MAX_HISTORY_TOTAL", 200)
    monkeypatch.setattr(logstream_parser, "_MIN_HISTORY", 2)
    ranks, epochs = 50, 30
    out = bytearray()
    for epoch in range(1, epochs + 1):
        for rank in range(ranks):
            out += f"[{rank}]<stdout>:Epoch {epoch}/{epochs}\n".encode()
            out += f"[{rank}]<stdout>:6/6 [====] - 1s 9ms/step - loss: {1 / epoch:.4f}\n".encode()
    stream = LogStream()
    stream.feed(bytes(out))
    stream.close()
    histories = {rank: progress.history for rank, progress in stream.ranks.items()}
    assert len(histories) == ranks
    # Rank 0 (charted) keeps its whole run up to MAX_HISTORY; the others share MAX_HISTORY_TOTAL.
    assert [entry["epoch"] for entry in histories["0"]] == list(range(1, epochs + 1))
    others = [len(history) for rank, history in histories.items() if rank != "0"]
    assert sum(others) <= 200 + ranks  # within a rank's last epoch of the shared cap
    assert all(length >= 4 for length in others)  # every rank keeps its latest epochs
    assert histories["7"][-1] == {"epoch": epochs, "loss": round(1 / epochs, 4)}
