"""The benchmarks' naive baseline (loadtest/naive_db.py) is what `make perf-report` and
`make bench-db` say it is: a new connection for every call, where the production database reuses
its pool; both read the same data through the same code."""

import pytest
from pydantic import SecretStr

from my_mcp_server.db import Database
from my_mcp_server.settings import Settings

from loadtest.naive_db import ConnectionPerCall

pytestmark = pytest.mark.anyio
CALLS = 3


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None, database_url=SecretStr(database_url), db_pool_min_size=1, db_pool_max_size=2
    )


async def backends(db: Database) -> set[int]:
    """The PostgreSQL backend (server process) of each of CALLS calls made one after another."""
    pids: set[int] = set()
    for _ in range(CALLS):
        async with db.connection() as conn:
            pids.add(await conn.fetchval("SELECT pg_backend_pid()"))
    return pids


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
