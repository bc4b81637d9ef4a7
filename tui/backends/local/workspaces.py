"""Workspaces and experiments: the names that group clusters and jobs, as in Batch AI 2018-05-01."""

from __future__ import annotations

from tui.backends.local import db, lifecycle, names
from tui.backends.local.context import LocalContext
from tui.backends.local.groups import require_group
from tui.core.errors import Hint, NotFoundError
from tui.core.model import Experiment, ExperimentRef, Workspace


def require_workspace(conn, resource_group: str, name: str) -> Workspace:  # type: ignore[no-untyped-def]
    require_group(conn, resource_group)
    row = conn.execute(
        "SELECT * FROM workspaces WHERE resource_group = ? AND name = ?", (resource_group, name)
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"workspace {name!r} not found in resource group {resource_group!r}",
            hint=Hint("create", "workspace", {"resource_group": resource_group, "name": name}),
        )
    return _workspace(row)


def require_experiment(conn, ref: ExperimentRef) -> Experiment:  # type: ignore[no-untyped-def]
    require_workspace(conn, ref.resource_group, ref.workspace)
    row = conn.execute(
        "SELECT * FROM experiments WHERE resource_group = ? AND workspace = ? AND name = ?",
        (ref.resource_group, ref.workspace, ref.name),
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"experiment {ref.name!r} not found in workspace {ref.workspace!r}",
            hint=Hint(
                "create",
                "experiment",
                {"resource_group": ref.resource_group, "workspace": ref.workspace, "name": ref.name},
            ),
        )
    return _experiment(row)


def _workspace(row) -> Workspace:  # type: ignore[no-untyped-def]
    return Workspace(
        name=row["name"],
        resource_group=row["resource_group"],
        location=row["location"],
        creation_time=db.parse_time(row["created"]),
    )


def _experiment(row) -> Experiment:  # type: ignore[no-untyped-def]
    return Experiment(
        name=row["name"],
        resource_group=row["resource_group"],
        workspace=row["workspace"],
        creation_time=db.parse_time(row["created"]),
    )


class LocalWorkspaces:
    def __init__(self, ctx: LocalContext):
        self._ctx = ctx

    async def create(self, resource_group: str, name: str, location: str | None = None) -> Workspace:
        return await self._ctx.call(self._create, resource_group, name, location)

    def _create(self, resource_group: str, name: str, location: str | None) -> Workspace:
        names.check_resource("workspace", name)
        with self._ctx.connection() as conn, db.immediate(conn):
            group = require_group(conn, resource_group)
            row = conn.execute(
                "SELECT * FROM workspaces WHERE resource_group = ? AND name = ?", (group.name, name)
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO workspaces (resource_group, name, location, created) VALUES (?, ?, ?, ?)",
                    (group.name, name, (location or group.location).lower(), db.now_text()),
                )
            return require_workspace(conn, group.name, name)

    async def get(self, resource_group: str, name: str) -> Workspace:
        return await self._ctx.call(self._get, resource_group, name)

    def _get(self, resource_group: str, name: str) -> Workspace:
        with self._ctx.connection() as conn:
            return require_workspace(conn, resource_group, name)

    async def list(self, resource_group: str | None = None) -> list[Workspace]:
        return await self._ctx.call(self._list, resource_group)

    def _list(self, resource_group: str | None) -> list[Workspace]:
        with self._ctx.connection() as conn:
            if resource_group is None:
                rows = conn.execute("SELECT * FROM workspaces ORDER BY resource_group, name").fetchall()
            else:
                require_group(conn, resource_group)
                rows = conn.execute(
                    "SELECT * FROM workspaces WHERE resource_group = ? ORDER BY name", (resource_group,)
                ).fetchall()
        return [_workspace(row) for row in rows]

    async def delete(self, resource_group: str, name: str) -> None:
        await self._ctx.call(self._delete, resource_group, name)

    def _delete(self, resource_group: str, name: str) -> None:
        with self._ctx.connection() as conn:
            workspace = require_workspace(conn, resource_group, name)
        key = (workspace.resource_group, workspace.name)
        lifecycle.delete_jobs(self._ctx, "resource_group = ? AND workspace = ?", key)
        with self._ctx.connection() as conn, db.immediate(conn):
            conn.execute("DELETE FROM clusters WHERE resource_group = ? AND workspace = ?", key)
            conn.execute("DELETE FROM experiments WHERE resource_group = ? AND workspace = ?", key)
            conn.execute("DELETE FROM workspaces WHERE resource_group = ? AND name = ?", key)


class LocalExperiments:
    def __init__(self, ctx: LocalContext):
        self._ctx = ctx

    async def create(self, ref: ExperimentRef) -> Experiment:
        return await self._ctx.call(self._create, ref)

    def _create(self, ref: ExperimentRef) -> Experiment:
        names.check_resource("experiment", ref.name)
        with self._ctx.connection() as conn, db.immediate(conn):
            workspace = require_workspace(conn, ref.resource_group, ref.workspace)
            conn.execute(
                "INSERT OR IGNORE INTO experiments (resource_group, workspace, name, created)"
                " VALUES (?,?,?,?)",
                (workspace.resource_group, workspace.name, ref.name, db.now_text()),
            )
            return require_experiment(conn, ref)

    async def get(self, ref: ExperimentRef) -> Experiment:
        return await self._ctx.call(self._get, ref)

    def _get(self, ref: ExperimentRef) -> Experiment:
        with self._ctx.connection() as conn:
            return require_experiment(conn, ref)

    async def list(self, resource_group: str, workspace: str) -> list[Experiment]:
        return await self._ctx.call(self._list, resource_group, workspace)

    def _list(self, resource_group: str, workspace: str) -> list[Experiment]:
        with self._ctx.connection() as conn:
            require_workspace(conn, resource_group, workspace)
            rows = conn.execute(
                "SELECT * FROM experiments WHERE resource_group = ? AND workspace = ? ORDER BY name",
                (resource_group, workspace),
            ).fetchall()
        return [_experiment(row) for row in rows]

    async def delete(self, ref: ExperimentRef) -> None:
        await self._ctx.call(self._delete, ref)

    def _delete(self, ref: ExperimentRef) -> None:
        with self._ctx.connection() as conn:
            experiment = require_experiment(conn, ref)
        key = (experiment.resource_group, experiment.workspace, experiment.name)
        lifecycle.delete_jobs(self._ctx, "resource_group = ? AND workspace = ? AND experiment = ?", key)
        with self._ctx.connection() as conn, db.immediate(conn):
            conn.execute(
                "DELETE FROM experiments WHERE resource_group = ? AND workspace = ? AND name = ?", key
            )
