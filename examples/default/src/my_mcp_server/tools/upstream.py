"""`fetch_upstream`: the outbound-HTTP pattern, through the shared pooled client, cached."""

from typing import Annotated

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from my_mcp_server.resources import Resources, resources_of

Path = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        pattern=r"^/[A-Za-z0-9/_.-]*$",
        description="Path on the configured upstream, e.g. /status",
    ),
]


def register(server: MCPServer[Resources]) -> None:
    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True))
    async def fetch_upstream(path: Path, ctx: Context[Resources]) -> str:
        """GET `path` from the configured upstream service and return the body text."""
        res = resources_of(ctx)

        async def load() -> str:
            try:
                response = await res.http.get(path)
                response.raise_for_status()
            except httpx.HTTPStatusError as exc:
                raise ToolError(f"upstream answered {exc.response.status_code} for {path}") from exc
            except httpx.HTTPError as exc:
                raise ToolError(f"upstream unreachable: {type(exc).__name__}") from exc
            return response.text

        return str(await res.cache.get_or_load(f"upstream:{path}", load))
