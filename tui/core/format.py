"""How sizes, durations and rank names read, the same in the console and on the command line.

These were copied into each front end (a file size in the tree and in `bai storage file upload`'s progress, an
ETA in the progress rows and in `bai logs summarize`); one copy keeps the two from drifting apart.
"""

from __future__ import annotations


def size(count: int) -> str:
    """Bytes as a user reads them: `512 B`, `1.5 KB`, `3.2 MB`, `1.0 GB` (GB is the largest unit)."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # not reached: GB takes every larger value


def clock(seconds: float) -> str:
    """A duration on a clock: `m:ss`, or `h:mm:ss` from an hour on (negative counts as 0)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def duration(seconds: float) -> str:
    """A duration, short ones in seconds (`42s`), longer ones on a clock (`3:05`, `1:02:03`)."""
    whole = max(0, int(seconds))
    return f"{whole}s" if whole < 60 else clock(whole)


def rank_order(rank: str) -> tuple[int, int | str]:
    """Sort key for rank names: numbers in numeric order (2 before 10), then any other name (`-`) by name."""
    return (0, int(rank)) if rank.isdigit() else (1, rank)
