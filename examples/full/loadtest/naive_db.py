"""The naive database the benchmarks measure the pooled one against: no pool, a new connection
for every call, opened and closed around it (admission is still bounded by `concurrency_limit`).

It is the production `Database` with its connection hooks replaced, so both run the same
statements, retries and metrics; only where connections come from differs.
"""

from __future__ import annotations

import asyncpg

from my_mcp_server.db import Connection, Database
from my_mcp_server.pool_metrics import PoolStats
from my_mcp_server.settings import Settings


class ConnectionPerCall(Database):
    """`Database` without a pool: `acquire` connects, `release` closes."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._open = 0

    async def start(self) -> None:
        """No pool to open."""

    async def acquire(self) -> Connection:
        self._open += 1
        try:
            conn: Connection = await asyncpg.connect(**self.connect_kwargs())
        except BaseException:
            self._open -= 1
            raise
        return conn

    async def release(self, conn: Connection) -> None:
        self._open -= 1
        await conn.close()

    def pool_stats(self) -> PoolStats:
        # Connections open at once; at most one per admitted call.
        limit = self._settings.concurrency_limit
        return PoolStats("postgresql", self._open, 0, limit, self._waiting)
