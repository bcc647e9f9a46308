"""TieredCache: L1 in-process TTL-LRU -> L2 Redis -> loader.

- Single-flight: concurrent misses on one key share one load, so a hot key that expires costs
  the backend one query, not one per waiting caller.
- TTL jitter: each L1 entry lives `cache_ttl_s` minus up to `cache_ttl_jitter` of it, so keys
  filled together do not all expire together and stampede the backend.
- Negative caching: a miss (the loader found nothing) is remembered for `cache_negative_ttl_s`,
  so a flood of lookups for an absent key does not reach the database.
- Redis is an accelerator, never a dependency. A circuit breaker skips it after
  `redis_breaker_failures` consecutive errors or timeouts, lets one probe through after
  `redis_breaker_cooldown_s`, and closes when the probe succeeds: while Redis is down, calls are
  served from L1 / the loader at loader latency instead of failing or waiting on timeouts.
- Invalidation: a write deletes the key in L2 and L1 and publishes it on a pub/sub channel;
  every process drops its L1 copy. After the subscription was broken (Redis down), L1 is cleared
  once, since invalidations may have been missed meanwhile.
- Values are stored as orjson under `<namespace>:v<SCHEMA_VERSION>:`; bump the version when the
  shape of cached values changes, so a deploy never reads the old format.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, TypeAlias

import orjson
from cachetools import TLRUCache
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from my_mcp_server.plain_counters import PlainCounter
from my_mcp_server.settings import Settings

logger = logging.getLogger(__name__)

# Bump when the shape of cached values changes: a deploy then never reads the old format.
SCHEMA_VERSION = 1

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


class BreakerState(enum.IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitBreaker:
    """Counts consecutive failures; open = skip the guarded call until the cool-down ends."""

    def __init__(self, failures: int, cooldown_s: float) -> None:
        self._threshold = failures
        self._cooldown_s = cooldown_s
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._failures < self._threshold:
            return BreakerState.CLOSED
        if time.monotonic() - self._opened_at >= self._cooldown_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True  # one probe at a time
            return True
        return False

    def succeeded(self) -> None:
        self._failures = 0
        self._probing = False

    def failed(self) -> None:
        self._failures += 1
        self._probing = False
        if self._failures >= self._threshold:
            self._opened_at = time.monotonic()


_BREAKERS: list[CircuitBreaker] = []


def _one_quick_retry() -> Retry:
    """One immediate retry: enough for a pooled connection that died with a Redis restart.

    redis-py's default (10 retries, backoff up to 1 s) makes each command take seconds while
    Redis is down, past the request timeout, before the breaker ever sees the failures.
    """
    return Retry(NoBackoff(), 1)


def _breaker_states(_: CallbackOptions) -> Iterable[Observation]:
    return [Observation(int(b.state), {"cache.layer": "l2"}) for b in _BREAKERS]


meter.create_observable_gauge(
    "mcp.server.cache.breaker.state",
    [_breaker_states],
    description="Redis circuit breaker: 0 closed, 1 open, 2 half-open",
)


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
        self._redis: Redis | None = None
        self._pubsub_redis: Redis | None = None
        self._prefix = f"{settings.cache_namespace}:v{SCHEMA_VERSION}:"
        self._channel = self._prefix + "invalidate"
        self.breaker = CircuitBreaker(
            settings.redis_breaker_failures, settings.redis_breaker_cooldown_s
        )
        self._subscriber: asyncio.Task[None] | None = None
        self._closing = False
        self.subscribed = asyncio.Event()

    async def __aenter__(self) -> TieredCache:
        if not self.enabled:
            return self
        s = self._settings
        pool = BlockingConnectionPool.from_url(
            s.redis_url.get_secret_value(),
            # +1: the pub/sub subscription holds one connection for good.
            max_connections=s.redis_pool_max + 1,
            timeout=s.redis_timeout_s,
            socket_timeout=s.redis_timeout_s,
            socket_connect_timeout=s.redis_timeout_s,
            retry=_one_quick_retry(),
        )
        self._redis = Redis(connection_pool=pool)
        # The subscription waits for messages indefinitely, so it gets a client of its own
        # without the read timeout; health checks (PING) notice a dead connection instead.
        self._pubsub_redis = Redis.from_url(
            s.redis_url.get_secret_value(),
            socket_connect_timeout=s.redis_timeout_s,
            health_check_interval=5,
            retry=_one_quick_retry(),  # the listen loop below has its own backoff
        )
        _BREAKERS.append(self.breaker)
        self._subscriber = asyncio.create_task(self._listen_for_invalidations())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is not None:
            subscriber.cancel()
        if self.breaker in _BREAKERS:
            _BREAKERS.remove(self.breaker)
        for client in (self._redis, self._pubsub_redis):
            if client is not None:
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose(close_connection_pool=True)
        self._redis = self._pubsub_redis = None
        if subscriber is not None:
            # Bounded: redis-py can swallow a cancel that lands mid-connect; the closed client
            # and the _closing flag end the loop shortly after in that case.
            await asyncio.wait({subscriber}, timeout=2)
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
        value = await self._l2_get(key)
        if value is None:
            value = await self._timed_load(loader)
            if value is not None:
                await self._l2_set(key, value)
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
        """Drop `key` from every layer and every process (call after a write)."""
        self._l1.pop(key, None)
        if self._redis is not None and self.breaker.allow():
            try:
                await self._redis.delete(self._prefix + key)
                await self._redis.publish(self._channel, key)
            except RedisError as exc:
                self._redis_failed("invalidate", exc)
            else:
                self.breaker.succeeded()

    def _redis_failed(self, operation: str, exc: Exception) -> None:
        self.breaker.failed()
        logger.warning("redis %s failed (breaker %s): %r", operation, self.breaker.state.name, exc)

    async def _l2_get(self, key: str) -> JSON:
        if self._redis is None or not self.breaker.allow():
            return None
        try:
            raw = await self._redis.get(self._prefix + key)
        except RedisError as exc:
            self._redis_failed("get", exc)
            return None
        self.breaker.succeeded()
        lookups.add(1, "l2", "miss" if raw is None else "hit")
        return None if raw is None else orjson.loads(raw)

    async def _l2_set(self, key: str, value: JSON) -> None:
        if self._redis is None or not self.breaker.allow():
            return
        ttl_ms = int(self._settings.cache_ttl_s * 1000)
        try:
            await self._redis.set(self._prefix + key, orjson.dumps(value), px=ttl_ms)
        except RedisError as exc:
            self._redis_failed("set", exc)
        else:
            self.breaker.succeeded()

    async def _listen_for_invalidations(self) -> None:
        """Drop L1 keys other processes invalidated; resubscribe with backoff after errors."""
        assert self._pubsub_redis is not None
        backoff_s = 0.1
        lost = False
        # Checked besides cancellation: redis-py may turn a cancel during connect into an error.
        while not self._closing:
            try:
                async with self._pubsub_redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    if lost:
                        self._l1.clear()  # invalidations may have been missed meanwhile
                    self.subscribed.set()
                    backoff_s = 0.1
                    while not self._closing:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None and message["type"] == "message":
                            self._l1.pop(message["data"].decode(), None)
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                if self._closing:
                    return
                lost = True
                logger.warning("redis invalidation subscription lost: %r", exc)
                await asyncio.sleep(backoff_s * (0.5 + random.random()))  # noqa: S311
                backoff_s = min(backoff_s * 2, 5.0)
