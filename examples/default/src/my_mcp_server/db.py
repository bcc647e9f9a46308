"""Embedded SQLite through aiosqlite, without blocking the event loop.

aiosqlite runs each connection in its own thread. WAL mode lets readers proceed while one
writer commits, so the design is: one writer connection behind a lock (SQLite allows a single
writer anyway) and a small pool of reader connections handed out through a queue, bounded in
time by `db_acquire_timeout_s` like the PostgreSQL pool.

The naive baseline that `make perf-report` and `make bench-db` measure against (a reader
connection opened and closed for every call) lives with them: loadtest/naive_db.py overrides
`open_readers`, `acquire_reader` and `release_reader`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from types import TracebackType

import aiosqlite
from pydantic import BaseModel

from my_mcp_server import pool_metrics
from my_mcp_server.pool_metrics import PoolStats
from my_mcp_server.settings import Settings

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",  # durable at checkpoints; safe with WAL
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
)


class Item(BaseModel):
    key: str
    value: str
    updated_at: datetime


class DatabaseError(RuntimeError):
    """A database failure a caller may retry later; the message is safe to show."""


class DatabaseBusyError(DatabaseError):
    """Every reader connection stayed busy for the whole acquire timeout."""


def migration_scripts() -> list[tuple[str, str]]:
    """(version, SQL) of every migration shipped in the package, in order."""
    folder = resources.files(__package__).joinpath("migrations")
    scripts = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in scripts]


class Database:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all: list[aiosqlite.Connection] = []
        self._waiting = 0

    async def connect(self, *, keep: bool = True) -> aiosqlite.Connection:
        """A new connection with the pragmas set; `keep`: closed with the database."""
        conn = await aiosqlite.connect(self._settings.sqlite_path)
        if keep:
            self._all.append(conn)
        conn.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        return conn

    async def __aenter__(self) -> Database:
        path = Path(self._settings.sqlite_path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self.connect()
        if self._settings.db_migrate_on_start:
            await self.migrate()
        await self.open_readers()
        pool_metrics.register(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for conn in self._all:
            await conn.close()
        self._all.clear()
        self._writer = None

    def pool_stats(self) -> PoolStats:
        idle = self._readers.qsize()
        size = len(self._all) - 1  # readers; the writer is not pooled
        return PoolStats(
            "sqlite-readers", size - idle, idle, self._settings.sqlite_readers, self._waiting
        )

    async def open_readers(self) -> None:
        """Fill the reader pool."""
        for _ in range(self._settings.sqlite_readers):
            self._readers.put_nowait(await self.connect())

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[aiosqlite.Connection]:
        conn = await self.acquire_reader()
        try:
            yield conn
        finally:
            await self.release_reader(conn)

    async def acquire_reader(self) -> aiosqlite.Connection:
        """A pooled reader connection, waiting at most `db_acquire_timeout_s` for one."""
        timeout_s = self._settings.db_acquire_timeout_s
        started = time.perf_counter()
        self._waiting += 1
        try:
            conn = await asyncio.wait_for(self._readers.get(), timeout_s)
        except TimeoutError as exc:
            pool_metrics.timeouts.add(1)
            raise DatabaseBusyError(
                f"database busy: no reader connection free within {timeout_s:g} s; retry later"
            ) from exc
        finally:
            self._waiting -= 1
        pool_metrics.wait_time.record(time.perf_counter() - started)
        return conn

    async def release_reader(self, conn: aiosqlite.Connection) -> None:
        """Hand a reader back to the pool."""
        self._readers.put_nowait(conn)

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._writer is None:
            raise RuntimeError("database used outside the server lifespan")
        async with self._write_lock:
            yield self._writer

    async def migrate(self) -> list[str]:
        """Apply the migrations not applied yet, in order; returns the versions applied."""
        applied: list[str] = []
        async with self.writer() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version TEXT PRIMARY KEY,"
                " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
            )
            async with conn.execute("SELECT version FROM schema_migrations") as cur:
                done = {row["version"] for row in await cur.fetchall()}
            for version, sql in migration_scripts():
                if version not in done:
                    await conn.executescript(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version) VALUES (?)", (version,)
                    )
                    applied.append(version)
            await conn.commit()
        return applied

    async def seed(self, count: int) -> None:
        """Items item-000001 ... for load tests; existing keys are overwritten."""
        rows = [(f"item-{i:06d}", f"value of item {i}") for i in range(1, count + 1)]
        async with self.writer() as conn:
            await conn.executemany(
                "INSERT INTO items (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                rows,
            )
            await conn.commit()

    async def ping(self) -> bool:
        try:
            async with self.reader() as conn, conn.execute("SELECT 1") as cur:
                return await cur.fetchone() is not None
        except (sqlite3.Error, DatabaseError):
            return False

    async def get_item(self, key: str) -> Item | None:
        async with (
            self.reader() as conn,
            conn.execute("SELECT key, value, updated_at FROM items WHERE key = ?", (key,)) as cur,
        ):
            row = await cur.fetchone()
        return None if row is None else Item(**dict(row))

    async def search_items(self, prefix: str, limit: int) -> list[Item]:
        # Escape LIKE wildcards so the caller's text is matched literally.
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        async with (
            self.reader() as conn,
            conn.execute(
                "SELECT key, value, updated_at FROM items WHERE key LIKE ? ESCAPE '\\' "
                "ORDER BY key LIMIT ?",
                (pattern, limit),
            ) as cur,
        ):
            rows = await cur.fetchall()
        return [Item(**dict(row)) for row in rows]

    async def put_item(self, key: str, value: str) -> Item:
        async with self.writer() as conn:
            async with conn.execute(
                """
                INSERT INTO items (key, value) VALUES (?, ?)
                ON CONFLICT (key) DO UPDATE SET
                    value = excluded.value,
                    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                RETURNING key, value, updated_at
                """,
                (key, value),
            ) as cur:
                row = await cur.fetchone()
            await conn.commit()
        if row is None:
            raise RuntimeError("upsert returned no row")
        return Item(**dict(row))

    async def delete_item(self, key: str) -> bool:
        """True if the item existed."""
        async with self.writer() as conn:
            async with conn.execute("DELETE FROM items WHERE key = ?", (key,)) as cur:
                deleted = cur.rowcount > 0
            await conn.commit()
        return deleted
