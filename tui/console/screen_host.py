"""The main screen as its action mixins see it: one declaration of what `MainScreen` lends them.

The resource, transfer and job actions are mixins of `MainScreen`; they call its selection, dialogs and
worker (`selected`, `ask`, `confirm`, `run_task`, ...). Those are declared here once, for the type checker
only, so the mixins cannot drift apart in what they believe the screen offers; at run time `ScreenHost` is
an empty base class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.console.widgets.dialogs import FormField
    from tui.console.widgets.job_form import JobForm
    from tui.console.widgets.resource_tree import ResourceTree
    from tui.console.widgets.task_bar import Task
    from tui.console.widgets.tree_items import Item


class ScreenHost:
    """The base of `MainScreen`'s action mixins: the screen's parts they use, declared (not defined)."""

    if TYPE_CHECKING:
        backend: Any
        tree: ResourceTree
        app: Any
        submit_warnings: dict[Any, list[str]]  # what a submit warned of, shown in the job's details

        def selected(self) -> Item | None: ...
        def run_task(self, label: str, work_fn: Callable[[Task], Awaitable[Any]]) -> None: ...
        def ask(
            self,
            title: str,
            fields: list[FormField],
            then: Callable[[dict[str, str]], None],
            submit: str = "OK",
        ) -> None: ...
        def confirm(self, question: str, then: Callable[[], None], yes: str = "Yes") -> None: ...
        def need(self, item: Item | None, kinds: tuple[str, ...], what: str) -> Item | None: ...
        def after_change(self, select: Item | None = None) -> None: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def run_worker(self, work: Any, **kwargs: Any) -> Any: ...
        def with_form(self, use: Callable[[JobForm], None]) -> None: ...
        def show_tab(self, tab: str) -> None: ...
        def open_log(self, item: Item) -> None: ...
