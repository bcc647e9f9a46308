"""The official MCP client against the server over stdio (what desktop clients use)."""

import sys

import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_stdio_round_trip(server_env: dict[str, str]) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "my_mcp_server", "serve", "--transport", "stdio"],
        env=server_env,
    )
    async with Client(params) as client:
        tools = await client.list_tools()
        result = await client.call_tool("server_info", {})
    assert "server_info" in {tool.name for tool in tools.tools}
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["sla_p99_ms"] == 250
