"""Redis as a shared, optional layer, through real server processes.

- Redis shut down mid-traffic: no tool call fails (the breaker serves from L1 / the loader), and
  once Redis is back the cache writes to it again.
- Two server processes (replicas): a write on one drops the other's L1 copy within 1 s.
"""

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
import pytest
import redis

from tests.conftest import call_tool, running_server

from loadtest.run import SSL_CONTEXT

pytestmark = pytest.mark.anyio


@contextmanager
def redis_server(socket_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A throwaway redis-server on a unix socket (no TCP port another process could take in
    between a shutdown and a restart) that keeps nothing on disk."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("MCP_TEMPLATE_REQUIRE_TOOLS"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    options = {"--port": "0", "--unixsocket": str(socket_path), "--save": "", "--appendonly": "no"}
    command = [binary, *(part for pair in options.items() for part in pair)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    client = redis.Redis(unix_socket_path=str(socket_path))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    output = proc.communicate()[0].decode(errors="replace")
                    pytest.fail(f"redis-server did not come up on {socket_path}:\n{output}")
                time.sleep(0.05)
        yield proc
    finally:
        proc.kill()
        proc.wait()
        client.close()


@pytest.mark.slow
async def test_redis_outage_fails_no_call_and_l2_returns(
    server_env: dict[str, str], auth_headers: dict[str, str], tmp_path: Path
) -> None:
    socket_path = tmp_path / "redis.sock"
    namespace = f"outage-{uuid.uuid4().hex[:8]}"
    overrides = {
        "redis_url": f"unix://{socket_path}?db=0",
        "cache_namespace": namespace,
        "redis_breaker_cooldown_s": "0.5",
    }
    calls = 0

    async def fetch(http: httpx.AsyncClient) -> dict[str, object]:
        nonlocal calls
        calls += 1  # a new path each time: an L1 miss that consults Redis
        path = f"/status/{calls}"
        return await call_tool(http, auth_headers, "fetch_upstream", {"path": path})

    with redis_server(socket_path) as first, running_server(server_env, **overrides) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30, verify=SSL_CONTEXT) as http:
            results = [await fetch(http) for _ in range(5)]
            first.terminate()  # SIGTERM: redis-server shuts down like `shutdown nosave`
            first.wait()
            results += [await fetch(http) for _ in range(20)]
            with redis_server(socket_path):
                probe = redis.Redis(unix_socket_path=str(socket_path))
                # A bound for a stuck test, not a timing target: a loaded CI machine is slow.
                with anyio.fail_after(60):
                    while not probe.keys(f"{namespace}:*"):
                        results.append(await fetch(http))
                        await anyio.sleep(0.1)
                probe.close()
    assert [r for r in results if r.get("isError")] == []


@pytest.mark.slow
async def test_write_on_one_replica_invalidates_the_other(
    base_url: str, server_env: dict[str, str], auth_headers: dict[str, str]
) -> None:
    key = f"replica-{uuid.uuid4().hex[:8]}"
    with running_server(server_env) as other_url:
        async with (
            httpx.AsyncClient(base_url=base_url, timeout=30, verify=SSL_CONTEXT) as one,
            httpx.AsyncClient(base_url=other_url, timeout=30, verify=SSL_CONTEXT) as other,
        ):
            await call_tool(one, auth_headers, "put_item", {"key": key, "value": "old"})
            cached = await call_tool(other, auth_headers, "get_item", {"key": key})
            assert cached["structuredContent"]["value"] == "old"  # now in the other's L1
            await call_tool(one, auth_headers, "put_item", {"key": key, "value": "new"})
            # A bound for a stuck test, well under the L1 TTL (30 s): only the
            # invalidation, not an expiry, can make the other replica see the new value in time.
            with anyio.fail_after(10):
                while True:
                    seen = await call_tool(other, auth_headers, "get_item", {"key": key})
                    if seen["structuredContent"]["value"] == "new":
                        break
                    await anyio.sleep(0.02)
