"""The naive MCP server the benchmark compares against: same SDK, same work, no pools, no caches.

What a first version usually looks like: every call opens its own PostgreSQL connection, runs the
query, closes it, and nothing is cached. Same transport settings as the generated server
(stateless, JSON responses, uvloop + httptools), so the difference measured is the data path.

    python bench/naive_server.py --port 8100 --workers 1 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime

import asyncpg
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel
from serving import serve
from starlette.applications import Starlette


class Item(BaseModel):
    key: str
    value: str
    updated_at: datetime


def create_app() -> Starlette:
    """Built in each worker process, from the environment the parent set."""
    database_url = os.environ["NAIVE_DATABASE_URL"]
    server = MCPServer("naive-mcp-server", log_level="WARNING")  # as quiet as the others

    @server.tool()
    async def get_item(key: str) -> Item:
        """Read one item by key."""
        conn = await asyncpg.connect(database_url)
        try:
            row = await conn.fetchrow(
                "SELECT key, value, updated_at FROM items WHERE key = $1", key
            )
        finally:
            await conn.close()
        if row is None:
            raise ToolError(f"item not found: {key!r}")
        return Item(**dict(row))

    return server.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, json_response=True
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    os.environ["NAIVE_DATABASE_URL"] = args.database_url
    serve("naive_server:create_app", args.port, args.workers)


if __name__ == "__main__":
    main()
