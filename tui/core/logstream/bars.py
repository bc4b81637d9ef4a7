"""Keras progress bars and the other lines that say something: patterns, and a bar read lazily.

Patterns are bytes regexes applied to whole segments; a progress update's metrics, ETA and speed are only
parsed when someone looks (`_Bar.details`), since most updates are overwritten first.
"""

from __future__ import annotations

import re

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


class _Bar:
    """One progress update. Step and steps are read at once; the rest only when it is shown.

    Most updates are overwritten by the next one before anyone looks, so the metrics, ETA and
    speed are parsed lazily (`details`).
    """

    __slots__ = ("completed", "final", "match", "step", "steps")

    def __init__(self, match: re.Match[bytes], completed: bool) -> None:
        self.match = match
        self.completed = completed
        step = self.step = int(match.group(1))
        steps_b = match.group(2)
        steps = self.steps = None if steps_b == b"Unknown" else int(steps_b)
        # A final line: all steps done, a finished line, no "ETA:" (Keras 2 shows it until the end).
        final = completed and steps is not None and step >= steps and b"ETA: " not in match.string
        if final:
            # Something must follow the bar ("- 7s 32ms/step ..."): interleaved workers' writes can cut a
            # finished bar from its metrics ("6/6 [======]" then another worker's "5/6 [===>.]").
            tail = match.string[match.end() :]
            final = tail[:1] == b" " and bool(tail.strip())
        self.final = final

    def details(self) -> tuple[dict[str, float], float | None, float | None]:
        """(metrics, eta_seconds, steps_per_second) of this update."""
        match = self.match
        text = match.string
        rest = match.end()
        step, steps = self.step, self.steps
        metrics: dict[str, float] = {}
        for name_b, value_b in _METRIC.findall(text, rest):
            metrics[_NAMES.get(name_b) or _name(name_b)] = float(value_b)
        metrics.pop("ETA", None)
        eta_b = None
        at = text.find(b"ETA: ", rest)
        if at >= 0:
            eta = _ETA.match(text, at + 5)
            eta_b = eta.group(1) if eta else None
        done = steps is not None and step >= steps
        if eta_b is None and not done:
            eta_b = match.group(3)  # Keras 3 shows the ETA unlabelled after its bar
        eta_s = _seconds(eta_b) if eta_b is not None else 0.0 if done else None
        sps: float | None = None
        at = text.find(b"/step", rest)
        if at < 0:
            at = text.find(b"/sample", rest)
        per_step = _PER_STEP.search(text, max(rest, at - 24), at + 7) if at >= 0 else None
        if per_step is not None:
            seconds = float(per_step.group(1)) * _UNIT_SECONDS[per_step.group(2)]
            if seconds > 0:
                sps = 1.0 / seconds
        elif eta_s and steps is not None and not done:
            sps = (steps - step) / eta_s
        elif done:
            elapsed = _ELAPSED.match(text, rest)  # "- 2s - loss": only the epoch's time
            if elapsed is not None and int(elapsed.group(1)) > 0:
                sps = step / int(elapsed.group(1))
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
