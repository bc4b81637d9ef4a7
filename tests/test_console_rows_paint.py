"""The progress rows paint exactly what Textual's own text path paints, in every theme and width (issue 12).

`ProgressRows` builds its lines from segments whose styles are made once per repaint instead of through
Textual's text rendering (2-3 ms a repaint of 8 rows, at every redraw tick while the log is shown and at
every switch to the log tab); the cells, colours and selection offsets must be the same.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget

import themes
from tests.test_console_rows import rank
from tui.console.widgets.progress_rows import ProgressRows


class RowsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ProgressRows(id="rows")


@pytest.mark.parametrize("theme", themes.THEME_NAMES)
async def test_the_rows_paint_as_textuals_text_path_does(theme: str) -> None:
    app = RowsApp()
    for entry in themes.THEMES:
        app.register_theme(entry)
    app.theme = theme
    async with app.run_test(size=(80, 12)) as pilot:
        rows = app.query_one(ProgressRows)
        built = 0
        for width in (28, 50, 80):
            await pilot.resize_terminal(width, 12)
            for count in (1, 3, 12):  # 12: more workers than rows, a line counts the rest
                ranks = {str(r): rank(str(r), 2 - (r == 1), 5 + r) for r in range(count)}
                rows.update_ranks(ranks)
                await pilot.pause()
                for y in range(rows.size.height):
                    fast = rows.render_line(y)
                    textual = Widget.render_line(rows, y)  # Textual's own: the rows' Content, rendered
                    assert fast.cell_length == textual.cell_length
                    assert list(fast) == list(textual), (width, count, y)
                built += rows.render_line(0) is not Widget.render_line(rows, 0)
        assert built  # the fast path was taken (Textual's returns the strips it cached)
