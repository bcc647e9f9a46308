"""The long-lived resources of one server process, opened and closed in the MCP lifespan.

Tools reach them through the SDK's request context (`resources_of(ctx)`) or, where they are
registered with them (tools/items.py), from the server they belong to; never through globals,
so tests can run several servers in one process and nothing connects at import time.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import httpx

from my_mcp_server.cache import TieredCache
from my_mcp_server.db import Database
from my_mcp_server.http_client import create_http_client
from my_mcp_server.settings import Settings

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context


class Resources:
    """Container of the pools one process shares across all requests."""

    def __init__(self, settings: Settings, *, database_type: type[Database] = Database) -> None:
        """`database_type`: what opens the database (the benchmarks' naive baseline swaps it)."""
        self.settings = settings
        self._database_type = database_type
        self._stack: AsyncExitStack | None = None
        self._http: httpx.AsyncClient | None = None
        self._db: Database | None = None
        self._cache: TieredCache | None = None

    async def __aenter__(self) -> Resources:
        async with AsyncExitStack() as stack:
            self._db = await stack.enter_async_context(self._database_type(self.settings))
            self._cache = await stack.enter_async_context(TieredCache(self.settings))
            self._http = await stack.enter_async_context(create_http_client(self.settings))
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    @property
    def http(self) -> httpx.AsyncClient:
        return _opened(self._http, "http client")

    @property
    def db(self) -> Database:
        return _opened(self._db, "database")

    @property
    def cache(self) -> TieredCache:
        return _opened(self._cache, "cache")

    async def check_ready(self) -> dict[str, bool]:
        """Cheap probe of each dependency, for /readyz."""
        http_ok = self._http is not None and not self._http.is_closed
        checks: dict[str, bool] = {"http_client": http_ok}
        checks["database"] = self._db is not None and await self._db.ping()
        # The cache degrades to L1 + loader without Redis, so Redis is reported, not required.
        checks["cache"] = self._cache is not None
        return checks


_T = TypeVar("_T")


def _opened(value: _T | None, what: str) -> _T:
    if value is None:
        raise RuntimeError(f"{what} used outside the server lifespan")
    return value


def resources_of(ctx: Context[Resources]) -> Resources:
    """The process's resources, from a tool's request context."""
    return ctx.request_context.lifespan_context
