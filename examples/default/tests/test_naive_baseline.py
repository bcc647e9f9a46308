"""The benchmarks' naive baseline (loadtest/naive_db.py) is what `make perf-report` and
`make bench-db` say it is: a new connection for every call, where the production database reuses
its pool; both read the same data through the same code."""

from pathlib import Path

import pytest

from my_mcp_server.db import Database
from my_mcp_server.settings import Settings

from loadtest.naive_db import ConnectionPerCall

pytestmark = pytest.mark.anyio
CALLS = 3


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, sqlite_path=str(tmp_path / "naive.sqlite3"), sqlite_readers=1)


async def backends(db: Database) -> set[int]:
    """The reader connection (by identity) of each of CALLS reads made one after another."""
    connections = []  # held, so no two of them can share an id
    for _ in range(CALLS):
        async with db.reader() as conn:
            async with conn.execute("SELECT 1") as cursor:
                assert await cursor.fetchone() is not None
            connections.append(conn)
    return {id(conn) for conn in connections}


async def test_the_pool_reuses_one_connection_and_the_baseline_opens_one_per_call(
    settings: Settings,
) -> None:
    async with Database(settings) as pooled:
        assert len(await backends(pooled)) == 1
        await pooled.put_item("naive-baseline", "same data")
    async with ConnectionPerCall(settings) as naive:
        assert len(await backends(naive)) == CALLS
        item = await naive.get_item("naive-baseline")
        assert item is not None
        assert item.value == "same data"
        stats = naive.pool_stats()
        assert (stats.used, stats.idle) == (0, 0)  # nothing kept open between calls
