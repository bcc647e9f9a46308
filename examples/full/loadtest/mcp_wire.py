"""The wire format of an MCP tools/call in protocol revision 2026-07-28, without a client library.

Captured from what the official `mcp` client sends: one self-contained POST per call (no session,
no initialize), the routing headers `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, and the
`_meta` envelope with the protocol version, client info and client capabilities. Shared by the
locustfile and the runner's seeding, so both speak exactly what a real client speaks.
"""

from __future__ import annotations

import os

import orjson

from my_mcp_server import __version__
from my_mcp_server.settings import Settings

from loadtest.scenarios import Call

PROTOCOL_VERSION = "2026-07-28"
CLIENT_INFO = {"name": "my_mcp_server-loadtest", "version": __version__}


def request_headers(tool: str) -> dict[str, str]:
    """The HTTP headers of a tools/call of `tool`."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": PROTOCOL_VERSION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
    }
    # LOADTEST_TOKEN, or the first of the server's own static tokens.
    token = os.environ.get("LOADTEST_TOKEN") or Settings().auth_tokens.get_secret_value()
    headers["Authorization"] = "Bearer " + token.split(",")[0].strip()
    return headers


def tools_call_body(request_id: int, call: Call) -> str:
    """A 2026-07-28 tools/call request, as the official client frames it."""
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {
                "name": call.tool,
                "arguments": call.arguments,
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": PROTOCOL_VERSION,
                    "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
                    "io.modelcontextprotocol/clientCapabilities": {},
                },
            },
        }
    ).decode()


def call_error(status: int, content_type: str, body: bytes) -> str | None:
    """Why a tools/call response is a failure, or None when the tool succeeded."""
    if status != 200:
        return f"HTTP {status}"
    if content_type.startswith("text/event-stream"):
        # An SSE answer carries the response in its last data line.
        lines = [line for line in body.splitlines() if line.startswith(b"data:")]
        body = lines[-1][5:] if lines else b"{}"
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "response is not JSON"
    if "error" in message:
        return f"JSON-RPC error {message['error'].get('code')}"
    result = message.get("result")
    if not isinstance(result, dict):
        return "response has no result"
    if result.get("isError"):
        return "tool error"
    return None
