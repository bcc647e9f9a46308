"""TieredCache: L1 in-process TTL-LRU -> loader.

- Single-flight: concurrent misses on one key share one load, so a hot key that expires costs
  the backend one query, not one per waiting caller.
- TTL jitter: each L1 entry lives `cache_ttl_s` minus up to `cache_ttl_jitter` of it, so keys
  filled together do not all expire together and stampede the backend.
- Negative caching: a miss (the loader found nothing) is remembered for `cache_negative_ttl_s`,
  so a flood of lookups for an absent key does not reach the database.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeAlias

from cachetools import TLRUCache
from opentelemetry import metrics

from my_mcp_server.plain_counters import PlainCounter
from my_mcp_server.settings import Settings

JSON: TypeAlias = Any  # whatever orjson round-trips
Loader = Callable[[], Awaitable[JSON]]

meter = metrics.get_meter(__name__)
lookups = PlainCounter(
    meter,
    "mcp.server.cache.lookups",
    ("cache.layer", "cache.result"),
    unit="{lookup}",
    description="Cache lookups by layer and result",
)
load_duration = meter.create_histogram(
    "mcp.server.cache.load.duration", unit="s", description="Time the loader took on a miss"
)
evictions = meter.create_counter(
    "mcp.server.cache.evictions", unit="{entry}", description="L1 entries evicted for space"
)


class _Missing:
    """Marks a cached miss (negative caching); never handed to callers."""


MISSING = _Missing()


class _L1(TLRUCache[str, JSON]):
    def popitem(self) -> tuple[str, JSON]:
        evictions.add(1, {"cache.layer": "l1"})
        return super().popitem()

    def get(self, key: str, default: Any = None) -> Any:
        # One lookup: TLRUCache.get asks `key in self` (clock read, expiry check), then reads it
        # again. Indexing alone checks expiry, refreshes the LRU order and raises if absent.
        try:
            return self[key]
        except KeyError:
            return default


class TieredCache:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        """`clock` dates L1 entries (seconds, monotonic); tests pass one they move by hand."""
        self._settings = settings
        self.enabled = settings.cache_enabled
        ttl, jitter = settings.cache_ttl_s, settings.cache_ttl_jitter
        negative_ttl = settings.cache_negative_ttl_s

        def time_to_use(_key: str, value: JSON, now: float) -> float:
            if value is MISSING:
                return now + negative_ttl
            return now + ttl * (1 - jitter * random.random())  # noqa: S311 (jitter, not crypto)

        self._l1 = _L1(maxsize=settings.cache_l1_max_items, ttu=time_to_use, timer=clock)
        self._inflight: dict[str, asyncio.Future[JSON]] = {}

    async def __aenter__(self) -> TieredCache:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._l1.clear()

    async def get_or_load(self, key: str, loader: Loader) -> JSON:
        """The cached value for `key`, loading it once if no layer has it.

        This is the one line a tool needs: `await cache.get_or_load(f"thing:{id}", load)`, where
        `load` returns a JSON-serializable value or None (not found; cached briefly).
        """
        if not self.enabled:
            return await loader()
        found = self._l1.get(key, self)
        if found is not self:
            lookups.add(1, "l1", "hit")
            return None if found is MISSING else found
        lookups.add(1, "l1", "miss")
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._load_through(key, loader)
        except BaseException as exc:
            future.set_exception(exc)
            # Mark retrieved so a failure nobody else awaited is not reported as unhandled.
            future.exception()
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    async def _load_through(self, key: str, loader: Loader) -> JSON:
        value = await self._timed_load(loader)
        self._l1[key] = MISSING if value is None else value
        return value

    @staticmethod
    async def _timed_load(loader: Loader) -> JSON:
        started = time.perf_counter()
        try:
            return await loader()
        finally:
            load_duration.record(time.perf_counter() - started)

    async def invalidate(self, key: str) -> None:
        """Drop `key` from every layer (call after a write)."""
        self._l1.pop(key, None)
