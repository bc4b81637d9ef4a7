"""The live log's per-worker rows and epoch chart, as pure functions (no terminal needed)."""

from __future__ import annotations

import pytest

from tui.console.widgets.chart import bar_rows, fit
from tui.console.widgets.progress_rows import format_eta, layout_rows, shown_ranks, slowest_rank
from tui.core.logstream import RankProgress


def rank(name: str, epoch: int, step: int, speed: float | None = 10.0, steps: int = 20) -> RankProgress:
    return RankProgress(
        name,
        epoch=epoch,
        epochs=3,
        step=step,
        steps=steps,
        eta_seconds=65,
        metrics={"loss": 0.5, "accuracy": 0.75},
        steps_per_second=speed,
    )


def text(parts) -> str:  # type: ignore[no-untyped-def]
    return "".join(part if isinstance(part, str) else part[0] for part in parts)


def test_the_worker_behind_is_the_slowest() -> None:
    ranks = {"0": rank("0", 2, 10), "1": rank("1", 2, 4), "2": rank("2", 1, 19)}
    assert slowest_rank(ranks) == "2"


def test_level_workers_are_told_apart_by_speed_only_when_it_matters() -> None:
    assert slowest_rank({"0": rank("0", 2, 8, 11.0), "1": rank("1", 2, 8, 12.0)}) is None  # within 10%
    assert slowest_rank({"0": rank("0", 2, 8, 6.0), "1": rank("1", 2, 8, 12.0)}) == "0"
    done = {"0": rank("0", 3, 20, 6.0), "1": rank("1", 3, 20, 12.0)}
    assert slowest_rank(done) is None  # all finished together: nobody is slow any more
    assert slowest_rank({"0": rank("0", 2, 8)}) is None


@pytest.mark.parametrize("width", [100, 70, 50, 30])
def test_rows_are_aligned_and_fit_the_width(width: int) -> None:
    ranks = {"0": rank("0", 2, 8, 3.1), "1": rank("1", 2, 12, 12.5), "10": rank("10", 2, 12, 12.5)}
    rows = [text(parts) for parts in layout_rows(ranks, width, slowest_rank(ranks))]
    assert [row.split()[0] for row in rows] == ["w0", "w1", "w10"]
    assert all(len(row) <= max(width, 40) for row in rows)
    assert len({row.index("[") for row in rows}) == 1 and len({row.index("]") for row in rows}) == 1
    assert "◀" in rows[0] and all("◀" not in row for row in rows[1:])
    assert all("ep 2/3" in row and "loss 0.500" in row and "acc 0.750" in row for row in rows)
    if width >= 100:
        assert (
            " 8/20" in rows[0] and "ETA 1:05" in rows[0] and "3.1 st/s" in rows[0] and "◀ slowest" in rows[0]
        )


def test_the_bar_fills_with_the_steps() -> None:
    rows = [text(parts) for parts in layout_rows({"0": rank("0", 1, 10)}, 100, None)]
    bar = rows[0][rows[0].index("[") + 1 : rows[0].index("]")]
    assert bar.count("█") == bar.count("░")


def test_eta_reads_like_keras() -> None:
    assert [format_eta(None), format_eta(5), format_eta(65), format_eta(3725)] == [
        "--:--",
        "0:05",
        "1:05",
        "1:02:05",
    ]


def test_chart_bars_use_eighth_blocks_from_the_bottom() -> None:
    assert bar_rows([0.0, 0.75, 1.0], 0.0, 1.0, height=2) == ["  ▄ █", "  █ █"]
    assert bar_rows([0.25], 0.0, 1.0, height=1, column_width=2) == ["▂▂"]
    assert fit(list(range(30)), width=11, column_width=2) == [26, 27, 28, 29]


@pytest.mark.parametrize("slow", [True, False])
def test_rows_never_overflow_their_width(slow: bool) -> None:
    """Regression: the space after the bar was not counted, so the last column was cut with an ellipsis."""
    ranks = {"0": rank("0", 3, 19 if slow else 20, 11.0), "1": rank("1", 3, 20, 11.0)}
    assert (slowest_rank(ranks) is not None) == slow
    for width in range(40, 101):
        assert all(len(text(parts)) <= width for parts in layout_rows(ranks, width, slowest_rank(ranks)))


def test_more_workers_than_rows_show_the_first_the_slowest_and_a_count() -> None:
    names = [str(r) for r in range(20)]
    assert shown_ranks(names[:9], "3") == (names[:9], 0)  # all fit: all shown, in order
    assert shown_ranks(names, "3") == (names[:8], 12)  # the slowest among the first: 8 rows and the count
    assert shown_ranks(names, "17") == ([*names[:7], "17"], 12)  # further down: kept, as the last row
    assert shown_ranks(names, None) == (names[:8], 12)
