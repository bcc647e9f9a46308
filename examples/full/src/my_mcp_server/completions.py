"""`completion/complete`: suggestions for the prompts' arguments and the `item://{key}` template's key.

Item keys come from the database's prefix search, at most `MAX_VALUES` per answer (the
specification's cap), cached like reads: a prefix typed by many users costs
one query per TTL (a new or deleted key shows up within the TTL).
A reference to a prompt the server does not have is the client's mistake (-32602).
"""

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)
from mcp_types import INVALID_PARAMS, Completion

from my_mcp_server.prompts import AUDIENCES, STYLES
from my_mcp_server.resources import Resources

MAX_VALUES = 100  # the most values one completion may carry
ITEM_TEMPLATE = "item://{key}"
MAX_PREFIX = 128  # the longest key (tools/items.py)


def choices(values: tuple[str, ...], prefix: str) -> Completion:
    found = [value for value in values if value.startswith(prefix)]
    return Completion(values=found, total=len(found), has_more=False)


async def item_keys(resources: Resources, prefix: str) -> Completion:
    """Keys that start with `prefix`, in key order, at most MAX_VALUES."""
    prefix = prefix[:MAX_PREFIX]

    async def load() -> list[str]:
        # One more than shown tells whether there are more.
        items = await resources.db.search_items(prefix, MAX_VALUES + 1)
        return [item.key for item in items]

    cached = await resources.cache.get_or_load(f"complete:item-key:{prefix}", load)
    keys = [str(key) for key in cached] if isinstance(cached, list) else []
    return Completion(values=keys[:MAX_VALUES], has_more=len(keys) > MAX_VALUES)


def register_completions(server: MCPServer[Resources], resources: Resources) -> None:
    """`resources` is the server's container (completion handlers get no request context)."""

    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        if isinstance(ref, PromptReference):
            if ref.name == "explain_sla" and argument.name == "audience":
                return choices(AUDIENCES, argument.value)
            if ref.name == "describe_item" and argument.name == "style":
                return choices(STYLES, argument.value)
            if ref.name == "describe_item" and argument.name == "key":
                return await item_keys(resources, argument.value)
            if ref.name not in {"explain_sla", "describe_item"}:
                raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {ref.name}")
        elif ref.uri == ITEM_TEMPLATE and argument.name == "key":
            return await item_keys(resources, argument.value)
        return None  # nothing to suggest for this argument

    # `MCPServer.completion` carries no type annotations in mcp 2.3.0.
    server.completion()(complete)  # type: ignore[no-untyped-call]
