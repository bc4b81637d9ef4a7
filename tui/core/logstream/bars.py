"""Keras progress bars and the other lines that say something: patterns, and a bar read lazily.

Patterns are bytes regexes applied to whole segments; a progress update's metrics, ETA and speed are only
parsed when someone looks (`_Bar.details`), since most updates are overwritten first.
"""

from __future__ import annotations

import re
from operator import itemgetter

_NUM = rb"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf"
# A Keras progress bar: "N/M" or "N/Unknown" followed by a Keras 2 bar, a Keras 3 bar (U+2501, then
# its unlabelled ETA), " -" (verbose 2, or Keras 2 with an unknown number of steps) or a time (Keras
# 3, unknown steps). The match is all it takes to be a progress update; the rest is read leniently.
_BAR = re.compile(
    rb"\s*(\d{1,12})/(\d{1,12}|Unknown)"
    rb"(?: \[[=>.]*\]| (?:\xe2\x94\x81)+(?: (\d{1,9}(?::\d\d){0,2})s?(?= ))?| -| +(?=\d))"
)
# What follows the bar: "name: value" metrics, "ETA: 1:02", "32ms/step" ("981us/sample" where tf.keras 1.x/2.0
# counted samples), the epoch's time ("- 2s -" where no per-step time is printed). A value may run into a
# message printed onto the same line (Keras 2.0's "acc: 0.8120Epoch 00000: val_loss improved", TF's
# "accuracy: 0.4297WARNING:tensorflow:..."): a capital letter right after a value starts something else.
# Names may hold hyphens (keras.io's "top5-acc", "val_top-5-accuracy"): "top5-acc" is not "acc".
_METRIC = re.compile(rb"(\w[\w-]*): (" + _NUM + rb")(?:(?![\w.:])|(?=[A-Z]))")
_ETA = re.compile(rb"(\d{1,9}(?::\d\d){0,2})")
_PER_STEP = re.compile(rb"(\d+(?:\.\d+)?)(us|ms|s)/(?:step|sample)")
_ELAPSED = re.compile(rb"(?: -)? (\d{1,9})s(?= |\Z)")
# Keras 2.0-2.2 verbose=2 end an epoch without a count: "3083s - loss: ..." (2.0), " - 151s - loss: ..."
# (2.1/2.2).
_SUMMARY = re.compile(rb"\s*(?:- )?\d{1,9}s - (?=\w+: )")
# Open MPI on a rank killed by a signal (its only word when the OOM killer takes a rank):
# "mpirun noticed that process rank 2 with PID 4257 on node n1 exited on signal 9 (Killed)."
_MPI_SIGNAL = re.compile(
    rb"\s*\S{0,40} noticed that process rank (\d{1,9}) with PID \d+ on node \S+ exited on signal (\d{1,3})\b"
)
_EPOCH = re.compile(rb"\s*Epoch (\d{1,9})/(\d{1,9})\s*\Z")
_TEST = re.compile(rb"\s*Test (loss|accuracy|acc):\s*(" + _NUM + rb")\s*(%?)\s*\Z")  # "52.64%" is 0.5264
_PROCESS_EXIT = re.compile(rb"\s*Process (\S+) exit with status code (-?\d{1,9})\.?\s*\Z")
# Open MPI 4 names a process "[[41163,1],1]", Open MPI 5 (PRRTE) "[prterun-gpu013-1009179@1,1]": rank 1.
_PROCESS_NAME = re.compile(
    rb"\s*Process name:\s*(?:\[\[\d+,\d+\],(\d+)\]|\[[^\s\[\]@]{0,200}@\d+,(\d+)\]|(\S+))\s*\Z"
)
_EXIT_CODE = re.compile(rb"\s*Exit code:\s*(-?\d{1,9})\s*\Z")

_RENAMES = {"acc": "accuracy", "val_acc": "val_accuracy"}
# First bytes of the lines that can say something (bars, Epoch, Exit code, Test, Process, " - 151s - loss",
# "mpirun/orterun/prterun noticed ..."): the others are only kept as text.
_SAYS_SOMETHING = frozenset(b"0123456789 \t-ETPmop")
_BAR_START = frozenset(b"0123456789 \t")  # what a text that _BAR matches can start with
_UNIT_SECONDS = {b"us": 1e-6, b"ms": 1e-3, b"s": 1.0}


def _seconds(text: bytes) -> float:
    """'5:17' -> 317, '1:02:03' -> 3723, '2' -> 2."""
    total = 0
    for part in text.split(b":"):
        total = total * 60 + int(part)
    return float(total)


_NAMES: dict[bytes, str] = {}


def _name(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        text = raw.decode("ascii", "replace")
        name = _RENAMES.get(text, text)
        if len(_NAMES) < 1024:
            _NAMES[raw] = name
    return name


# A text's layout depends on which bytes are digits, not on which digits they are (every pattern here
# treats the ten alike): texts equal once each digit is read as "0" have their parts in the same places,
# so a progress bar's layout is worked out once (by the regexes) and reused for every later bar of the
# same shape (Keras prints numbers at a fixed precision: a run has a few hundred shapes), the numbers
# then read from the remembered places. Only short texts are remembered, at most _MAX_LAYOUTS of them.
_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_MAX_LAYOUTS = 4096
_MAX_LAYOUT_TEXT = 400
_LAYOUTS: dict[bytes, _Layout | None] = {}


class _Layout:
    """Where the parts of a progress bar are in its text (see `_AS_ZERO`), and what they are."""

    __slots__ = (
        "count",
        "elapsed",
        "end",
        "eta",
        "eta3",
        "eta_label",
        "name_spans",
        "names",
        "per_step",
        "step",
        "steps",
        "tail_ok",
        "unit",
        "values",
    )

    def __init__(self, match: re.Match[bytes]) -> None:
        text = match.string
        rest = self.end = match.end()
        self.step = slice(*match.span(1))
        self.steps = None if match.group(2) == b"Unknown" else slice(*match.span(2))
        self.eta_label = b"ETA: " in text
        tail = text[rest:]
        self.tail_ok = tail[:1] == b" " and bool(tail.strip())  # something follows the bar (see _Bar)
        names: list[str] = []
        name_spans: list[slice] = []
        spans: list[slice] = []
        for found in _METRIC.finditer(text, rest):
            name = _name(found.group(1))
            if name != "ETA":  # "ETA: 5" reads as a metric: it is not one (popped, as _Summary does not)
                names.append(name)
                name_spans.append(slice(*found.span(1)))
                spans.append(slice(*found.span(2)))
        self.names = tuple(names)
        # A name with a digit ("top5-acc") differs between texts of one layout ("top1-acc"): read each time.
        self.name_spans = tuple(name_spans) if any(map(_has_digit, names)) else None
        self.count = len(spans)
        self.values = itemgetter(*spans) if spans else None
        # The ETA: "ETA: 1:02" (Keras 2), else Keras 3's unlabelled one after its bar (group 3).
        self.eta: slice | None = None
        at = text.find(b"ETA: ", rest)
        if at >= 0:
            eta = _ETA.match(text, at + 5)
            self.eta = slice(*eta.span(1)) if eta else None
        eta3 = match.span(3)
        self.eta3 = slice(*eta3) if eta3[0] >= 0 else None
        self.per_step: slice | None = None
        self.unit = 0.0
        at = text.find(b"/step", rest)
        if at < 0:
            at = text.find(b"/sample", rest)
        per_step = _PER_STEP.search(text, max(rest, at - 24), at + 7) if at >= 0 else None
        if per_step is not None:
            self.per_step = slice(*per_step.span(1))
            self.unit = _UNIT_SECONDS[per_step.group(2)]
        elapsed = _ELAPSED.match(text, rest)  # "- 2s - loss": only the epoch's time
        self.elapsed = slice(*elapsed.span(1)) if elapsed is not None else None

    def metrics(self, text: bytes) -> dict[str, float]:
        if not self.count:
            return {}
        values = self.values(text)  # type: ignore[misc]
        floats = map(float, values) if self.count > 1 else (float(values),)
        names = self.names if self.name_spans is None else [_name(text[span]) for span in self.name_spans]
        return dict(zip(names, floats, strict=True))


def _has_digit(name: str) -> bool:
    return any(map(str.isdigit, name))


def _bar_layout(text: bytes) -> _Layout | None:
    """The layout of `text` when it is a progress bar (`_BAR` matches it), else None."""
    if len(text) > _MAX_LAYOUT_TEXT:
        match = _BAR.match(text)
        return _Layout(match) if match is not None else None
    key = text.translate(_AS_ZERO)
    try:
        return _LAYOUTS[key]
    except KeyError:
        pass
    match = _BAR.match(text)
    layout = _Layout(match) if match is not None else None
    if len(_LAYOUTS) >= _MAX_LAYOUTS:
        _LAYOUTS.clear()
    _LAYOUTS[key] = layout
    return layout


class _Bar:
    """One progress update. Step and steps are read at once; the rest only when it is shown.

    Most updates are overwritten by the next one before anyone looks, so the metrics, ETA and
    speed are read lazily (`details`), from the places its layout says.
    """

    __slots__ = ("completed", "final", "layout", "step", "steps", "text")

    def __init__(self, text: bytes, layout: _Layout, completed: bool) -> None:
        self.text = text
        self.layout = layout
        self.completed = completed
        step = self.step = int(text[layout.step])
        steps = self.steps = None if layout.steps is None else int(text[layout.steps])
        # A final line: all steps done, a finished line, no "ETA:" (Keras 2 shows it until the end), and
        # something after the bar ("- 7s 32ms/step ..."): interleaved workers' writes can cut a finished bar
        # from its metrics ("6/6 [======]" then another worker's "5/6 [===>.]").
        self.final = (
            completed and steps is not None and step >= steps and not layout.eta_label and layout.tail_ok
        )

    def details(self) -> tuple[dict[str, float], float | None, float | None]:
        """(metrics, eta_seconds, steps_per_second) of this update."""
        text = self.text
        layout = self.layout
        step, steps = self.step, self.steps
        metrics = layout.metrics(text)
        done = steps is not None and step >= steps
        where = layout.eta
        if where is None and not done:
            where = layout.eta3
        eta_s = _seconds(text[where]) if where is not None else 0.0 if done else None
        sps: float | None = None
        if layout.per_step is not None:
            seconds = float(text[layout.per_step]) * layout.unit
            if seconds > 0:
                sps = 1.0 / seconds
        elif eta_s and steps is not None and not done:
            sps = (steps - step) / eta_s
        elif done and layout.elapsed is not None:
            elapsed = int(text[layout.elapsed])
            if elapsed > 0:
                sps = step / elapsed
        return metrics, eta_s, sps


class _Summary:
    """An epoch's end without a count (Keras 2.0-2.2 verbose=2: " - 151s - loss: ...") read as a final bar."""

    __slots__ = ("match",)
    completed = True
    final = True
    step = None
    steps = None

    def __init__(self, match: re.Match[bytes]) -> None:
        self.match = match

    def details(self) -> tuple[dict[str, float], float | None, float | None]:
        metrics: dict[str, float] = {}
        for name_b, value_b in _METRIC.findall(self.match.string, self.match.end()):
            metrics[_NAMES.get(name_b) or _name(name_b)] = float(value_b)
        return metrics, 0.0, None
