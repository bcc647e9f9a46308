"""Example prompts: `explain_sla` and `describe_item` (embeds an item as a resource).

Arguments are strings (MCP prompts take string arguments only); completions.py completes them.
"""

from mcp.server.mcpserver import Context, MCPServer, UserMessage
from mcp.shared.exceptions import MCPError
from mcp.types import EmbeddedResource, TextResourceContents
from mcp_types import INVALID_PARAMS

from my_mcp_server.resources import Resources, resources_of
from my_mcp_server.tools.items import ItemNotFoundError, read_item

AUDIENCES = ("developers", "operators", "product")
STYLES = ("brief", "detailed")


def register_prompts(server: MCPServer[Resources]) -> None:
    @server.prompt(title="Explain the SLA")
    async def explain_sla(audience: str, ctx: Context[Resources]) -> list[UserMessage]:
        """Explain this server's SLA targets to an audience: developers, operators or product."""
        s = resources_of(ctx).settings
        return [
            UserMessage(
                f"Explain to {audience} what these service-level targets of "
                f"{server.name!r} mean in practice and what breaks when they are missed: "
                f"p95 latency {s.sla_p95_ms} ms, p99 latency {s.sla_p99_ms} ms, "
                f"{s.sla_rps} requests/s, error rate below {s.sla_error_rate:.3%}."
            )
        ]

    @server.prompt(title="Describe an item")
    async def describe_item(
        key: str, ctx: Context[Resources], style: str = "brief"
    ) -> list[UserMessage]:
        """Ask the model to describe one item, which the prompt embeds (style: brief or detailed)."""
        try:
            item = await read_item(resources_of(ctx), key)
        except ItemNotFoundError as exc:
            # The client named an item that does not exist: its mistake, -32602.
            raise MCPError(code=INVALID_PARAMS, message=str(exc), data={"key": key}) from None
        resource = EmbeddedResource(
            type="resource",
            resource=TextResourceContents(
                uri=f"item://{key}", mime_type="application/json", text=item.model_dump_json()
            ),
        )
        return [
            UserMessage(resource),
            UserMessage(f"Describe the item above in a {style} way, in plain language."),
        ]
