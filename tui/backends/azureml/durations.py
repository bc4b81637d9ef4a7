"""ISO 8601 durations, both ways: Batch AI's maxWallClockTime (`7.00:00:00`, a .NET TimeSpan) becomes Azure
ML's `limits.timeout` (`P7D`), and a compute's `nodeIdleTimeBeforeScaleDown` (`PT5M`) is read as seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_ISO = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def iso_seconds(text: str | None) -> float | None:
    """`PT5M` -> 300.0; None for anything else."""
    match = _ISO.fullmatch((text or "").strip())
    if not match or text in ("P", "PT"):
        return None
    parts = {key: float(value) for key, value in match.groupdict().items() if value}
    return parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)


def iso_duration(value: timedelta) -> str:
    """A timedelta as the shortest ISO 8601 duration: 7 days -> `P7D`, 90 minutes -> `PT1H30M`."""
    total = int(value.total_seconds())
    if total <= 0:
        return "PT0S"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    clock = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{seconds}S" if seconds else "")
    )
    return text + ("T" + clock if clock else "")
