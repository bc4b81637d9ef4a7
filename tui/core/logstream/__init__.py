"""Incremental parser for live training output: bytes in, per-rank state and events out.

The console's log pane and progress bars, and `bai logs summarize`, stand on this. It reads what
real launchers write, not only our trainer's output:

* horovodrun: every segment (text up to a ``\\r`` or ``\\n``) is prefixed ``[R]<stdout>:`` or
  ``[R]<stderr>:``, with ``--prefix-output-with-timestamp`` a date before that;
* ``mpirun --tag-output``: ``[J,R]<stdout>:`` at line starts only, so the ``\\r`` segments that follow
  belong to the same rank;
* unprefixed output: one worker (a per-rank file, plain ``python train.py``), or several workers
  interleaved in one stream as in the tutorial's ``stdout.txt``;
* Keras 2 and Keras 3 progress bars (verbose 1 and 2), with their ``\\r`` overwrites, ``\\b`` runs and
  ANSI colours; older Keras too: 2.0-2.2 ``verbose=2`` epoch lines without a count (`` - 151s - loss:``),
  tf.keras 1.x/2.0 bars counting samples (``981us/sample``), callback messages printed onto a bar;
* log collectors' forms: a logger's prefix before the launcher's tag (Airflow), SageMaker's
  ``[1,mpirank:R,algo-1]`` tags, CloudWatch's ``#015``/``#010`` escapes of ``\\r``/``\\b``;
* failure reports: horovodrun's ``Process N exit with status code C.`` and ``Process name:`` /
  ``Exit code:``, Open MPI's ``mpirun noticed that process rank N ... exited on signal S``.

Design rules, and why:

* It is a pure function of the bytes fed, in any chunking (chunks may split a prefix, a UTF-8
  character, an ANSI sequence or a ``\\b`` run): bytes are only looked at once a segment is complete,
  and everything a progress update sets is *last wins*, so parsing only the last progress update of
  each burst (what makes it fast) gives the same state as parsing every one of them.
* Work is per segment, never per byte in Python: segments are split, cleaned and searched by C code
  (``bytes.splitlines``, ``bytes.translate``, compiled regexes on whole segments).
* Memory is bounded whatever it is fed: a segment keeps at most ``MAX_SEGMENT_BYTES`` (the rest of an
  endless line is dropped), each rank keeps ``max_lines_per_rank`` lines, all ranks together at most
  ``MAX_TOTAL_CHARS`` characters, at most ``MAX_RANKS`` ranks and ``MAX_HISTORY`` epochs per rank.
* It never raises on input: garbage is text, text that does not parse is just a line.
"""

from tui.core.logstream.events import (
    UNRANKED,
    EpochEnded,
    EpochStarted,
    LineAdded,
    LogEvent,
    RankFailed,
    RankFailure,
    RankProgress,
    StepProgress,
    TestFinished,
    TestResult,
)
from tui.core.logstream.parser import MAX_HISTORY, MAX_RANKS, MAX_TOTAL_CHARS, LogStream
from tui.core.logstream.terminal import MAX_SEGMENT_BYTES

__all__ = [
    "MAX_HISTORY",
    "MAX_RANKS",
    "MAX_SEGMENT_BYTES",
    "MAX_TOTAL_CHARS",
    "UNRANKED",
    "EpochEnded",
    "EpochStarted",
    "LineAdded",
    "LogEvent",
    "LogStream",
    "RankFailed",
    "RankFailure",
    "RankProgress",
    "StepProgress",
    "TestFinished",
    "TestResult",
]
