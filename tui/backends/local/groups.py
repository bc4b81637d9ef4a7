"""Resource groups: the top of the local tree; deleting one removes everything in it, processes included."""

from __future__ import annotations

import shutil

from tui.backends.local import db, lifecycle, names
from tui.backends.local.context import LocalContext
from tui.core.errors import ConflictError, Hint, NotFoundError
from tui.core.model import ResourceGroup


def require_group(conn, name: str) -> ResourceGroup:  # type: ignore[no-untyped-def]
    row = conn.execute("SELECT * FROM resource_groups WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFoundError(
            f"resource group {name!r} not found", hint=Hint("create", "resourcegroup", {"name": name})
        )
    return ResourceGroup(name=row["name"], location=row["location"])


class LocalGroups:
    def __init__(self, ctx: LocalContext):
        self._ctx = ctx

    async def create(self, name: str, location: str) -> ResourceGroup:
        return await self._ctx.call(self._create, name, location)

    def _create(self, name: str, location: str) -> ResourceGroup:
        names.check_group(name)
        location = (location or "").strip().lower()
        if not location:
            raise ConflictError("a location is required for a resource group: pass -l LOCATION (e.g. eastus)")
        with self._ctx.connection() as conn, db.immediate(conn):
            row = conn.execute("SELECT * FROM resource_groups WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if row["location"] != location:
                    raise ConflictError(
                        f"resource group {row['name']!r} already exists in {row['location']}: "
                        f"use location {row['location']} or another group name"
                    )
                return ResourceGroup(name=row["name"], location=row["location"])
            conn.execute(
                "INSERT INTO resource_groups (name, location, created) VALUES (?, ?, ?)",
                (name, location, db.now_text()),
            )
        return ResourceGroup(name=name, location=location)

    async def get(self, name: str) -> ResourceGroup:
        return await self._ctx.call(self._get, name)

    def _get(self, name: str) -> ResourceGroup:
        with self._ctx.connection() as conn:
            return require_group(conn, name)

    async def list(self) -> list[ResourceGroup]:
        return await self._ctx.call(self._list)

    def _list(self) -> list[ResourceGroup]:
        with self._ctx.connection() as conn:
            rows = conn.execute("SELECT * FROM resource_groups ORDER BY name").fetchall()
        return [ResourceGroup(name=row["name"], location=row["location"]) for row in rows]

    async def delete(self, name: str) -> None:
        await self._ctx.call(self._delete, name)

    def _delete(self, name: str) -> None:
        with self._ctx.connection() as conn:
            group = require_group(conn, name)
        lifecycle.delete_jobs(self._ctx, "resource_group = ?", (group.name,))
        with self._ctx.connection() as conn, db.immediate(conn):
            accounts = [
                row["name"]
                for row in conn.execute(
                    "SELECT name FROM storage_accounts WHERE resource_group = ?", (group.name,)
                )
            ]
            conn.execute("DELETE FROM clusters WHERE resource_group = ?", (group.name,))
            conn.execute("DELETE FROM experiments WHERE resource_group = ?", (group.name,))
            conn.execute("DELETE FROM workspaces WHERE resource_group = ?", (group.name,))
            conn.execute("DELETE FROM storage_accounts WHERE resource_group = ?", (group.name,))
            conn.execute("DELETE FROM resource_groups WHERE name = ?", (group.name,))
        for account in accounts:
            shutil.rmtree(self._ctx.layout.account_dir(account), ignore_errors=True)
