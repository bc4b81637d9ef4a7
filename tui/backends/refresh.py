"""Refresh many clusters' node-state counts and jobs' execution states at once.

The console's node table and job list poll every few seconds; with a dozen clusters and jobs, asking one
after another makes one slow answer delay every row. Here all calls run concurrently (asyncio.gather), each
under its own deadline, so a slow or failing call yields its own error and holds up nothing else. Works with
any `Backend`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from tui.backends.base import Backend
from tui.core.errors import BaiError
from tui.core.model import Cluster, ClusterRef, Job, JobRef

T = TypeVar("T")


@dataclass
class Snapshot:
    """What one refresh round found: the objects that answered in time, and an error for each that did not."""

    clusters: dict[ClusterRef, Cluster] = field(default_factory=dict)
    jobs: dict[JobRef, Job] = field(default_factory=dict)
    errors: dict[ClusterRef | JobRef, str] = field(default_factory=dict)


async def _bounded(call: Awaitable[T], timeout: float) -> T:
    try:
        return await asyncio.wait_for(call, timeout)
    except TimeoutError:
        raise BaiError(f"no answer within {timeout:g} s; will retry on the next refresh") from None


async def refresh(
    backend: Backend,
    clusters: Iterable[ClusterRef] = (),
    jobs: Iterable[JobRef] = (),
    timeout: float = 10.0,
) -> Snapshot:
    """Fetch every cluster and job concurrently; returns after at most `timeout` seconds."""
    cluster_refs = list(dict.fromkeys(clusters))
    job_refs = list(dict.fromkeys(jobs))
    calls = [_bounded(backend.clusters.get(ref), timeout) for ref in cluster_refs]
    calls += [_bounded(backend.jobs.get(ref), timeout) for ref in job_refs]
    results = await asyncio.gather(*calls, return_exceptions=True)
    snapshot = Snapshot()
    for ref, result in zip([*cluster_refs, *job_refs], results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            snapshot.errors[ref] = str(result) if isinstance(result, BaiError) else f"{type(result).__name__}"
        elif isinstance(ref, ClusterRef):
            snapshot.clusters[ref] = result  # type: ignore[assignment]
        else:
            snapshot.jobs[ref] = result  # type: ignore[assignment]
    return snapshot
