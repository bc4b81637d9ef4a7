"""The parser's shortcuts give what the plain way gives: bars read through remembered layouts, many ranks.

A progress bar's parts are found once per shape of text (digits read as "0") and then read by position
(`bars._Layout`); with more than 8 prefixed streams a run is still read by prefix counts, the streams of the
latest runs tried first. These check both against the plain reading, on every bar of the real logs and on a
log of 40 ranks in random chunks.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from tests.test_logstream_chunking import chunked, one_shot
from tui.core.logstream.bars import _BAR, _ELAPSED, _ETA, _METRIC, _PER_STEP, _Bar, _bar_layout

LOGS = Path(__file__).parent / "data" / "logs"
_RENAMES = {"acc": "accuracy", "val_acc": "val_accuracy"}
_UNITS = {b"us": 1e-6, b"ms": 1e-3, b"s": 1.0}


def plain_reading(text: bytes) -> tuple:
    """What a bar says, read with the regexes alone (the parser's reading before layouts)."""
    match = _BAR.match(text)
    assert match is not None
    rest = match.end()
    step = int(match.group(1))
    steps = None if match.group(2) == b"Unknown" else int(match.group(2))
    final = steps is not None and step >= steps and b"ETA: " not in text
    final = final and text[rest : rest + 1] == b" " and bool(text[rest:].strip())
    metrics: dict[str, float] = {}
    for name, value in _METRIC.findall(text, rest):
        metrics[_RENAMES.get(name.decode(), name.decode())] = float(value)
    metrics.pop("ETA", None)
    at = text.find(b"ETA: ", rest)
    eta = _ETA.match(text, at + 5) if at >= 0 else None
    eta_b = eta.group(1) if eta else None
    done = steps is not None and step >= steps
    if eta_b is None and not done:
        eta_b = match.group(3)
    eta_s = None
    if eta_b is not None:
        eta_s = 0.0
        for part in eta_b.split(b":"):
            eta_s = eta_s * 60 + int(part)
    elif done:
        eta_s = 0.0
    sps = None
    at = text.find(b"/step", rest)
    if at < 0:
        at = text.find(b"/sample", rest)
    per_step = _PER_STEP.search(text, max(rest, at - 24), at + 7) if at >= 0 else None
    if per_step is not None:
        seconds = float(per_step.group(1)) * _UNITS[per_step.group(2)]
        sps = 1.0 / seconds if seconds > 0 else None
    elif eta_s and steps is not None and not done:
        sps = (steps - step) / eta_s
    elif done:
        elapsed = _ELAPSED.match(text, rest)
        if elapsed is not None and int(elapsed.group(1)) > 0:
            sps = step / int(elapsed.group(1))
    return step, steps, final, metrics, eta_s, sps


def bar_texts() -> list[bytes]:
    """Every segment of the real logs that is a progress bar (after its prefix and backspaces)."""
    found = set()
    for path in sorted(LOGS.glob("*.log")):
        for segment in re.split(rb"[\r\n]", path.read_bytes()):
            text = segment.rpartition(b">:")[2].strip(b"\x08")
            if _BAR.match(text):
                found.add(text)
    return sorted(found)


def test_bars_read_through_layouts_say_what_the_regexes_say() -> None:
    texts = bar_texts()
    assert len(texts) > 200  # the real logs hold bars of Keras 2 and 3, tf.keras, verbose 1 and 2
    # Texts of the same shape with other digits (and a digit more or less) read right from one layout.
    texts += [re.sub(rb"\d", lambda d: str((int(d.group()) + 3) % 10).encode(), t) for t in texts]
    texts += [t.replace(b"0.", b"10.", 1) for t in texts]
    for text in texts:
        if not _BAR.match(text):
            continue
        layout = _bar_layout(text)
        assert layout is not None
        bar = _Bar(text, layout, completed=True)
        assert (bar.step, bar.steps, bar.final, *bar.details()) == plain_reading(text), text


def spread(run: bytes, copy: int, ranks: int) -> bytes:
    first, second = (2 * copy) % ranks, (2 * copy + 1) % ranks
    run = run.replace(b"[0]<std", b"[\x00A]<std").replace(b"[1]<std", b"[\x00B]<std")
    return run.replace(b"[\x00A]<std", b"[%d]<std" % first).replace(b"[\x00B]<std", b"[%d]<std" % second)


def test_many_ranks_in_random_chunks_equal_one_shot() -> None:
    run = (LOGS / "horovodrun-np2-sample.log").read_bytes()
    log = b"".join(spread(run, copy, 40) for copy in range(24))  # 40 ranks, 80 streams, repeats included
    rng = random.Random(12)
    expected = one_shot(log)
    assert len(expected[1]) == 40
    for _ in range(3):
        assert chunked(log, [rng.randrange(len(log)) for _ in range(30)]) == expected
