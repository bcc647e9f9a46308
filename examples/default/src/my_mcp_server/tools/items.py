"""Item tools: the read, search and write patterns against the database, reads cached.

Arguments are validated by their types (the signature is the JSON schema); SQL is
parameterized in `db.py`, so argument text can never change a query.
"""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from my_mcp_server.db import DatabaseError, Item
from my_mcp_server.resources import Resources, resources_of

Key = Annotated[str, Field(min_length=1, max_length=128, description="Item key")]
Value = Annotated[str, Field(max_length=65_536, description="Item value")]
Limit = Annotated[int, Field(ge=1, le=100, description="Maximum number of items")]

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True)


class ItemNotFoundError(ToolError):
    """No item has the key."""


async def read_item(res: Resources, key: str) -> Item:
    """The item, through the cache; a ToolError if absent or the database is busy."""

    async def load() -> object:
        item = await res.db.get_item(key)
        return None if item is None else item.model_dump(mode="json")

    try:
        found = await res.cache.get_or_load(f"item:{key}", load)
    except DatabaseError as exc:
        raise ToolError(str(exc)) from exc
    if found is None:
        raise ItemNotFoundError(f"item not found: {key!r}")
    return Item.model_validate(found)


def register(server: MCPServer[Resources]) -> None:
    @server.tool(annotations=READ_ONLY)
    async def get_item(key: Key, ctx: Context[Resources]) -> Item:
        """Read one item by key (served from the cache when warm)."""
        return await read_item(resources_of(ctx), key)

    @server.resource("item://{key}", mime_type="application/json")
    async def item_resource(key: str, ctx: Context[Resources]) -> str:
        """One item as JSON; its result carries the cache's freshness hint."""
        try:
            item = await read_item(resources_of(ctx), key)
        except ItemNotFoundError as exc:
            # Not found is the client's mistake (-32602), not the server's fault (-32603).
            raise ResourceNotFoundError(str(exc)) from exc
        return item.model_dump_json()

    @server.tool(annotations=READ_ONLY)
    async def search_items(prefix: str, ctx: Context[Resources], limit: Limit = 10) -> list[Item]:
        """Items whose key starts with `prefix`, in key order."""
        try:
            return await resources_of(ctx).db.search_items(prefix[:128], limit)
        except DatabaseError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True, destructive_hint=False))
    async def put_item(key: Key, value: Value, ctx: Context[Resources]) -> Item:
        """Create or replace an item, then invalidate its cached copy."""
        res = resources_of(ctx)
        try:
            item = await res.db.put_item(key, value)
        except DatabaseError as exc:
            raise ToolError(str(exc)) from exc
        await res.cache.invalidate(f"item:{key}")
        return item
