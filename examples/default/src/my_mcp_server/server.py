"""Builds the MCP server on the official SDK: tools, prompts, completions, lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.context import ServerMiddleware
from mcp.server.mcpserver import MCPServer

from my_mcp_server import DESCRIPTION, __version__
from my_mcp_server.cache_hints import cache_hints
from my_mcp_server.completions import register_completions
from my_mcp_server.errors import ClientMistakes
from my_mcp_server.prompts import register_prompts
from my_mcp_server.request_state import request_state_security
from my_mcp_server.resources import Resources
from my_mcp_server.tool_contexts import ContextAwareServer
from my_mcp_server.tool_metrics import ToolCallMetrics
from my_mcp_server.tools import register_tools
from my_mcp_server.worker_stamp import stamp_worker_pid


def build_server(resources: Resources) -> MCPServer[Resources]:
    """A server whose lifespan opens `resources` once and closes them on shutdown."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[Resources]) -> AsyncIterator[Resources]:
        async with resources:
            yield resources

    settings = resources.settings
    mistakes = ClientMistakes()
    # Inside the SDK's own span and request-state middleware, outermost first: metrics (duration,
    # outcome and in-flight per MCP request) also see the errors ClientMistakes raises.
    middleware: list[ServerMiddleware[Any]] = (
        [ToolCallMetrics()] if settings.telemetry_enabled else []
    )
    middleware.append(mistakes)
    if settings.debug_worker_pid:
        middleware.append(stamp_worker_pid)
    # An MCPServer that notes which tools read their Context (tool_contexts.py).
    server = ContextAwareServer[Resources](
        "my-mcp-server",
        version=__version__,
        instructions=DESCRIPTION,
        cache_hints=cache_hints(settings),
        lifespan=lifespan,
        log_level=settings.log_level,
        middleware=middleware,
        # One key for every worker and replica, so any of them can take a multi-round call's
        # next round (None: the SDK's key of this process only).
        request_state_security=request_state_security(settings),
        # Nothing here pushes list changes or resource updates (and an in-process bus would not
        # reach other workers): declare no listChanged/subscribe, serve no subscriptions/listen.
        subscriptions=False,
    )
    mistakes.check_against(server)
    register_tools(server, resources)
    register_prompts(server)
    register_completions(server, resources)
    return server
