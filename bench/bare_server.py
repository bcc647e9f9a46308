"""The ceiling of the HTTP stack: a bare Starlette endpoint answering a tools/call.

It parses the JSON-RPC request (to echo its id) and returns a result recorded from the generated
server for the same call, on the same uvicorn + uvloop + httptools stack. No MCP SDK, no tool,
no data access: what is left is HTTP parsing, routing and JSON framing.

    python bench/bare_server.py --port 8200 --workers 1 --response recorded.json
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import orjson
from serving import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app() -> Starlette:
    """Built in each worker process, from the environment the parent set."""
    result = orjson.loads(Path(os.environ["BARE_RESPONSE"]).read_bytes())["result"]

    async def mcp(request: Request) -> Response:
        message = orjson.loads(await request.body())
        body = orjson.dumps({"jsonrpc": "2.0", "id": message.get("id"), "result": result})
        return Response(body, media_type="application/json")

    async def healthz(_: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(routes=[Route("/mcp", mcp, methods=["POST"]), Route("/healthz", healthz)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--response", type=Path, required=True, help="a recorded JSON-RPC response")
    args = parser.parse_args()
    os.environ["BARE_RESPONSE"] = str(args.response.resolve())
    serve("bare_server:create_app", args.port, args.workers)


if __name__ == "__main__":
    main()
