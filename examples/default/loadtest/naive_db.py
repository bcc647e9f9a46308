"""The naive database the benchmarks measure the pooled one against: no pool, a new connection
for every read, opened and closed around it (the writer stays one connection behind a lock).

It is the production `Database` with its connection hooks replaced, so both run the same
statements, retries and metrics; only where connections come from differs.
"""

from __future__ import annotations

import aiosqlite

from my_mcp_server.db import Database


class ConnectionPerCall(Database):
    """`Database` without a reader pool: every read opens its own connection and closes it."""

    async def open_readers(self) -> None:
        """No reader pool to fill."""

    async def acquire_reader(self) -> aiosqlite.Connection:
        return await self.connect(keep=False)

    async def release_reader(self, conn: aiosqlite.Connection) -> None:
        await conn.close()
