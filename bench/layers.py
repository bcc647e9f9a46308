"""Where one cached tools/call spends its CPU, layer by layer: `make bench`'s in-process budget.

Run with the rendered project's interpreter and the bench's environment (database, Redis, cache
namespace of the seeded bench database):
    layers.py --package my_mcp_server --response recorded-response.json

Every layer is called directly, one call in flight, each call in a task of its own (as uvicorn
runs each request), with no HTTP server and no load generator, on `get_item` of a key the
warm-up put in L1: the generated ASGI app (executor on, then off), the tools/call executor alone
(what the app answers `/mcp` with), the tool's run as the executor calls it (tool_runs.py), and
the tool's own read (`read_cached`); beside them `MCPServer.call_tool` (what the SDK's path
calls) and bench/bare_server.py's app answering the same call. Each figure is the best of 7
blocks of calls (process CPU time per call); what a layer adds is its figure minus that of the
layer inside it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import bare_server
import wrk_load
from mcp.server.mcpserver import Context

KEY = "item-000001"  # the Zipf head: always in L1 after the warm-up
BLOCKS = 7


async def per_call_us(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    """Best over the blocks of CPU time per call, after `calls / 4` unmeasured calls.

    Every call runs in a task of its own, as uvicorn runs every request: what a fresh task costs
    (anyio's per-task state, context copies) is part of the figure.
    """
    loop = asyncio.get_running_loop()
    for _ in range(calls // 4):
        await loop.create_task(call())
    best = float("inf")
    for _ in range(BLOCKS):
        started = time.process_time()
        for _ in range(calls):
            await loop.create_task(call())
        best = min(best, (time.process_time() - started) / calls * 1e6)
    return best


def asgi_call(app: Any) -> Callable[[], Awaitable[bytes]]:
    """One POST /mcp of the bench's get_item through `app`, as uvicorn would hand it over."""
    body = wrk_load.get_item_call(1, KEY).encode()
    headers = [(k.lower().encode(), v.encode()) for k, v in wrk_load.HEADERS.items()]
    headers += [(b"host", b"127.0.0.1:8000"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/mcp", "raw_path": b"/mcp", "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip

    async def call() -> bytes:
        chunks: list[bytes] = []
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop()
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        return b"".join(chunks)

    return call


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    """`app` between its lifespan's startup and shutdown."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise SystemExit(f"layers: the app did not start: {started}")
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


async def measure(package: str, calls: int) -> tuple[dict[str, float], list[str]]:
    """CPU per call of every layer, and the names of the server middleware."""
    app_module = importlib.import_module(f"{package}.app")
    settings_type = importlib.import_module(f"{package}.settings").Settings
    read_cached = importlib.import_module(f"{package}.tools.items").read_cached

    figures = {"bare": await per_call_us(asgi_call(bare_server.create_app()), calls)}
    off = settings_type(fast_path=False)
    async with running(app_module.create_app(off)) as app:
        figures["app, executor off"] = await per_call_us(asgi_call(app), calls)
    async with running(app_module.create_app(settings_type())) as app:
        call = asgi_call(app)
        answer = await call()
        if b'"isError":false' not in answer:
            raise SystemExit(f"layers: get_item({KEY!r}) failed: {answer!r}")
        figures["app"] = await per_call_us(call, calls)

        # What the app answers /mcp with is the executor (the project has no auth in the bench).
        executor = app.owned.app  # /mcp's request limits, around the executor
        figures["executor"] = await per_call_us(asgi_call(executor), calls)
        server, resources = executor.server, executor.lifespan_state
        names = [type(m).__name__ for m in executor.middleware_in_use]

        # The tool manager alone: the only part of the request context get_item reads is the
        # lifespan state (the open pools and caches).
        context = Context(
            request_context=SimpleNamespace(lifespan_context=resources), mcp_server=server
        )
        arguments = {"key": KEY}
        figures["call_tool"] = await per_call_us(
            lambda: server.call_tool("get_item", arguments, context), calls
        )
        # What the executor calls instead: the registered tool's own run (tool_runs.py).
        runner = importlib.import_module(f"{package}.tool_runs").ToolRunner()
        tool = server.registered_tool("get_item")
        figures["tool run"] = await per_call_us(lambda: runner.run(tool, arguments, context), calls)
        figures["tool"] = await per_call_us(lambda: read_cached(resources, KEY), calls)
    return figures, names


# (label, figure, the layer inside it or "" for none, what the layer adds); the last two rows
# are references, not layers of the call.
ROWS = [
    ("the app (executor on)", "app", "executor",
     "HTTP entry: /mcp ahead of Starlette (owned_route.py), request limits (body, timeout)"),
    ("the tools/call executor", "executor", "tool run",
     "checks, per-request context, server middleware ({middleware}), result writer, JSON"),
    ("the tool run (tool_runs.py)", "tool run", "tool",
     "SDK's Tool.run (argument model), result check against Item, get_item's built result"),
    ("get_item's read (L1 hit)", "tool", "", "the generated code's own work"),
    ("MCPServer.call_tool", "call_tool", None,
     "what the SDK's path calls in place of the tool run"),
    ("app, executor off", "app, executor off", None, "every request through the SDK's entry"),
    ("bare Starlette app", "bare", None, "bench/bare_server.py: the same answer, no MCP"),
]  # fmt: skip


def report(figures: dict[str, float], middleware: list[str]) -> list[str]:
    lines = [f"{'in-process, one cached get_item':<32} {'us/call':>8} {'adds':>6}  what it adds"]
    for label, key, inner, what in ROWS:
        adds = "" if inner is None else f"{figures[key] - figures.get(inner, 0):.1f}"
        what = what.format(middleware=", ".join(middleware))
        lines.append(f"{label:<32} {figures[key]:>8.1f} {adds:>6}  {what}")
    sdk_share = (figures["tool run"] - figures["tool"]) / figures["app"]
    lines.append(
        f"(best of {BLOCKS} blocks; the tool's run around its read is {sdk_share:.0%} of the call; "
        f"the app over bare: x{figures['app'] / figures['bare']:.1f}; executor off over on: "
        f"x{figures['app, executor off'] / figures['app']:.1f})"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", required=True, help="the rendered project's package")
    parser.add_argument("--response", type=Path, required=True, help="bare_server's answer")
    parser.add_argument("--calls", type=int, default=1000, help="calls per measured block")
    args = parser.parse_args()
    os.environ["BARE_RESPONSE"] = str(args.response.resolve())
    figures, middleware = asyncio.run(measure(args.package, args.calls))
    print("\n".join(report(figures, middleware)))


if __name__ == "__main__":
    main()
