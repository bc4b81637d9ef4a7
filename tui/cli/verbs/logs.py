"""`bai logs summarize FILE|-`: what a training log says, per worker, at a glance or as JSON.

It reads any training output the console's log pane reads (horovodrun, mpirun --tag-output, plain Keras 2
or 3, verbose 1 or 2) through `tui.core.logstream`, in chunks, so a log of any size takes bounded memory. No
backend is involved: point it at a downloaded stdout.txt, or pipe `bai job file stream ...` into it.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO, TYPE_CHECKING, Any

from tui.cli.output import add_output_arguments, emit, render_table
from tui.cli.verbs._common import noun
from tui.core import settings
from tui.core.errors import BaiError

if TYPE_CHECKING:
    from tui.core.logstream import LogStream

_CHUNK = 1024 * 1024
_FIRST_METRICS = ("loss", "accuracy")


def register(subparsers: Any) -> None:
    verbs = noun(subparsers, "logs", "training logs: read what a job's output says")
    help_text = "summarize a training log: epochs, steps and metrics per worker, test result, failed workers"
    parser = verbs.add_parser("summarize", help=help_text, description=help_text)
    parser.add_argument(
        "file", metavar="FILE", help="the log (stdout.txt, a horovodrun log ...), or - for stdin"
    )
    add_output_arguments(parser)
    for action in parser._actions:
        if action.dest == "output":
            action.help = "output format (default: table, or $BAI_OUTPUT; json with --query)"
    parser.set_defaults(handler=_summarize)


def _summarize(args: argparse.Namespace) -> int:
    from tui.core.logstream import LogStream

    stream = LogStream()
    if args.file == "-":
        _read_into(stream, sys.stdin.buffer)
    else:
        try:
            with open(args.file, "rb") as source:
                _read_into(stream, source)
        except FileNotFoundError:
            raise BaiError(
                f"{args.file}: no such file: give the path of a training log, or - for stdin"
            ) from None
        except IsADirectoryError:
            raise BaiError(f"{args.file}: is a directory: give the path of a training log file") from None
        except PermissionError:
            raise BaiError(f"{args.file}: permission denied: check the file's permissions") from None
    stream.close()
    # A person runs this to read the table; scripts say -o json (or set BAI_OUTPUT, or --query).
    output = args.output or settings.output_format() or ("json" if args.query else "table")
    if output == "table" and not args.query:
        sys.stdout.write(render_summary(stream))
    else:
        emit(stream.summary(), output, args.query)
    return 0


def _read_into(stream: Any, source: IO[bytes]) -> None:
    while chunk := source.read(_CHUNK):
        stream.feed(chunk)


def render_summary(stream: LogStream) -> str:
    """The table: one row per worker now, the epoch history, the test result, the failed workers."""
    summary = stream.summary()
    ranks: dict[str, dict[str, Any]] = summary["ranks"]
    parts: list[str] = []
    shown = {
        rank: info for rank, info in ranks.items() if info["epoch"] is not None or info["step"] is not None
    }
    if shown:
        names = _metric_names([info["metrics"] for info in shown.values()])
        rows = []
        for rank, info in shown.items():
            row = {
                "Rank": rank,
                "Epoch": _fraction(info["epoch"], info["epochs"]),
                "Step": _fraction(info["step"], info["steps"]),
            }
            row.update({_title(name): _number(info["metrics"].get(name)) for name in names})
            progress = stream.ranks[rank]
            row["Steps/s"] = f"{progress.steps_per_second:.1f}" if progress.steps_per_second else ""
            row["ETA"] = _duration(progress.eta_seconds)
            if progress.workers > 1:
                row["Workers"] = f"{progress.workers} interleaved"
            rows.append(row)
        parts.append(render_table(rows))
    history_rank = next((rank for rank, info in ranks.items() if info["history"]), None)
    if history_rank is not None:
        history = ranks[history_rank]["history"]
        names = _metric_names(history)
        rows = [
            {"Epoch": str(entry["epoch"])} | {_title(n): _number(entry.get(n)) for n in names}
            for entry in history
        ]
        others = any(info["history"] for rank, info in ranks.items() if rank != history_rank)
        title = "Epochs" if history_rank == "-" else f"Epochs of rank {history_rank}"
        if others:
            title += " (-o json has every rank's)"
        parts.append(title + "\n" + render_table(rows))
    test = summary["test"]
    if test is not None:
        parts.append(
            f"Test loss: {_number(test['loss']) or '-'}   Test accuracy: {_number(test['accuracy']) or '-'}\n"
        )
    for failure in summary["failed"]:
        parts.append(f"FAILED: rank {failure['rank']} exited with code {failure['exit_code']}\n")
    if not parts:
        return "No training progress found in this log.\n"
    return "\n".join(parts)


def _metric_names(dicts: list[dict[str, Any]]) -> list[str]:
    """loss and accuracy first, then other training metrics, then their val_ counterparts."""
    seen: list[str] = []
    for entry in dicts:
        for name in entry:
            if name != "epoch" and name not in seen:
                seen.append(name)
    train = [n for n in seen if not n.startswith("val_")]
    train.sort(key=lambda n: _FIRST_METRICS.index(n) if n in _FIRST_METRICS else len(_FIRST_METRICS))
    val = [n for n in seen if n.startswith("val_")]
    val.sort(key=lambda n: train.index(n[4:]) if n[4:] in train else len(train))
    return train + val


def _title(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _fraction(value: int | None, total: int | None) -> str:
    if value is None:
        return "-"
    return f"{value}/{total}" if total is not None else str(value)


def _duration(seconds: float | None) -> str:
    from tui.core.format import duration

    return "" if seconds is None else duration(seconds)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.4e}"
    return f"{value:.4f}"
