"""The live log: a job's stdout.txt through the log parser, as per-worker rows, a chart and cleaned text.

Bytes are fed to `tui.core.logstream.LogStream` as they arrive; the screen is redrawn at most ten times a
second from the parser's state, so eight workers writing twenty progress updates a second never starve
key presses.
Opening a finished job replays the whole file, opening a running one replays it and then follows it, so both
show the same rows and chart. The text lives in a `Log` with a line limit, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import ClassVar

from textual import events, on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Input, Log, Static

from tui.console.widgets.chart import EpochChart
from tui.console.widgets.keys import key_of
from tui.console.widgets.progress_rows import ProgressRows
from tui.core.logstream import EpochEnded, EpochStarted, LineAdded, LogStream, RankProgress, StepProgress

MAX_LOG_LINES = 5000
FEED_SLICE = 64 * 1024  # bytes parsed between yields to the event loop
REDRAW_SECONDS = 0.1

# Makes a fresh byte source (so the stream can be reopened, e.g. stdout after stderr).
SourceFactory = Callable[[str], AsyncIterator[bytes]]


def history_of(ranks: dict[str, RankProgress]) -> list[dict]:
    """The end-of-epoch history to chart: rank 0's (it has the validation metrics), else the longest."""
    if not ranks:
        return []
    if "0" in ranks and ranks["0"].history:
        return ranks["0"].history
    return max((rank.history for rank in ranks.values()), key=len)


def format_line(event: LineAdded) -> str:
    return event.text if event.rank in ("-", "", None) else f"[{event.rank}] {event.text}"


class TailLog(Log):
    """The log's text, kept at its last line while following, whatever changes its height.

    `Log` scrolls to its end only when it is written to. The panes above it grow as a run goes on (the
    title wraps when the job ends, the progress rows and the chart appear) and the terminal may be resized:
    each time the text lost rows at the bottom and the last lines (the test accuracy) sat below the view.
    """

    def on_resize(self, event: events.Resize) -> None:
        if self.auto_scroll:
            self.call_after_refresh(self._to_end)

    def _to_end(self) -> None:
        if self.auto_scroll and self.is_attached:
            self.scroll_end(animate=False, immediate=True)


class LiveLog(Vertical):
    """Progress rows, the epoch chart, and the cleaned text with follow/pause and `/` search."""

    DEFAULT_CSS = """
    LiveLog { height: 1fr; }
    /* wraps rather than cut: a failed worker's exit code is at its end */
    LiveLog #log-title { height: auto; max-height: 3; text-style: bold; padding: 0 1; background: $panel; }
    LiveLog ProgressRows { padding: 0 1; }
    LiveLog EpochChart { padding: 0 1; height: 6; }
    LiveLog #log-search { display: none; }
    LiveLog #log-search.-visible { display: block; }
    LiveLog Log { height: 1fr; min-height: 3; border-top: solid $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close_search", "Back", id="log.close_search"),  # search, then the tree
    ]

    following: reactive[bool] = reactive(True)
    file_name: reactive[str] = reactive("stdout.txt")

    def __init__(self, *, id: str | None = None, max_lines: int = MAX_LOG_LINES) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines
        self.stream = LogStream()
        self.source_factory: SourceFactory | None = None
        self.main_file = "stdout.txt"  # the file shown, parsed and followed (x switches to stderr.txt)
        self.job_title = "no job selected: pick a job in the tree and press Enter"
        self.job_state = ""
        self.job_note = ""  # why a queued job waits, say
        self.finished = False
        self.error: str | None = None
        self.bytes_read = 0
        self.stdout_lines: deque[str] = deque(maxlen=max_lines)
        self._pending: deque[str] = deque(maxlen=max_lines)
        self._dirty = False
        # What the next redraw must repaint besides the text: progress events since the last one are
        # coalesced into one repaint of the rows (and of the chart after an epoch's end) per frame.
        self._rows_dirty = False
        self._chart_dirty = False
        self._shown_note = ""
        self._search_term = ""
        self._shown_title = ""
        self._search_from = -1

    def compose(self) -> ComposeResult:
        yield Static(self.job_title, id="log-title", markup=False)
        yield ProgressRows(id="progress")
        yield EpochChart(id="chart")
        yield Input(
            placeholder="search the log (Enter: next match, Esc: close)", id="log-search", compact=True
        )
        yield TailLog(max_lines=self.max_lines, id="log-text", auto_scroll=True)

    def on_mount(self) -> None:
        self.set_interval(REDRAW_SECONDS, self._redraw)

    @property
    def text(self) -> Log:
        return self.query_one("#log-text", Log)

    # ------------------------------------------------------------------------------------------ sources

    def open_source(
        self, factory: SourceFactory, title: str, state: str = "", main_file: str = "stdout.txt"
    ) -> None:
        """Show a new stream from the start (`main_file`, stdout.txt unless another output file of the job
        is viewed); replaces whatever was shown. x switches between it and stderr.txt."""
        self.workers.cancel_group(self, "live-log")
        self.source_factory = factory
        self.job_title = title
        self.job_state = state
        self.job_note = ""
        # A new job's log follows from its start: a search paused the last one, not this one.
        self._search_term, self._search_from = "", -1
        self.following = True
        self.stream = LogStream()
        self.finished = False
        self.error = None
        self.bytes_read = 0
        self.stdout_lines.clear()
        self._pending.clear()
        self.main_file = main_file
        self.file_name = main_file
        self.text.clear()
        self.query_one(ProgressRows).update_ranks({}, "waiting for the first progress bar…")
        self.query_one(EpochChart).set_history([])
        self._shown_note = "waiting for the first progress bar…"
        self._rows_dirty = self._chart_dirty = False
        self._dirty = True
        self._follow_stdout(factory)

    def set_state(self, state: str, note: str = "") -> None:
        """The job's state word for the title, and what it is waiting for (`note`, "" when nothing)."""
        if (state, note) != (self.job_state, self.job_note):
            self.job_state, self.job_note = state, note
            self._dirty = True

    @work(exclusive=True, group="live-log", exit_on_error=False)
    async def _follow_stdout(self, factory: SourceFactory) -> None:
        stream = self.stream
        try:
            async for chunk in factory(self.main_file):
                self.bytes_read += len(chunk)
                for start in range(0, len(chunk), FEED_SLICE):
                    self._take(stream.feed(chunk[start : start + FEED_SLICE]), to_screen=True)
                    await asyncio.sleep(0)
            self._take(stream.close(), to_screen=True)
            self.finished = True
        except asyncio.CancelledError:
            raise
        except Exception as error:  # BaiError says what to do; anything else must not reach the screen raw
            self.error = _describe(error, self.main_file, key_of(self.app, "bai.refresh", "r"))
            self.app.notify(self.error, title="Live log", severity="error")
        self._dirty = True

    @work(exclusive=True, group="live-log-stderr", exit_on_error=False)
    async def _follow_stderr(self, factory: SourceFactory) -> None:
        cleaner = LogStream()
        try:
            async for chunk in factory("stderr.txt"):
                for start in range(0, len(chunk), FEED_SLICE):
                    self._take_stderr(cleaner.feed(chunk[start : start + FEED_SLICE]))
                    await asyncio.sleep(0)
            self._take_stderr(cleaner.close())
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.app.notify(
                _describe(error, "stderr.txt", key_of(self.app, "bai.refresh", "r")),
                title="Live log",
                severity="error",
            )

    def _take(self, events: list, to_screen: bool) -> None:
        for event in events:
            kind = type(event)
            if kind is LineAdded:
                line = format_line(event)
                self.stdout_lines.append(line)
                if self.file_name == self.main_file:
                    self._pending.append(line)
            elif kind is StepProgress or kind is EpochStarted:
                self._rows_dirty = True
            elif kind is EpochEnded:
                self._rows_dirty = self._chart_dirty = True
        if events:
            self._dirty = True

    def _take_stderr(self, events: list) -> None:
        if self.file_name != "stderr.txt":
            return
        for event in events:
            if isinstance(event, LineAdded):
                self._pending.append(format_line(event))

    def _redraw(self) -> None:
        if self._pending:
            lines = list(self._pending)
            self._pending.clear()
            self.text.write_lines(lines)
        if not self._dirty:
            return
        self._dirty = False
        note = "no training progress yet" if self.finished else "waiting for the first progress bar…"
        # Every rank's newest progress, once per frame (REDRAW_SECONDS) however many updates came in it;
        # the chart (which reads the whole history) only after an epoch ended.
        if self._rows_dirty or note != self._shown_note:
            self._rows_dirty = False
            self._shown_note = note
            self.query_one(ProgressRows).update_ranks(self.stream.ranks, note)
        if self._chart_dirty:
            self._chart_dirty = False
            self.query_one(EpochChart).set_history(history_of(self.stream.ranks))
        title = self.title_text()
        if title != self._shown_title:
            self._shown_title = title
            self.query_one("#log-title", Static).update(title)

    def title_text(self) -> str:
        resume = key_of(self.app, "bai.follow", "p")
        parts = [
            self.job_title,
            self.file_name,
            "following" if self.following else f"paused ({resume} resumes)",
        ]
        if self.job_state:
            parts.append(self.job_state)
        if self.job_note:
            parts.append(self.job_note)
        if self.stream.test is not None and self.stream.test.accuracy is not None:
            parts.append(f"test acc {self.stream.test.accuracy:.4f}")
        if self.stream.failed:
            parts.append("✘ " + ", ".join(f"worker {f.rank} exit {f.exit_code}" for f in self.stream.failed))
        if self.error:
            parts.append("✘ stream stopped")
        elif self.finished:
            parts.append("end of file")
        return " · ".join(parts)

    # ------------------------------------------------------------------------------------------ actions

    def toggle_stderr(self) -> None:
        """Switch the text between stdout.txt and stderr.txt; the progress rows keep following stdout."""
        if self.source_factory is None:
            self.app.notify("Pick a job in the tree first (Enter on a job)", severity="warning")
            return
        self.text.clear()
        self._pending.clear()
        if self.file_name == self.main_file:
            self.file_name = "stderr.txt"
            self._follow_stderr(self.source_factory)
        else:
            self.workers.cancel_group(self, "live-log-stderr")
            self.file_name = self.main_file
            self._pending.extend(self.stdout_lines)
        self._dirty = True

    def toggle_follow(self) -> None:
        self.following = not self.following

    def on_resize(self) -> None:
        # Log scrolls to its end only when it is written to: after the terminal shrinks (or the tab comes
        # back) a finished or quiet log would sit wherever it was, though the title says "following".
        if self.following:
            self.call_after_refresh(self._keep_at_end)

    def _keep_at_end(self) -> None:
        if self.following and self.is_attached:
            self.text.scroll_end(animate=False, immediate=True)

    def watch_following(self, following: bool) -> None:
        if not self.is_mounted:
            return
        self.text.auto_scroll = following
        if following:
            self.text.scroll_end(animate=False)
        self._dirty = True

    def begin_search(self) -> None:
        search = self.query_one("#log-search", Input)
        search.add_class("-visible")
        search.focus()

    def action_close_search(self) -> None:
        """Esc goes back one level: out of the search into the text; from the text, on to the screen's Esc."""
        search = self.query_one("#log-search", Input)
        if not search.has_class("-visible"):
            raise SkipAction()  # the next Esc binding up (the screen's: back to the tree) takes it
        search.remove_class("-visible")
        self.text.focus()

    @on(Input.Submitted, "#log-search")
    def _search(self, event: Input.Submitted) -> None:
        event.stop()
        self.find(event.value)

    def find(self, term: str) -> int | None:
        """Scroll to the next line containing `term` (case-insensitive); pauses following. None if absent."""
        term = term.strip()
        if not term:
            return None
        if term != self._search_term:
            self._search_term, self._search_from = term, -1
        lines = self.text.lines
        needle = term.lower()
        count = len(lines)
        for offset in range(1, count + 1):
            index = (self._search_from + offset) % count
            if needle in lines[index].lower():
                self._search_from = index
                self.following = False
                self.text.scroll_to(y=index, animate=False)
                matches = sum(1 for line in lines if needle in line.lower())
                self.app.notify(f"line {index + 1}: {lines[index]}", title=f"{matches} match(es)", timeout=3)
                return index
        self.app.notify(f"{term!r} is not in the last {count} lines", severity="warning", timeout=3)
        return None


def _describe(error: Exception, name: str, refresh: str = "r") -> str:
    from tui.console.wording import error_text
    from tui.core.errors import BaiError

    if isinstance(error, BaiError):
        return error_text(error)  # the console's words: its labels and actions, never a CLI flag
    return (
        f"reading {name} failed ({type(error).__name__}: {error}); "
        f"press {refresh} to refresh and Enter to retry"
    )
