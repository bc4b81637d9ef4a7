"""The console's one poller (issue 9): a round asks for everything in view at once, each answer under a
deadline, and the panes render what it posts; a queued round is replaced by a newer one."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Static

from tests import test_console as base
from tests.test_console import SIZE, go_to, make_app, until
from tests.tutorial_resources import CLUSTER, GROUP, WORKSPACE
from tui.backends.refresh import Snapshot
from tui.console import poller
from tui.console.poller import Polled, View
from tui.core.model import ClusterRef

home = base.home  # the fixtures: a temporary BAI_HOME and a local backend on it
backend = base.backend


async def test_a_cluster_list_that_never_answers_is_a_hint_and_the_table_recovers(
    backend, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Before, the node table asked the backend itself with no deadline: one answer that never came froze
    the table for good, with nothing said. Now the round gives up on it after the deadline and says so."""
    monkeypatch.setattr(poller, "DEADLINE_SECONDS", 0.5)
    stuck = asyncio.Event()
    stuck.set()
    clusters = backend.clusters
    real_list = clusters.list

    async def list_clusters(group: str, workspace: str):  # type: ignore[no-untyped-def]
        while stuck.is_set():
            await asyncio.sleep(0.05)  # a network that swallowed the request
        return await real_list(group, workspace)

    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await until(pilot, lambda: CLUSTER in app.nodes.clusters, what="the cluster row")
        monkeypatch.setattr(clusters, "list", list_clusters)
        await backend.clusters.resize(ClusterRef(GROUP, WORKSPACE, CLUSTER), 3)

        def hint() -> str:
            return str(app.nodes.query_one("#nodes-hint", Static).render())

        await until(pilot, lambda: "no answer within 0.5 s" in hint(), 30, "the deadline said")
        assert app.nodes.cell(CLUSTER, "target") == "2"  # what was read last stays shown
        stuck.clear()
        await until(pilot, lambda: app.nodes.cell(CLUSTER, "target") == "3", 30, "the table to recover")


async def test_a_newer_round_replaces_a_queued_one(backend) -> None:  # type: ignore[no-untyped-def]
    """Rounds posted while the screen is busy are not rendered one after another: only the newest."""
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await go_to(pilot, app, GROUP, WORKSPACE, CLUSTER)
        await until(pilot, lambda: CLUSTER in app.nodes.clusters, what="the cluster row")
        app.main.poller.seconds = 3600.0  # no more rounds of its own during the test
        app.main.poller.poll_now()
        await pilot.pause(0.3)
        workspace = (GROUP, WORKSPACE)
        rendered = app.nodes.polls
        cluster = await backend.clusters.get(ClusterRef(GROUP, WORKSPACE, CLUSTER))
        for _ in range(50):
            snapshot = Snapshot(cluster_lists={workspace: [cluster]})
            app.main.post_message(Polled(View(workspace, ()), snapshot))
        await pilot.pause(0.5)
        assert app.nodes.polls - rendered < 50  # queued rounds were dropped for newer ones
        assert app.nodes.polls > rendered  # and the newest was rendered


async def test_a_round_cancelled_before_it_starts_leaves_no_call_unawaited(backend) -> None:  # type: ignore[no-untyped-def]
    """The console cancels a round when it quits. Cancelled before its calls had started, the round used to
    leave each backend call made but never awaited ("coroutine 'LocalClusters.list' was never awaited" in
    the test run's warnings): a call is now made only when the round gets to it."""
    import gc
    import warnings

    from tui.backends.refresh import refresh

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        round_ = asyncio.ensure_future(
            refresh(
                backend, clusters=[ClusterRef(GROUP, WORKSPACE, CLUSTER)], workspaces=[(GROUP, WORKSPACE)]
            )
        )
        await asyncio.sleep(0)  # the round has scheduled its calls; none of them has run a step
        round_.cancel()
        with pytest.raises(asyncio.CancelledError):
            await round_
        for _ in range(3):
            await asyncio.sleep(0)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []
