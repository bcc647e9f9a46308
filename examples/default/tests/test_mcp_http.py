"""The official MCP client against the real server process over Streamable HTTP.

Every test here runs twice: against a server with the tools/call executor (the default) and one
with it switched off, where every request takes the SDK's own entry.
"""

import subprocess
import sys
from functools import partial
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import (
    ENV_PREFIX,
    MODES,
    PACKAGE,
    Connect,
    Mode,
    client_for,
)

from loadtest.run import HTTP, SSL_CONTEXT, free_port

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def base_url(url_on_each_path: str) -> str:
    """This module's tests run on both session servers: the executor on, then off."""
    return url_on_each_path


@pytest.fixture(scope="module")
def mcp_url(base_url: str) -> str:
    return base_url + "/mcp"


@pytest.fixture(scope="module")
def connect(mcp_url: str) -> Connect:
    return partial(client_for, mcp_url)


EXPECTED_TOOLS = {
    "server_info",
    "fetch_upstream",
    "get_item",
    "search_items",
    "put_item",
    "delete_item",
}


def test_health_and_readiness(base_url: str) -> None:
    assert HTTP.get(base_url + "/healthz").json() == {"status": "ok"}
    ready = HTTP.get(base_url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


@pytest.mark.slow
@pytest.mark.parametrize("up", [True, False], ids=["server-up", "nothing-listening"])
def test_healthcheck_command(base_url: str, server_env: dict[str, str], up: bool) -> None:
    """`python -m <pkg> healthcheck` is the container HEALTHCHECK: 0 iff /healthz answers."""
    port = urlsplit(base_url).port if up else free_port()
    # A container binds every interface; the probe must still dial the loopback address.
    env = server_env | {ENV_PREFIX + "HOST": "0.0.0.0", ENV_PREFIX + "PORT": str(port)}  # noqa: S104
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "healthcheck"], env=env, timeout=30, check=False
    )
    assert done.returncode == (0 if up else 1)


@pytest.mark.parametrize("mode", MODES)
async def test_lists_the_example_tools(connect: Connect, mode: Mode) -> None:
    async with connect(mode) as client:
        tools = await client.list_tools()
    assert {tool.name for tool in tools.tools} == EXPECTED_TOOLS


@pytest.mark.parametrize("mode", MODES)
async def test_server_info_reports_the_sla(connect: Connect, mode: Mode) -> None:
    async with connect(mode) as client:
        if mode == "auto":
            assert client.protocol_version == "2026-07-28"
        result = await client.call_tool("server_info", {})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["sla_p95_ms"] == 100
    assert result.structured_content["sla_rps"] == 500


@pytest.mark.parametrize("mode", MODES)
async def test_fetch_upstream_uses_the_shared_client(connect: Connect, mode: Mode) -> None:
    async with connect(mode) as client:
        ok = await client.call_tool("fetch_upstream", {"path": "/status"})
        missing = await client.call_tool("fetch_upstream", {"path": "/missing"})
    assert not ok.is_error
    assert ok.structured_content == {"result": '{"status": "green"}'}
    assert missing.is_error
    assert "404" in str(missing.content)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("fetch_upstream", {"path": 42}),
        ("fetch_upstream", {"path": "no-leading-slash"}),
        ("fetch_upstream", {}),
    ],
)
async def test_bad_calls_are_errors_and_the_server_survives(
    connect: Connect, base_url: str, tool: str, arguments: dict[str, object]
) -> None:
    async with connect("auto") as client:
        result = await client.call_tool(tool, arguments)
        assert result.is_error
        follow_up = await client.call_tool("server_info", {})
    assert not follow_up.is_error
    async with httpx.AsyncClient(verify=SSL_CONTEXT) as http:
        assert (await http.get(base_url + "/healthz")).status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", -32700),
        (b'{"jsonrpc": "2.0", "id": 1}', -32602),
        (b"[1, 2]", -32602),
    ],
)
def test_malformed_bodies_get_json_rpc_errors(
    mcp_url: str, base_url: str, auth_headers: dict[str, str], body: bytes, code: int
) -> None:
    response = HTTP.post(
        mcp_url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            **auth_headers,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert HTTP.get(base_url + "/healthz").status_code == 200


def test_foreign_host_header_is_refused(mcp_url: str, auth_headers: dict[str, str]) -> None:
    """DNS-rebinding protection: a browser tricked into calling us sends a foreign Host."""
    response = HTTP.post(
        mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Host": "attacker.example",
            "Accept": "application/json, text/event-stream",
            **auth_headers,
        },
    )
    assert response.status_code in (403, 421)
