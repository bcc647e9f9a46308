"""A shorter HTTP entry for the request this server exists for: a well-formed 2026-07-28 tools/call.

The SDK's modern entry (`handle_modern_request`) spends about a third of a cached tool call
before and after the tool: Starlette request objects, pydantic validation of the envelope, the
Mcp-Param schema walk, a model dump of the response. This entry takes only the request it can
prove well-formed with the SDK's own checks (transport security, Accept, the protocol ladder
`classify_inbound_request`) and hands it to the SDK's `serve_one`: the same middleware (OTel span,
request state, metrics), parameter validation, tool dispatch, result framing and error mapping as
the SDK's entry. The response is the same bytes the SDK would write.

Everything else goes to the SDK's entry untouched (the body replayed): other methods and
versions, Mcp-Param headers, tools that declare header parameters, duplicated routing headers,
anything that does not parse or validate. Every error answer therefore stays the SDK's.

Switch off with `<PKG>_FAST_PATH=false`; the tests run the official client against both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import modern_error_data, serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PARAM_HEADER_PREFIX,
    MCP_PROTOCOL_VERSION_HEADER,
    InboundModernRoute,
    classify_inbound_request,
)
from mcp.shared.jsonrpc_dispatcher import progress_token_from_params
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import JSONRPCError, JSONRPCResponse, ProgressToken, RequestId
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from opentelemetry import metrics
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from my_mcp_server.plain_counters import PlainCounter

logger = logging.getLogger(__name__)
meter = metrics.get_meter(__name__)
# tools/call requests (by their headers) this entry served or handed back to the SDK.
outcomes = PlainCounter(
    meter,
    "mcp.server.fast_path.requests",
    ("outcome",),
    unit="{request}",
    description="tools/call requests the fast path served or handed back to the SDK",
)

_VERSIONS = frozenset(MODERN_PROTOCOL_VERSIONS)
_PARAM_PREFIX = MCP_PARAM_HEADER_PREFIX.lower().encode()
_ROUTING = frozenset({MCP_PROTOCOL_VERSION_HEADER, MCP_METHOD_HEADER, MCP_NAME_HEADER})
_ENVELOPE_KEYS = frozenset({"jsonrpc", "id", "method", "params"})
_CALL_KEYS = frozenset({"name", "arguments", "_meta"})


@dataclass
class _ExchangeContext:
    """The dispatch context of one JSON-mode exchange: no back channel, nowhere to stream to.

    Mirrors the SDK's single-exchange context in JSON-response mode, where notifications and
    progress have no stream to ride and server-to-client requests are forbidden.
    """

    transport: TransportContext
    request_id: RequestId
    message_metadata: MessageMetadata
    progress_token: ProgressToken | None = None
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)
    can_send_request: bool = field(default=False, init=False)

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> None:
        return None

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        return None


class FastToolCalls:
    """ASGI wrapper around the SDK's /mcp endpoint (inside its auth middleware, when there is one)."""

    def __init__(
        self,
        app: ASGIApp,
        server: Server[Any],
        lifespan_state: Any,
        security: TransportSecurityMiddleware,
    ) -> None:
        self.app = app
        self.server = server
        self.lifespan_state = lifespan_state
        self.security = security
        # Tool name -> (its input schema, whether that routes an argument through an Mcp-Param
        # header); the schema object tells a replaced tool from the one checked before.
        self._declares_headers: dict[str, tuple[Mapping[str, Any], bool]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = None
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = _plain_call(scope)
        if headers is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        has_json, _ = check_accept_headers(request)
        if not has_json or await self.security.validate_request(request, is_post=True):
            outcomes.add(1, "handed_back")
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client left before sending its request: nobody to answer
        if await self._answer(request, headers, body, send):
            outcomes.add(1, "served")
        else:
            outcomes.add(1, "handed_back")
            await self.app(scope, _replay(body, receive), send)

    async def _answer(
        self, request: Request, headers: dict[str, str], body: bytes, send: Send
    ) -> bool:
        """Serve `body` if it is a well-formed call of a plain tool; False to hand it back."""
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            return False
        if not (
            isinstance(decoded, dict)
            and decoded.keys() == _ENVELOPE_KEYS
            and decoded["jsonrpc"] == "2.0"
            and decoded["method"] == "tools/call"
        ):
            return False
        request_id, params = decoded["id"], decoded["params"]
        if isinstance(request_id, bool) or not isinstance(request_id, int | str):
            return False
        if not isinstance(params, dict) or not params.keys() <= _CALL_KEYS:
            return False
        name, arguments = params.get("name"), params.get("arguments")
        if not isinstance(name, str) or not isinstance(arguments, dict | None):
            return False
        if self._tool_declares_headers(name):
            return False
        verdict = classify_inbound_request(decoded, headers=headers)
        if not isinstance(verdict, InboundModernRoute):
            return False

        connection = Connection.from_envelope(
            verdict.protocol_version, verdict.client_info, verdict.client_capabilities
        )
        dctx = _ExchangeContext(
            transport=TransportContext(
                kind="streamable-http", can_send_request=False, headers=headers
            ),
            request_id=request_id,
            message_metadata=ServerMessageMetadata(request_context=request),
            progress_token=progress_token_from_params(params),
        )
        status = 200
        try:
            result = await serve_one(
                self.server,
                dctx,
                "tools/call",
                params,
                connection=connection,
                lifespan_state=self.lifespan_state,
            )
            response = JSONRPCResponse.model_construct(jsonrpc="2.0", id=request_id, result=result)
            payload = encode_reply(response)
        except Exception as exc:
            error = modern_error_data(exc)
            status = ERROR_CODE_HTTP_STATUS.get(error.code, 200)
            payload = encode_reply(JSONRPCError(jsonrpc="2.0", id=request_id, error=error))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return True

    def _tool_declares_headers(self, name: str) -> bool:
        """True for a tool with Mcp-Param header arguments, or one that does not exist."""
        lookup = self.server.get_tool_input_schema
        schema = lookup(name) if lookup is not None else None
        if schema is None:
            return True  # unknown tool: the SDK answers it
        known = self._declares_headers.get(name)
        if known is None or known[0] is not schema:  # first call, or the tool was replaced
            known = (schema, "x-mcp-header" in json.dumps(schema))
            self._declares_headers[name] = known
        return known[1]


def encode_reply(message: JSONRPCResponse | JSONRPCError) -> bytes:
    """The bytes the SDK's entry writes for `message`, without its model dump when JSON can.

    A result is already the wire dict (`serve_one` dumped it), so plain `json.dumps` gives the
    same bytes; a raw dict holding values JSON lacks (a datetime, NaN) takes the SDK's dump.
    """
    reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message.id}
    if isinstance(message, JSONRPCResponse):
        reply["result"] = message.result
    else:
        reply["error"] = message.error.model_dump(mode="json", by_alias=True, exclude_none=True)
    try:
        return json.dumps(reply, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError):
        dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
        return json.dumps(dumped, separators=(",", ":")).encode()


def _plain_call(scope: Scope) -> dict[str, str] | None:
    """The headers of a modern tools/call with no Mcp-Param header and no repeated routing header.

    None for any other request. Names arrive lower-cased (ASGI); the first copy of a repeated
    header wins, as in Starlette's `Headers`.
    """
    headers: dict[str, str] = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1")
        if name in headers:
            if name in _ROUTING:
                return None
            continue
        if key.startswith(_PARAM_PREFIX):
            return None
        headers[name] = value.decode("latin-1")
    if headers.get(MCP_METHOD_HEADER) != "tools/call":
        return None
    return headers if headers.get(MCP_PROTOCOL_VERSION_HEADER) in _VERSIONS else None


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields `body` once, then whatever the client sends next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
