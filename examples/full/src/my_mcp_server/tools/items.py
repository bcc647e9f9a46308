"""Item tools: the read, search and write patterns against the database, reads cached.

Arguments are validated by their types (the signature is the JSON schema); SQL is
parameterized in `db.py`, so argument text can never change a query.
"""

from typing import Annotated, Any, cast

import pydantic_core
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from my_mcp_server.db import DatabaseError, Item
from my_mcp_server.memos import BuiltPerObject
from my_mcp_server.resources import Resources
from my_mcp_server.tool_results import never_changed

Key = Annotated[str, Field(min_length=1, max_length=128, description="Item key")]
Value = Annotated[str, Field(max_length=65_536, description="Item value")]
Limit = Annotated[int, Field(ge=1, le=100, description="Maximum number of items")]

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True)


class ItemNotFoundError(ToolError):
    """No item has the key."""


async def read_cached(res: Resources, key: str) -> dict[str, Any]:
    """The item as the cache holds it (its JSON form); a ToolError if absent or the database is busy."""

    async def load() -> object:
        item = await res.db.get_item(key)
        return None if item is None else item.model_dump(mode="json")

    try:
        found = await res.cache.get_or_load(f"item:{key}", load)
    except DatabaseError as exc:
        raise ToolError(str(exc)) from exc
    if found is None:
        raise ItemNotFoundError(f"item not found: {key!r}")
    return cast(dict[str, Any], found)


async def read_item(res: Resources, key: str) -> Item:
    """The item, through the cache; a ToolError if absent or the database is busy."""
    return Item.model_validate(await read_cached(res, key))


def item_result(found: dict[str, Any]) -> CallToolResult:
    """get_item's result from the item's cached JSON, as it is: the SDK still checks it against
    Item (the output schema), but nothing builds an Item from it only to dump it again. The text
    block is what the SDK writes for a returned Item."""
    text = pydantic_core.to_json(found, indent=2).decode()
    result = CallToolResult(content=[TextContent(type="text", text=text)], structured_content=found)
    # Built once per cached item and shared by the calls that read it (register), so never
    # changed: the executor writes its wire form once too (tool_results.py).
    return never_changed(result)


def register(server: MCPServer[Resources], res: Resources) -> None:
    # The tools use the resources of the server they are registered on (opened by its lifespan
    # before the first call): the hot read needs no per-call lookup through the request context.
    # get_item's result is built once for each item the cache holds. The cache's in-process
    # layer hands out the same object on every hit, and a new one after a refill, invalidation
    # or expiry: a result built from that object stays right while it is handed out. Safe to
    # share because nothing changes a tool's result: the SDK and the executor only read it to
    # write it, and server middleware sees the written form.
    results = BuiltPerObject[str, dict[str, Any], CallToolResult](res.settings.cache_l1_max_items)

    @server.tool(annotations=READ_ONLY)
    async def get_item(key: Key) -> Annotated[CallToolResult, Item]:
        """Read one item by key (served from the cache when warm)."""
        return results.get(key, await read_cached(res, key), item_result)

    @server.resource("item://{key}", mime_type="application/json")
    async def item_resource(key: str) -> str:
        """One item as JSON; its result carries the cache's freshness hint."""
        try:
            item = await read_item(res, key)
        except ItemNotFoundError as exc:
            # Not found is the client's mistake (-32602), not the server's fault (-32603).
            raise ResourceNotFoundError(str(exc)) from exc
        return item.model_dump_json()

    @server.tool(annotations=READ_ONLY)
    async def search_items(prefix: str, limit: Limit = 10) -> list[Item]:
        """Items whose key starts with `prefix`, in key order."""
        try:
            return await res.db.search_items(prefix[:128], limit)
        except DatabaseError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True, destructive_hint=False))
    async def put_item(key: Key, value: Value) -> Item:
        """Create or replace an item, then invalidate its cached copy."""
        try:
            item = await res.db.put_item(key, value)
        except DatabaseError as exc:
            raise ToolError(str(exc)) from exc
        await res.cache.invalidate(f"item:{key}")
        return item
