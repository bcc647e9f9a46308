"""Builds the MCP server on the official SDK: tools, lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer

from my_mcp_server import DESCRIPTION, __version__
from my_mcp_server.cache_hints import cache_hints
from my_mcp_server.resources import Resources
from my_mcp_server.telemetry import ToolCallMetrics
from my_mcp_server.tools import register_tools


def build_server(resources: Resources) -> MCPServer[Resources]:
    """A server whose lifespan opens `resources` once and closes them on shutdown."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[Resources]) -> AsyncIterator[Resources]:
        async with resources:
            yield resources

    settings = resources.settings
    server = MCPServer(
        "my-mcp-server",
        version=__version__,
        instructions=DESCRIPTION,
        cache_hints=cache_hints(settings),
        lifespan=lifespan,
        log_level=settings.log_level,
        # Inside the SDK's own span middleware: duration, outcome and in-flight per MCP request.
        middleware=[ToolCallMetrics()] if settings.telemetry_enabled else [],
    )
    register_tools(server)
    return server
