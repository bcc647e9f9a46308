"""`make bench-cache`: a Zipf-distributed hot-read workload with the cache on vs off, one run.

Same harness for both: CONCURRENCY readers for SECONDS each, keys drawn from a Zipf distribution
over KEYS ranks, every read through `TieredCache.get_or_load` with the server's real loader
(Database.get_item).
With the cache off, get_or_load calls the loader every time. The last line is
`cache_vs_nocache_ratio=<x> hit_ratio=<h>` (goals: ratio >= 5, hit ratio >= 0.9).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from my_mcp_server.cache import TieredCache
from my_mcp_server.db import Database
from my_mcp_server.preflight import check_services
from my_mcp_server.settings import Settings

from loadtest.scenarios import ZipfKeys

KEYS = 1_000


async def measure(settings: Settings, concurrency: int, seconds: float) -> tuple[float, float]:
    """(reads per second, share of reads the loader did not have to serve)."""
    zipf = ZipfKeys(KEYS)
    loads = reads = 0
    async with AsyncExitStack() as stack:
        cache = await stack.enter_async_context(TieredCache(settings))
        db = await stack.enter_async_context(Database(settings))

        async def load(rank: int) -> Any:
            nonlocal loads
            loads += 1
            item = await db.get_item(f"item-{rank:06d}")
            return None if item is None else item.model_dump(mode="json")

        deadline = time.perf_counter() + seconds

        async def reader(seed: int) -> None:
            nonlocal reads
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                rank = zipf.rank(rng)
                await cache.get_or_load(f"bench:{rank}", functools.partial(load, rank))
                reads += 1

        began = time.perf_counter()
        await asyncio.gather(*(reader(seed) for seed in range(concurrency)))
        elapsed = time.perf_counter() - began
    return reads / elapsed, 1 - loads / reads


async def main(concurrency: int, seconds: float) -> None:
    base = Settings(sqlite_path=str(Path(tempfile.mkdtemp(prefix="bench-cache-")) / "b.sqlite3"))
    # The project's database (created when missing), Redis: one line and exit 1 if unreachable.
    await check_services(base, create_database=True)
    async with Database(base) as db:
        await db.seed(KEYS)
    rows = []
    for name, enabled in (("cache", True), ("nocache", False)):
        rps, hit_ratio = await measure(
            base.model_copy(update={"cache_enabled": enabled}), concurrency, seconds
        )
        rows.append((rps, hit_ratio))
        print(f"{name:>8}: {rps:9.0f} reads/s  hit ratio {hit_ratio:.3f}", flush=True)
    print(f"cache_vs_nocache_ratio={rows[0][0] / rows[1][0]:.1f} hit_ratio={rows[0][1]:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.concurrency, args.seconds))
