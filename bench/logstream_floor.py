#!/usr/bin/env python
"""How fast pure Python can read the "sample" log at all: a floor for issue 12's 200 MB/s target.

    .venv/bin/python bench/logstream_floor.py [--size-mb 50] [--runs 3] [--shape sample]

The sample shape of bench/logstream.py (tests/data/logs/horovodrun-np2-sample.log repeated) is read in 1 MiB
chunks by three deliberately incomplete parsers, each doing only the least that `LogStream` must do, and by
`LogStream` itself, alternating in the same process so that all four see the same load:

* store: split each block on \\n, keep the text after each line's last \\r, find the line's stream by its
  "[R]<stdout>:" prefix, drop the \\b, decode, keep the text in the rank's deque with its sequence number
  and make its `LineAdded` (the parser's contract: one per finished line).
* + read: also read what the lines say: `Epoch N/M` starts an epoch, a bar's final line (its layout worked
  out once per digit shape, as the parser does) ends it (once) with its metrics in the history and an event.
* + progress: also note, for every \\r run, each stream's last progress update (one backwards search per
  stream), which the console shows live.

None of them handles what real logs also need (overlays of a shorter rewrite, interleaved workers, ANSI and
control characters, mpirun's untagged lines, chunk edges inside a line, the memory limits): they are floors,
not parsers. The figure to read is "+ progress" against the target: what is left for all the rest.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from logstream import TARGETS, build_log

from tui.core.logstream import LineAdded, LogStream

_EPOCH = re.compile(rb"\s*Epoch (\d{1,9})/(\d{1,9})\s*\Z")
_BAR = re.compile(rb"\s*(\d{1,12})/(\d{1,12}) \[[=>.]*\]")
_METRIC = re.compile(rb"(\w[\w-]*): ([-+]?\d+(?:\.\d*)?)")
_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_SAYS = frozenset(b"0123456789 \t-ETPmop")


class _Layout(NamedTuple):
    step: slice
    steps: slice
    names: tuple[str, ...]
    values: tuple[slice, ...]


class _Rank:
    __slots__ = ("bar", "epoch", "history", "in_epoch", "rank", "seqs", "texts")

    def __init__(self, rank: str) -> None:
        self.rank = rank
        self.texts: deque[str] = deque(maxlen=5000)
        self.seqs: deque[int] = deque(maxlen=5000)
        self.epoch: int | None = None
        self.in_epoch = False
        self.history: list[dict[str, float | int | None]] = []
        self.bar = -1


def _layout(text: bytes) -> _Layout | None:
    bar = _BAR.match(text)
    if bar is None:
        return None
    found = list(_METRIC.finditer(text, bar.end()))
    return _Layout(
        slice(*bar.span(1)),
        slice(*bar.span(2)),
        tuple(m.group(1).decode() for m in found),
        tuple(slice(*m.span(2)) for m in found),
    )


def floor_parse(path: Path, read: bool, progress: bool) -> int:
    """One of the floors (see the module's docstring); returns the epochs ended, as a check."""
    ranks: dict[bytes, _Rank] = {}
    layouts: dict[bytes, _Layout | None] = {}
    seq = ended = 0
    tail = b""
    make = tuple.__new__
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            block = tail + chunk
            cut = block.rfind(b"\n") + 1
            tail = block[cut:]
            lines = block[:cut].split(b"\n")
            lines.pop()
            events: list[object] = []
            append = events.append
            for line in lines:
                cut = line.rfind(b"\r")
                if cut >= 0:
                    if progress:
                        run = line[:cut]
                        for head, state in ranks.items():
                            at = run.rfind(b"\r" + head + b">:")
                            if at >= 0:
                                state.bar = at
                    line = line[cut + 1 :]
                head, _, body = line.partition(b">:")
                state = ranks.get(head)
                if state is None:
                    state = ranks[head] = _Rank(head[1 : head.find(b"]")].decode())
                if body.find(b"\x08") >= 0:
                    body = body.replace(b"\x08", b"")
                text = body.decode("utf-8", "replace").rstrip()
                seq += 1
                state.texts.append(text)
                state.seqs.append(seq)
                append(make(LineAdded, (state.rank, text)))
                if not read or not body or body[0] not in _SAYS:
                    continue
                if body[0] == 69:  # "E"
                    epoch = _EPOCH.match(body)
                    if epoch is not None:
                        state.epoch = int(epoch.group(1))
                        state.in_epoch = True
                        append(("EpochStarted", state.rank, state.epoch))
                    continue
                shape = body.translate(_AS_ZERO)
                layout = layouts.get(shape, False)
                if layout is False:
                    layout = layouts[shape] = _layout(body)
                if layout is None:
                    continue
                step, steps = int(body[layout.step]), int(body[layout.steps])
                if step >= steps and state.in_epoch and body.find(b"ETA") < 0:
                    state.in_epoch = False
                    pairs = zip(layout.names, layout.values, strict=True)
                    metrics = {name: float(body[at]) for name, at in pairs}
                    state.history.append({"epoch": state.epoch, **metrics})
                    ended += 1
                    append(("EpochEnded", state.rank, state.epoch, dict(metrics)))
            for _event in events:  # the reader's loop, as bench/logstream.py's
                pass
    return ended


def parser_parse(path: Path) -> int:
    stream = LogStream()
    ended = 0
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            for event in stream.feed(chunk):
                if type(event).__name__ == "EpochEnded":
                    ended += 1
    stream.close()
    return ended


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--size-mb", type=int, default=50)
    args.add_argument("--runs", type=int, default=3)
    args.add_argument("--shape", default="sample", choices=["sample", "long"])
    options = args.parse_args()
    readers = {
        "store": lambda path: floor_parse(path, read=False, progress=False),
        "+ read": lambda path: floor_parse(path, read=True, progress=False),
        "+ progress": lambda path: floor_parse(path, read=True, progress=True),
        "LogStream": parser_parse,
    }
    with tempfile.TemporaryDirectory(prefix="bai-bench-floor-") as folder:
        log = build_log(options.shape, options.size_mb, 2, Path(folder))
        size = log.stat().st_size / 1e6
        best: dict[str, float] = {}
        ended: dict[str, int] = {}
        for _ in range(options.runs):
            for name, reader in readers.items():
                start = time.process_time()
                ended[name] = reader(log)
                rate = size / (time.process_time() - start)
                best[name] = max(best.get(name, 0.0), rate)
    target = TARGETS[options.shape]
    print(f"{options.shape}: {size:.0f} MB, best of {options.runs} runs, CPU MB/s (target {target})")
    for name, rate in best.items():
        print(f"  {name:<11} {rate:6.0f} MB/s  ({ended[name]} epoch ends)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
