"""Example tools, one module per pattern. `register_tools` adds them all to a server."""

from mcp.server.mcpserver import MCPServer

from my_mcp_server.resources import Resources
from my_mcp_server.tools import delete, info, items, upstream


def register_tools(server: MCPServer[Resources], resources: Resources) -> None:
    info.register(server)
    upstream.register(server)
    items.register(server, resources)
    delete.register(server)
