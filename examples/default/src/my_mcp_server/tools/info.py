"""`server_info`: a dependency-free tool, handy as a liveness check through the MCP stack."""

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel

from my_mcp_server import __version__
from my_mcp_server.resources import Resources, resources_of


class ServerInfo(BaseModel):
    name: str
    version: str
    sla_p95_ms: int
    sla_p99_ms: int
    sla_rps: int
    sla_error_rate: float


def register(server: MCPServer[Resources]) -> None:
    @server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
    async def server_info(ctx: Context[Resources]) -> ServerInfo:
        """Name, version and SLA targets of this server."""
        s = resources_of(ctx).settings
        return ServerInfo(
            name="my-mcp-server",
            version=__version__,
            sla_p95_ms=s.sla_p95_ms,
            sla_p99_ms=s.sla_p99_ms,
            sla_rps=s.sla_rps,
            sla_error_rate=s.sla_error_rate,
        )
