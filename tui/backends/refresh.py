"""Refresh many clusters' node-state counts and jobs' execution states at once.

The console's node table and job list poll every few seconds; with a dozen clusters and jobs, asking one
after another makes one slow answer delay every row. Here all calls run concurrently (asyncio.gather), each
under its own deadline, so a slow or failing call yields its own error and holds up nothing else. Besides
single clusters and jobs, whole workspaces' cluster lists can be asked for (what the node table shows: new
clusters appear, deleted ones go). Works with any `Backend`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from tui.backends.base import Backend
from tui.core.errors import BaiError, NotFoundError
from tui.core.model import Cluster, ClusterRef, Job, JobRef

T = TypeVar("T")
Workspace = tuple[str, str]  # (resource group, workspace)
Key = ClusterRef | JobRef | Workspace


@dataclass
class Snapshot:
    """What one refresh round found: the objects that answered in time, and an error for each that did not.

    `gone` holds what the backend says no longer exists (a deleted job, or a workspace with its clusters).
    """

    clusters: dict[ClusterRef, Cluster] = field(default_factory=dict)
    jobs: dict[JobRef, Job] = field(default_factory=dict)
    cluster_lists: dict[Workspace, list[Cluster]] = field(default_factory=dict)
    errors: dict[Key, str] = field(default_factory=dict)
    gone: set[Key] = field(default_factory=set)


async def _bounded(call: Callable[[], Awaitable[T]], timeout: float) -> T:
    """`call()` under a deadline. The call is made here, not by the caller: a round cancelled before this
    task's first step (the console quitting) then leaves no call made and never awaited."""
    try:
        return await asyncio.wait_for(call(), timeout)
    except TimeoutError:
        raise BaiError(f"no answer within {timeout:g} s; will retry on the next refresh") from None


async def refresh(
    backend: Backend,
    clusters: Iterable[ClusterRef] = (),
    jobs: Iterable[JobRef] = (),
    timeout: float = 10.0,
    workspaces: Iterable[Workspace] = (),
) -> Snapshot:
    """Fetch every cluster, job and workspace's cluster list concurrently; returns within `timeout` s."""
    cluster_refs = list(dict.fromkeys(clusters))
    job_refs = list(dict.fromkeys(jobs))
    lists = list(dict.fromkeys(workspaces))
    clusters_api, jobs_api = backend.clusters, backend.jobs
    calls: list[Awaitable[object]] = [
        _bounded(lambda ref=ref: clusters_api.get(ref), timeout) for ref in cluster_refs
    ]
    calls += [_bounded(lambda ref=ref: jobs_api.get(ref), timeout) for ref in job_refs]
    calls += [_bounded(lambda g=group, n=name: clusters_api.list(g, n), timeout) for group, name in lists]
    results = await asyncio.gather(*calls, return_exceptions=True)
    snapshot = Snapshot()
    keys: list[Key] = [*cluster_refs, *job_refs, *lists]
    for ref, result in zip(keys, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            if isinstance(result, NotFoundError):
                snapshot.gone.add(ref)
            snapshot.errors[ref] = (
                str(result)
                if isinstance(result, BaiError)
                else f"could not read it ({type(result).__name__}); will retry on the next refresh"
            )
        elif isinstance(ref, ClusterRef):
            snapshot.clusters[ref] = result  # type: ignore[assignment]
        elif isinstance(ref, JobRef):
            snapshot.jobs[ref] = result  # type: ignore[assignment]
        else:
            snapshot.cluster_lists[ref] = result  # type: ignore[assignment]
    return snapshot
