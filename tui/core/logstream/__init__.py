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
  and everything a progress update sets is *last wins*, so reading only the last progress update of
  each burst (what makes it fast) gives the same state as reading every one of them.
* Work is per line, never per ``\\r`` rewrite or per byte in Python: a block (up to 1 MiB) is split on
  ``\\n`` by C code (``bytes.split``, or ``find`` from one ``\\n`` to the next where rewrites make lines
  long, control characters then dropped from each text read rather than from the block); of the
  ``\\r`` rewrites before a line's end only each stream's last text and last progress update are read,
  found by searching backwards (``bytes.rfind``), and only once something reads them (a line of the
  stream or of its rank, a block's end): a run overwritten by a later one first is never read; a rank's
  pending update is applied before a line of that rank that may read it (an epoch's start or end) and at
  the end of each block; runs of plain lines are decoded and stored in bulk. A stream's open line is its
  last non-empty rewrite: progress bars pad each rewrite over the one before, so that is what a terminal
  shows; a tool that wrote a shorter text over a longer one would leave the longer one's tail on a
  terminal, not here.
* Modules: ``events`` (what it reports), ``terminal`` (ANSI codes, control characters, ``\\b``),
  ``bars`` (progress bars and the lines that say something, read through a layout remembered per
  shape), ``storage`` (the lines kept), ``streams`` (per-rank state, a stream's ``\\r`` rewrites),
  ``runs`` (which stream each ``\\r`` segment of a line belongs to), ``progress`` (what a line that says
  something changes), ``parser`` (``LogStream``: bytes to lines).
* Memory is bounded whatever it is fed: a segment keeps at most ``MAX_SEGMENT_BYTES`` (the rest of an
  endless line is dropped), each rank keeps ``max_lines_per_rank`` lines, all ranks together at most
  ``MAX_TOTAL_CHARS`` characters in ``MAX_TOTAL_LINES`` lines (the oldest go first), at most
  ``MAX_RANKS`` ranks; rank 0 (the one charted) keeps ``MAX_HISTORY`` epochs, the other ranks share
  ``MAX_HISTORY_TOTAL``.
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
from tui.core.logstream.parser import (
    MAX_HISTORY,
    MAX_HISTORY_TOTAL,
    MAX_RANKS,
    MAX_TOTAL_CHARS,
    MAX_TOTAL_LINES,
    LogStream,
)
from tui.core.logstream.terminal import MAX_SEGMENT_BYTES

__all__ = [
    "MAX_HISTORY",
    "MAX_HISTORY_TOTAL",
    "MAX_RANKS",
    "MAX_SEGMENT_BYTES",
    "MAX_TOTAL_CHARS",
    "MAX_TOTAL_LINES",
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
