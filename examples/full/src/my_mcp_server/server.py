"""Builds the MCP server on the official SDK: tools, lifespan, auth."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from pydantic import AnyHttpUrl

from my_mcp_server import DESCRIPTION, __version__
from my_mcp_server.auth import StaticTokenVerifier
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
        token_verifier=StaticTokenVerifier(settings.auth_tokens.get_secret_value()),
        auth=AuthSettings(
            issuer_url=AnyHttpUrl(settings.auth_issuer_url),
            resource_server_url=AnyHttpUrl(settings.auth_resource_url),
            required_scopes=settings.auth_required_scopes,
            # The static verifier checks the token itself; there is no resource claim to match.
            validate_token_resource=False,
        ),
    )
    register_tools(server)
    return server
