"""The asyncpg pool under pressure, against the real PostgreSQL: bounded, fail-fast, self-healing.

A dedicated server runs with a pool of POOL_MAX connections under its own application_name, so
pg_stat_activity shows exactly its connections.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import asyncpg
import httpx
import pytest

from tests.conftest import call_tool, running_server

from loadtest.run import SSL_CONTEXT

pytestmark = pytest.mark.anyio
POOL_MAX = 3


@pytest.fixture(scope="module")
def app_name() -> str:
    return f"pooltest-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def pool_url(server_env: dict[str, str], app_name: str) -> Iterator[str]:
    with running_server(
        server_env,
        db_pool_max_size=str(POOL_MAX),
        db_pool_min_size="1",
        db_acquire_timeout_s="0.5",
        db_command_timeout_s="20",
        request_timeout_s="30",
        db_application_name=app_name,
    ) as url:
        yield url


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def locker(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def _connections(admin: asyncpg.Connection, app_name: str) -> int:
    # Outside a transaction, so every query sees a fresh pg_stat_activity snapshot.
    count = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app_name
    )
    return int(count)


@pytest.mark.slow
async def test_exhausted_pool_fails_fast_and_never_exceeds_max(
    pool_url: str,
    auth_headers: dict[str, str],
    admin: asyncpg.Connection,
    locker: asyncpg.Connection,
    app_name: str,
) -> None:
    calls = 4 * POOL_MAX
    results: list[dict[str, Any]] = []
    observed: list[int] = []
    async with httpx.AsyncClient(base_url=pool_url, timeout=60, verify=SSL_CONTEXT) as http:
        # Hold a lock every query needs: a call that gets a connection keeps it busy.
        transaction = locker.transaction()
        await transaction.start()
        await locker.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")

        async def search(i: int) -> None:
            args = {"prefix": f"busy-{i}", "limit": 1}
            results.append(await call_tool(http, auth_headers, "search_items", args))

        async with anyio.create_task_group() as tg:
            for i in range(calls):
                tg.start_soon(search, i)
            # Every call but the POOL_MAX holding a connection fails fast, while the lock holds.
            with anyio.fail_after(20):
                while len(results) < calls - POOL_MAX:
                    observed.append(await _connections(admin, app_name))
                    await anyio.sleep(0.02)
            observed.append(await _connections(admin, app_name))
            busy = list(results)
            await transaction.rollback()
        follow_up = await call_tool(http, auth_headers, "search_items", {"prefix": "x", "limit": 1})

    assert max(observed) == POOL_MAX
    assert len(busy) == calls - POOL_MAX
    assert all(r.get("isError") and "database busy" in r["content"][0]["text"] for r in busy)
    finished = results[len(busy) :]
    assert len(finished) == POOL_MAX
    assert not any(r.get("isError") for r in finished)
    assert not follow_up.get("isError")


async def test_terminated_connections_recover_without_losing_acknowledged_writes(
    pool_url: str, auth_headers: dict[str, str], admin: asyncpg.Connection, app_name: str
) -> None:
    prefix = f"kill-{uuid.uuid4().hex[:8]}-"
    acknowledged: dict[str, str] = {}
    failed: list[str] = []
    terminated = anyio.Event()
    ten_acknowledged = anyio.Event()

    async with httpx.AsyncClient(base_url=pool_url, timeout=60, verify=SSL_CONTEXT) as http:

        async def write(i: int) -> None:
            key, value = f"{prefix}{i}", f"v{i}"
            result = await call_tool(http, auth_headers, "put_item", {"key": key, "value": value})
            if result.get("isError"):
                failed.append(result["content"][0]["text"])
            else:
                acknowledged[key] = value
                if len(acknowledged) == 10:
                    ten_acknowledged.set()

        async def terminate_midway() -> None:
            await ten_acknowledged.wait()
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1",
                app_name,
            )
            terminated.set()

        limiter = anyio.CapacityLimiter(POOL_MAX * 2)

        async def limited_write(i: int) -> None:
            async with limiter:
                await write(i)

        async with anyio.create_task_group() as tg:
            tg.start_soon(terminate_midway)
            for i in range(40):
                tg.start_soon(limited_write, i)
        assert terminated.is_set()

        # After the outage every call succeeds again, on fresh connections.
        after = [
            await call_tool(http, auth_headers, "put_item", {"key": f"{prefix}+{i}", "value": "x"})
            for i in range(2 * POOL_MAX)
        ]
    assert not any(r.get("isError") for r in after)
    rows = await admin.fetch("SELECT key, value FROM items WHERE key LIKE $1", prefix + "%")
    stored = {row["key"]: row["value"] for row in rows}
    assert {k: stored.get(k) for k in acknowledged} == acknowledged
    # The retry on a fresh connection hides the terminated ones from callers.
    assert failed == []
