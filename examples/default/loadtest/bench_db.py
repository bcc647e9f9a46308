"""`make bench-db`: the read path through the pool vs a new connection per call, one run.

Same harness for both: the server's own `Database.get_item`, CONCURRENCY concurrent readers for
SECONDS each, over seeded keys, on this machine's SQLite (a temporary file). The last line is
`pool_vs_naive_ratio=<x>` (throughput ratio, goal >= 5).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from my_mcp_server.db import Database
from my_mcp_server.preflight import check_services
from my_mcp_server.settings import Settings

from loadtest.naive_db import ConnectionPerCall

KEYS = 1_000


async def measure(
    database_type: type[Database], settings: Settings, concurrency: int, seconds: float
) -> tuple[float, float]:
    """(calls per second, p95 latency in ms) of get_item on `database_type`."""
    latencies: list[float] = []
    async with database_type(settings) as db:
        deadline = time.perf_counter() + seconds

        async def reader() -> None:
            while time.perf_counter() < deadline:
                key = f"item-{random.randint(1, KEYS):06d}"
                started = time.perf_counter()
                item = await db.get_item(key)
                latencies.append(time.perf_counter() - started)
                if item is None:
                    raise SystemExit(f"bench-db: {key} missing; seeding failed")

        began = time.perf_counter()
        await asyncio.gather(*(reader() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    p95 = statistics.quantiles(latencies, n=100)[94] * 1000
    return len(latencies) / elapsed, p95


async def main(concurrency: int, seconds: float) -> None:
    workdir = tempfile.mkdtemp(prefix="bench-db-")
    base = Settings(sqlite_path=str(Path(workdir) / "bench.sqlite3"))
    # The project's database (created when missing), Redis: one line and exit 1 if unreachable.
    await check_services(base, create_database=True)
    async with Database(base) as db:
        await db.seed(KEYS)
    # The pooled run may use as many connections as readers, so neither side is starved.
    settings = base.model_copy(
        update={
            "concurrency_limit": max(concurrency, base.concurrency_limit),
            "db_migrate_on_start": False,  # migrated above
        }
    )
    rows = []
    for name, database_type in (("pool", Database), ("naive", ConnectionPerCall)):
        rps, p95 = await measure(database_type, settings, concurrency, seconds)
        rows.append((name, rps, p95))
        print(f"{name:>6}: {rps:9.0f} reads/s  p95 {p95:7.2f} ms", flush=True)
    ratio = rows[0][1] / rows[1][1]
    print(f"pool_vs_naive_ratio={ratio:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.concurrency, args.seconds))
