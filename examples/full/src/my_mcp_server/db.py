"""PostgreSQL access through one asyncpg pool per process.

Admission is bounded twice, so overload fails fast instead of queueing past the SLA: at most
`concurrency_limit` calls may wait for the pool (a semaphore in front of it), and each waits at
most `db_acquire_timeout_s` for a connection, else the call fails with `DatabaseBusyError`.

A connection lost under a call (PostgreSQL restarted, backend terminated, network cut) expires
every pooled connection and the call is retried once on a fresh one.
Every statement here is idempotent (reads and an upsert), so running one twice is safe even when
the first attempt's outcome is unknown. Queries are parameterized only.

The naive baseline that `make perf-report` and `make bench-db` measure against (a new connection
for every call) lives with them: loadtest/naive_db.py overrides `start`, `acquire`, `release`
and `pool_stats`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from types import TracebackType
from typing import Any, TypeAlias, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import BaseModel

from my_mcp_server import pool_metrics
from my_mcp_server.pool_metrics import PoolStats
from my_mcp_server.settings import Settings

# A string: asyncpg's classes are generic only to the type checker.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
_T = TypeVar("_T")

# What a lost connection looks like to asyncpg: the server went away or closed the session.
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    ConnectionError,
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    # Raised when the server closes the socket in the middle of a protocol exchange.
    asyncpg.exceptions.InternalClientError,
)


class Item(BaseModel):
    key: str
    value: str
    updated_at: datetime


class DatabaseError(RuntimeError):
    """A database failure a caller may retry later; the message is safe to show."""


class DatabaseBusyError(DatabaseError):
    """No connection became free within the acquire timeout."""


class DatabaseUnavailableError(DatabaseError):
    """The database could not be reached, even on a fresh connection."""


def migration_scripts() -> list[tuple[str, str]]:
    """(version, SQL) of every migration shipped in the package, in order."""
    folder = resources.files(__package__).joinpath("migrations")
    scripts = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in scripts]


class Database:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: asyncpg.Pool | None = None
        self._gate = asyncio.Semaphore(settings.concurrency_limit)
        self._waiting = 0

    async def __aenter__(self) -> Database:
        await self.start()
        pool_metrics.register(self)
        if self._settings.db_migrate_on_start:
            await self.migrate()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def start(self) -> None:
        """Open the pool."""
        s = self._settings
        self._pool = await asyncpg.create_pool(
            min_size=min(s.db_pool_min_size, s.db_pool_max_size),
            max_size=s.db_pool_max_size,
            # Idle connections above min_size are closed, so a burst does not pin them.
            max_inactive_connection_lifetime=60,
            **self.connect_kwargs(),
        )

    def connect_kwargs(self) -> dict[str, Any]:
        s = self._settings
        return {
            "dsn": s.database_url.get_secret_value(),
            "command_timeout": s.db_command_timeout_s,
            "statement_cache_size": s.db_statement_cache_size,
            "timeout": s.db_connect_timeout_s,
            # Shows up in pg_stat_activity: which service holds which connections.
            "server_settings": {"application_name": s.db_application_name},
        }

    def pool_stats(self) -> PoolStats:
        if self._pool is None:  # not open yet, or closed
            return PoolStats("postgresql", 0, 0, self._settings.db_pool_max_size, self._waiting)
        idle = self._pool.get_idle_size()
        used = self._pool.get_size() - idle
        return PoolStats("postgresql", used, idle, self._pool.get_max_size(), self._waiting)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection for one call, within the admission limit and the acquire timeout."""
        timeout_s = self._settings.db_acquire_timeout_s
        started = time.perf_counter()
        self._waiting += 1
        try:
            async with asyncio.timeout(timeout_s):
                await self._gate.acquire()
                try:
                    conn = await self.acquire()
                except BaseException:
                    self._gate.release()
                    raise
        except TimeoutError as exc:
            pool_metrics.timeouts.add(1)
            raise DatabaseBusyError(
                f"database busy: no connection free within {timeout_s:g} s; retry later"
            ) from exc
        finally:
            self._waiting -= 1
        pool_metrics.wait_time.record(time.perf_counter() - started)
        try:
            yield conn
        finally:
            try:
                await self.release(conn)
            finally:
                self._gate.release()

    async def acquire(self) -> Connection:
        """A connection from the pool (the caller holds an admission slot)."""
        if self._pool is None:
            raise RuntimeError("database used outside the server lifespan")
        conn: Connection = await self._pool.acquire()
        return conn

    async def release(self, conn: Connection) -> None:
        """Hand `conn` back to the pool it came from."""
        if self._pool is not None and isinstance(conn, PoolConnectionProxy):
            await self._pool.release(conn)
        else:  # the pool closed under it
            await conn.close()

    async def _run(self, statement: Callable[[Connection], Awaitable[_T]]) -> _T:
        """Run an idempotent statement, once more on a fresh connection if the first was lost."""
        for attempt in (1, 2):
            try:
                async with self.connection() as conn:
                    return await statement(conn)
            except CONNECTION_LOST as exc:
                if self._pool is not None:
                    # One lost connection usually means all were (a restart, a failover):
                    # replace every pooled connection on its next acquire, not one by one.
                    await self._pool.expire_connections()
                if attempt == 2:
                    raise DatabaseUnavailableError(
                        f"database unavailable: {type(exc).__name__}; retry later"
                    ) from exc
        raise AssertionError("unreachable")

    async def migrate(self) -> list[str]:
        """Apply the migrations not applied yet, in order; returns the versions applied."""

        async def apply(conn: Connection) -> list[str]:
            applied: list[str] = []
            async with conn.transaction():
                # One migrator at a time, whichever process or replica starts first.
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))")
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                done = {
                    r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")
                }
                for version, sql in migration_scripts():
                    if version not in done:
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version) VALUES ($1)", version
                        )
                        applied.append(version)
            return applied

        return await self._run(apply)

    async def seed(self, count: int) -> None:
        """Items item-000001 ... for load tests; existing keys are overwritten."""
        rows = [(f"item-{i:06d}", f"value of item {i}") for i in range(1, count + 1)]

        async def insert(conn: Connection) -> None:
            await conn.executemany(
                "INSERT INTO items (key, value) VALUES ($1, $2)"
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
                rows,
            )

        await self._run(insert)

    async def ping(self) -> bool:
        try:
            return bool(await self._run(lambda conn: conn.fetchval("SELECT 1")))
        except (DatabaseError, asyncpg.PostgresError):
            return False

    async def get_item(self, key: str) -> Item | None:
        row = await self._run(
            lambda conn: conn.fetchrow(
                "SELECT key, value, updated_at FROM items WHERE key = $1", key
            )
        )
        return None if row is None else Item(**dict(row))

    async def search_items(self, prefix: str, limit: int) -> list[Item]:
        # Escape LIKE wildcards so the caller's text is matched literally.
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._run(
            lambda conn: conn.fetch(
                "SELECT key, value, updated_at FROM items WHERE key LIKE $1 ORDER BY key LIMIT $2",
                pattern,
                limit,
            )
        )
        return [Item(**dict(row)) for row in rows]

    async def put_item(self, key: str, value: str) -> Item:
        row = await self._run(
            lambda conn: conn.fetchrow(
                """
                INSERT INTO items (key, value) VALUES ($1, $2)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                RETURNING key, value, updated_at
                """,
                key,
                value,
            )
        )
        if row is None:
            raise RuntimeError("upsert returned no row")
        return Item(**dict(row))

    async def delete_item(self, key: str) -> bool:
        """True if the item existed. Safe to retry: a second run finds nothing and changes nothing."""
        deleted = await self._run(
            lambda conn: conn.fetchval("DELETE FROM items WHERE key = $1 RETURNING key", key)
        )
        return deleted is not None
