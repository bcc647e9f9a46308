"""TieredCache behaviour against the in-process layer."""

import anyio
import pytest

from my_mcp_server.cache import TieredCache
from my_mcp_server.settings import Settings

pytestmark = pytest.mark.anyio


class ManualClock:
    """L1's clock for expiry tests: time moves when the test says, not while the machine stalls."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,
        cache_ttl_s=30,
    )


async def test_concurrent_misses_load_once(settings: Settings) -> None:
    loads = 0

    async def loader() -> dict[str, int]:
        nonlocal loads
        loads += 1
        await anyio.sleep(0.05)
        return {"n": 1}

    results: list[object] = []

    async def read(cache: TieredCache) -> None:
        results.append(await cache.get_or_load("k", loader))

    async with TieredCache(settings) as cache, anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(read, cache)
    assert loads == 1
    assert results == [{"n": 1}] * 50


async def test_hit_after_load_and_reload_after_invalidate(settings: Settings) -> None:
    version = 0

    async def loader() -> int:
        nonlocal version
        version += 1
        return version

    async with TieredCache(settings) as cache:
        assert await cache.get_or_load("k", loader) == 1
        assert await cache.get_or_load("k", loader) == 1
        await cache.invalidate("k")
        assert await cache.get_or_load("k", loader) == 2


async def test_loader_failure_is_not_cached(settings: Settings) -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("backend down")
        return "ok"

    async with TieredCache(settings) as cache:
        with pytest.raises(RuntimeError):
            await cache.get_or_load("k", flaky)
        assert await cache.get_or_load("k", flaky) == "ok"


async def test_misses_are_cached_briefly(settings: Settings) -> None:
    loads = 0

    async def absent() -> None:
        nonlocal loads
        loads += 1

    short = settings.model_copy(update={"cache_negative_ttl_s": 0.2})
    clock = ManualClock()
    async with TieredCache(short, clock=clock) as cache:
        assert await cache.get_or_load("absent", absent) is None
        clock.now = 0.19
        assert await cache.get_or_load("absent", absent) is None
        assert loads == 1  # the second lookup was answered by the remembered miss
        clock.now = 0.21
        assert await cache.get_or_load("absent", absent) is None
    assert loads == 2


async def test_ttl_jitter_spreads_expiry(settings: Settings) -> None:
    """Entries filled together expire between (1 - jitter) x TTL and TTL, not all at once."""

    async def one() -> int:
        return 1

    jittery = settings.model_copy(update={"cache_ttl_s": 0.6, "cache_ttl_jitter": 0.5})
    clock = ManualClock()
    async with TieredCache(jittery, clock=clock) as cache:
        for i in range(50):
            await cache.get_or_load(f"k{i}", one)

        def alive_at(now: float) -> int:
            clock.now = now
            return sum(f"k{i}" in cache._l1 for i in range(50))

        assert alive_at(0.29) == 50  # nothing lives less than (1 - jitter) x TTL
        assert 0 < alive_at(0.45) < 50  # spread: some gone, some still there
        assert alive_at(0.61) == 0  # nothing outlives the TTL


async def test_disabled_cache_always_loads(settings: Settings) -> None:
    loads = 0

    async def loader() -> int:
        nonlocal loads
        loads += 1
        return loads

    async with TieredCache(settings.model_copy(update={"cache_enabled": False})) as cache:
        assert [await cache.get_or_load("k", loader) for _ in range(3)] == [1, 2, 3]
