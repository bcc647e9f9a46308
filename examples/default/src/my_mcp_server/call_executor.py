"""The owned executor for the request this server exists for: a well-formed 2026-07-28 tools/call.

It sits on `/mcp` in front of the SDK's own Streamable HTTP entry (and behind authentication,
when there is any) and answers the one request shape it can prove well-formed with cheap checks:
a single-exchange `tools/call` of a registered tool, JSON response, at a protocol version the SDK
serves. It checks what the SDK's entry checks for such a request (Content-Type, Host and Origin
per the transport-security settings, Accept, body size, the envelope, the routing headers against
the body, the `_meta` envelope and the params surface), builds the same per-request context a
tool sees through the SDK (the `Context` model only for a tool that reads it: tool_contexts.py),
runs the server's own middleware chain around the tool (the SDK's request-state boundary, ours,
any a user adds before the app is built: the chain is composed once; the SDK's span middleware
when tracing is on), calls the tool as `MCPServer.call_tool` does (the registered `Tool`'s own
`run`, its result converted without the SDK's per-call private reads: tool_runs.py) and writes the
bytes the SDK's entry would write (the result's wire form: tool_results.py).

Anything it does not fully understand goes to the SDK's entry before any tool code runs, with the
body replayed, so every rejection and every other method stays the SDK's answer. The tests hold
both paths to the same status, headers and bytes (tests/test_fast_path.py). Switch it off with
`<PKG>_FAST_PATH=false`.

What it builds on is the SDK's public API only; where the SDK's entry does work in private code
(`mcp.server._streamable_http_modern`, `ServerRunner`, `MCPServer`'s tools/call handler) this
module keeps a twin of that behaviour, marked `twin of ...` below, which the differential tests
check against the real thing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import orjson
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.request_state import RequestStateBoundary
from mcp.server.session import ServerSession
from mcp.server.subscriptions import SubscriptionBus
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import MCPError, NoBackChannelError
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PARAM_HEADER_PREFIX,
    MCP_PROTOCOL_VERSION_HEADER,
    X_MCP_HEADER_KEY,
    InboundModernRoute,
    classify_inbound_request,
)
from mcp.shared.jsonrpc_dispatcher import (
    handler_exception_to_error_data,
    progress_token_from_params,
)
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    INTERNAL_ERROR,
    CallToolRequestParams,
    CallToolResult,
    ErrorData,
    ProgressToken,
    RequestId,
    RequestParamsMeta,
    TextContent,
)
from mcp_types.methods import CACHEABLE_METHODS, validate_client_request
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from opentelemetry import metrics
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from my_mcp_server.limits import Replay, read_body
from my_mcp_server.memos import BuiltPerObject, remember
from my_mcp_server.plain_counters import PlainCounter
from my_mcp_server.reply_encoding import encode_reply
from my_mcp_server.tool_contexts import ContextAwareServer, reads_context
from my_mcp_server.tool_results import KeepsResults, ResultWriter
from my_mcp_server.tool_runs import ToolRunner

logger = logging.getLogger(__name__)
meter = metrics.get_meter(__name__)
# tools/call requests (by their headers) the executor served or handed to the SDK's entry.
outcomes = PlainCounter(
    meter,
    "mcp.server.fast_path.requests",
    ("outcome",),
    unit="{request}",
    description="tools/call requests the owned executor served or handed to the SDK's entry",
)

METHOD = "tools/call"
_VERSIONS = frozenset(MODERN_PROTOCOL_VERSIONS)
_PARAM_PREFIX = MCP_PARAM_HEADER_PREFIX.lower().encode()
_ROUTING = frozenset({MCP_PROTOCOL_VERSION_HEADER, MCP_METHOD_HEADER, MCP_NAME_HEADER})
_ENVELOPE_KEYS = frozenset({"jsonrpc", "id", "method", "params"})
_CALL_KEYS = frozenset({"name", "arguments", "_meta"})
_JSON_HEADERS = (b"content-type", b"application/json")
_ABSENT = object()
# orjson reads an integer past 64 bits as a float, where the SDK's parser keeps it exact: a body
# with a run of 19 digits (in a number or, harmlessly, a string) goes to the SDK. Found by mapping
# every digit to "0" and everything else to " " (several times cheaper than a regex search).
_DIGITS_AS_ZERO = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_DIGITS = b"0" * 19
# Bound on each memo below (entries are few: one per client `_meta`, one per result shape).
_MEMO_SIZE = 256


@dataclass
class _ExchangeContext:
    """The dispatch context of one JSON-mode exchange: no back channel, nowhere to stream to.

    Twin of the SDK's single-exchange context in JSON-response mode, where notifications and
    progress have no stream to ride and server-to-client requests are refused.
    """

    transport: TransportContext
    request_id: RequestId
    message_metadata: MessageMetadata
    progress_token: ProgressToken | None = None
    can_send_request: bool = field(default=False, init=False)
    _cancel_requested: anyio.Event | None = field(default=None, init=False, repr=False)

    @property
    def cancel_requested(self) -> anyio.Event:
        # Made on first use: nothing in a JSON exchange sets it, and few tools wait on it.
        if self._cancel_requested is None:
            self._cancel_requested = anyio.Event()
        return self._cancel_requested

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


@dataclass(slots=True)
class _Call:
    """A request the executor has proved well-formed: what dispatching it needs."""

    request_id: RequestId
    params: dict[str, Any]  # as parsed; their `CallToolRequestParams` is known to validate
    route: InboundModernRoute
    headers: dict[str, str]
    meta_key: bytes  # the params' `_meta`, serialized: what the client sends alike on every call
    # The result `_dispatch` serialized (JSON-mode dumps): when the chain hands back this very
    # dict, `encode_reply` may write it with orjson (and checks for what a middleware could
    # have put into it in place).
    produced: dict[str, Any] | None = None
    float_free: bool = False  # `produced` is in the direct form and holds no float
    validated: CallToolRequestParams | None = None

    def typed(self) -> CallToolRequestParams:
        """The params model, validated on first use (only what reads the Context needs it)."""
        if self.validated is None:
            self.validated = CallToolRequestParams.model_validate(self.params, by_name=False)
        return self.validated

    def produce(self, result: dict[str, Any], float_free: bool) -> dict[str, Any]:
        """`result`, kept as the one this call's dispatch built."""
        self.produced, self.float_free = result, float_free
        return result


# The call this request's middleware chain started with (its params are parsed once, and
# `_dispatch` leaves on it the result it built).
_CALL: ContextVar[_Call | None] = ContextVar("tool_call", default=None)


class ToolCallExecutor:
    """ASGI app for `/mcp`: serves well-formed tools/call itself, hands the rest to `fallback`."""

    def __init__(
        self,
        server: MCPServer[Any],
        lifespan_state: Any,
        *,
        fallback: ASGIApp,
        security: TransportSecuritySettings,
        subscriptions: SubscriptionBus,
        max_body_bytes: int,
        tracing: Callable[[], bool],
    ) -> None:
        self.server = server
        self.lifespan_state = lifespan_state
        self.fallback = fallback
        self.subscriptions = subscriptions
        self.max_body_bytes = max_body_bytes
        self._security = security
        self._host_patterns = _patterns(security.allowed_hosts)
        self._origin_patterns = _patterns(security.allowed_origins)
        self._lowlevel: Server[Any] = server.session_manager.app
        # Every middleware on the server runs around the tool, as through the SDK's entry; only
        # the SDK's span middleware is left out while no tracer is configured (its spans would
        # go nowhere). A bare lowlevel Server carries exactly the SDK's built-in span middleware.
        self._tracing = tracing
        span_types = {type(m) for m in Server("span-middleware-probe").middleware}
        middleware = list(self._lowlevel.middleware)
        self._traced = _chain(middleware, self._dispatch)
        untraced = [m for m in middleware if type(m) not in span_types]
        self._untraced = _chain(untraced, self._dispatch)
        self._middleware = (middleware, untraced)
        # Whether every middleware hands the result on unchanged in place (the SDK's span and
        # request-state middleware do): then a result written without floats reaches the reply
        # without them, and its encoding skips the float checks (reply_encoding.py).
        keeps = (*span_types, RequestStateBoundary, KeepsResults)
        self._results_kept = all(isinstance(m, keeps) for m in middleware)
        self._results = ResultWriter(self._lowlevel.server_info_stamp)
        self._tools = ToolRunner()
        # What a tool that never reads its Context is called with: what `call_tool` builds for
        # itself when given none (tool_contexts.py).
        self._no_request_context: Context[Any, Any] = Context(
            mcp_server=server, subscriptions=subscriptions
        )
        # Tool name -> (its input schema, whether it routes an argument through an Mcp-Param
        # header); the schema object tells a replaced tool from the one checked before.
        self._declares_headers = BuiltPerObject[str, Mapping[str, Any], bool](_MEMO_SIZE)
        self._surface_verdicts: dict[tuple[str, str, bytes], bool] = {}
        self._accepts: dict[str, bool] = {}
        self._routes: dict[tuple[bytes, str, str | None, str | None], InboundModernRoute | None]
        self._routes = {}
        self._connections: dict[tuple[str, bytes], Connection] = {}
        self._metas: dict[bytes, tuple[bytes, ProgressToken | None]] = {}
        self.enabled, reason = self._can_serve()
        if not self.enabled:
            logger.warning("tools/call executor steps aside: %s; the SDK serves every call", reason)

    @property
    def middleware_in_use(self) -> list[ServerMiddleware[Any]]:
        """The server middleware a call runs through now, outermost first."""
        traced, untraced = self._middleware
        return list(traced if self._tracing() else untraced)

    def _can_serve(self) -> tuple[bool, str]:
        """Whether this server's tools/call is exactly what `_dispatch` reproduces."""
        entry = self._lowlevel.get_request_handler(METHOD)
        # MCPServer registers its own bound method; an extension's interceptor replaces it.
        if entry is None or getattr(entry.handler, "__self__", None) is not self.server:
            return False, "tools/call is handled by something other than MCPServer itself"
        if METHOD in CACHEABLE_METHODS:
            return False, "this mcp version gives tools/call results cache hints"
        return True, ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _plain_call_headers(scope) if self.enabled else None
        if headers is None or not self._admissible(headers):
            if headers is not None:
                outcomes.add(1, "handed_back")
            await self.fallback(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client left before sending its request: nobody to answer
        # An oversized body is the SDK's to refuse (it has the same limit as this executor).
        call = self._parse(body, headers) if len(body) <= self.max_body_bytes else None
        if call is None:
            outcomes.add(1, "handed_back")
            await self.fallback(scope, Replay(body, receive), send)
            return
        outcomes.add(1, "served")
        status, payload = await self._answer(call, scope)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", str(len(payload)).encode()), _JSON_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _admissible(self, headers: dict[str, str]) -> bool:
        """What the SDK's entry checks before reading the body, answered only when it passes.

        Twin of `TransportSecurityMiddleware.validate_request` and `check_accept_headers`: a
        request that fails any of them goes to the SDK, which writes (and logs) the refusal.
        """
        content_type = headers.get("content-type")
        if content_type is None or not content_type.lower().startswith("application/json"):
            return False
        if self._security.enable_dns_rebinding_protection:
            if not _matches(headers.get("host"), self._host_patterns):
                return False
            origin = headers.get("origin")
            if origin and not _matches(origin, self._origin_patterns):
                return False
        accept = headers.get("accept", "")
        verdict = self._accepts.get(accept)
        if verdict is None:  # a client sends the same Accept on every call
            types = (part.split(";")[0].strip().lower() for part in accept.split(","))
            verdict = any(t in ("application/json", "application/*", "*/*") for t in types)
            remember(self._accepts, accept, verdict, _MEMO_SIZE)
        return verdict

    def _parse(self, body: bytes, headers: dict[str, str]) -> _Call | None:
        """The call in `body`, if it is a well-formed call of a plain tool; None to hand it back."""
        if body.translate(_DIGITS_AS_ZERO).find(_LONG_DIGITS) >= 0:
            return None
        try:
            decoded = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not (
            isinstance(decoded, dict)
            and decoded.keys() == _ENVELOPE_KEYS
            and decoded["jsonrpc"] == "2.0"
            and decoded["method"] == METHOD
        ):
            return None
        request_id, params = decoded["id"], decoded["params"]
        if isinstance(request_id, bool) or not isinstance(request_id, int | str):
            return None
        if not isinstance(params, dict) or not params.keys() <= _CALL_KEYS:
            return None
        name = params.get("name")
        if not isinstance(name, str) or self._tool_declares_headers(name):
            return None
        try:
            meta_key = orjson.dumps(params.get("_meta"))
        except orjson.JSONEncodeError:  # nested deeper than orjson writes: the SDK's to answer
            return None
        route = self._route(decoded, headers, name, meta_key)
        if route is None:
            return None
        # The params surface of the caller's version, then the params model, as the SDK checks
        # them: what it refuses as invalid params (a bad `_meta`, `arguments` that is not an
        # object, ...) goes back to it.
        if not self._params_accepted(route.protocol_version, params, meta_key):
            return None
        return _Call(request_id, params, route, headers, meta_key)

    def _route(
        self, decoded: dict[str, Any], headers: dict[str, str], name: str, meta_key: bytes
    ) -> InboundModernRoute | None:
        """`classify_inbound_request` of this call if it routes it as modern; remembered by what
        the ladder reads of a tools/call whose method and Mcp-Method were checked before: the
        `_meta` envelope, the tool name, and the MCP-Protocol-Version and Mcp-Name headers."""
        key = (
            meta_key,
            name,
            headers.get(MCP_PROTOCOL_VERSION_HEADER),
            headers.get(MCP_NAME_HEADER),
        )
        if key in self._routes:
            return self._routes[key]
        classified = classify_inbound_request(decoded, headers=headers)
        route = classified if isinstance(classified, InboundModernRoute) else None
        remember(self._routes, key, route, _MEMO_SIZE)
        return route

    def _params_accepted(self, version: str, params: dict[str, Any], meta_key: bytes) -> bool:
        """`validate_client_request`, then `CallToolRequestParams`, for these params: whether both
        accept them, remembered by what that depends on.

        With `name` a string and no keys but name, arguments and `_meta` (checked before), the
        verdict depends only on the version, on what `arguments` is (any object passes: its
        values are `Any`), and on `_meta`, which a client sends the same on every call.
        """
        arguments = params.get("arguments", _ABSENT)
        kind = "object" if isinstance(arguments, dict) else repr(arguments)[:20]
        key = (version, kind, meta_key)
        verdict = self._surface_verdicts.get(key)
        if verdict is None:
            try:
                validate_client_request(METHOD, version, params)
                CallToolRequestParams.model_validate(params, by_name=False)
                verdict = True
            except (ValidationError, KeyError, ValueError):
                verdict = False
            remember(self._surface_verdicts, key, verdict, _MEMO_SIZE)
        return verdict

    def _tool_declares_headers(self, name: str) -> bool:
        """True for a tool with Mcp-Param header arguments, or one that does not exist."""
        lookup = self._lowlevel.get_tool_input_schema
        schema = lookup(name) if lookup is not None else None
        if schema is None:
            return True  # unknown tool: the SDK answers it
        # Worked out again when the tool is replaced (another schema object).
        return self._declares_headers.get(name, schema, _declares_headers)

    def _meta_form(self, call: _Call) -> tuple[bytes, ProgressToken | None]:
        """`CallToolRequestParams.meta` of `call`'s params, serialized (the validated form renames
        `progressToken`), and the progress token the params carry; both depend only on the
        `_meta` the client sent, and are remembered by it."""
        known = self._metas.get(call.meta_key)
        if known is None:
            known = (orjson.dumps(call.typed().meta), progress_token_from_params(call.params))
            remember(self._metas, call.meta_key, known, _MEMO_SIZE)
        return known

    def _connection(self, call: _Call) -> Connection:
        """The `Connection` the SDK's entry would build from this request's envelope.

        Built once per distinct envelope and shared by the requests that carry it: a session
        reads only the connection's identity (version, client info and capabilities, set by
        `from_envelope` and never changed on this path) and its outbound channel, which in a
        single exchange is the no-channel sentinel. Its scratch state and exit stack are not
        reachable through the session's public API, so no request can leave anything on it
        for the next one; building one per request only made an `anyio.Event` each time.
        """
        route = call.route
        key = (route.protocol_version, call.meta_key)
        connection = self._connections.get(key)
        if connection is None:
            connection = Connection.from_envelope(
                route.protocol_version, route.client_info, route.client_capabilities
            )
            remember(self._connections, key, connection, _MEMO_SIZE)
        return connection

    async def _answer(self, call: _Call, scope: Scope) -> tuple[int, bytes]:
        """Dispatch `call` as `serve_one` does; (HTTP status, body) as the SDK's entry writes."""
        connection = self._connection(call)
        request = Request(scope)
        dctx = _ExchangeContext(
            transport=TransportContext(
                kind="streamable-http", can_send_request=False, headers=call.headers
            ),
            request_id=call.request_id,
            message_metadata=ServerMessageMetadata(request_context=request),
        )
        try:
            # Twin of `ServerRunner._make_context`.
            form, dctx.progress_token = self._meta_form(call)
            meta: RequestParamsMeta | None = orjson.loads(form)
            ctx: ServerRequestContext[Any, Any] = ServerRequestContext(
                session=ServerSession(dctx, connection, request_meta=meta),
                lifespan_context=self.lifespan_state,
                method=METHOD,
                params=call.params,
                request_id=call.request_id,
                meta=meta,
                protocol_version=call.route.protocol_version,
                request=request,
            )
            chain = self._traced if self._tracing() else self._untraced
            _CALL.set(call)
            handled = await chain(ctx)
            result = _dump_result(handled)
        except Exception as exc:
            error = _error_data(exc)
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": call.request_id}
            reply["error"] = error.model_dump(mode="json", by_alias=True, exclude_none=True)
            return ERROR_CODE_HTTP_STATUS.get(error.code, 200), encode_reply(reply)
        # The SDK's entry unwinds the connection's exit stack after the call, for the transports
        # whose runner puts work on it; here nothing can reach it (see `_connection`).
        reply = {"jsonrpc": "2.0", "id": call.request_id, "result": result}
        ours = handled is call.produced
        float_free = ours and call.float_free and self._results_kept
        return 200, encode_reply(reply, json_mode=ours, float_free=float_free)

    async def _dispatch(self, ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
        """The innermost call: twin of `ServerRunner._on_request` for tools/call.

        Reads method and params off `ctx`, so a middleware that rewrote them is honoured.
        """
        if ctx.method != METHOD:
            raise MCPError(code=INTERNAL_ERROR, message="Internal server error")
        call = _CALL.get()
        if call is not None and call.params is ctx.params:
            name, arguments, typed = call.params["name"], call.params.get("arguments"), call.typed
        else:  # a middleware replaced the params
            params = CallToolRequestParams.model_validate(ctx.params or {}, by_name=False)
            name, arguments, typed = params.name, params.arguments, lambda: params
        result = await self._call_tool(ctx, name, arguments or {}, typed)
        dumped, float_free = self._serialize(ctx.protocol_version, result)
        return dumped if call is None else call.produce(dumped, float_free)

    async def _call_tool(
        self,
        ctx: ServerRequestContext[Any, Any],
        name: str,
        arguments: dict[str, Any],
        typed: Callable[[], CallToolRequestParams],
    ) -> BaseModel:
        """Twin of `MCPServer`'s tools/call handler: the tool's own failures become results."""
        server = self.server
        tool = server.registered_tool(name) if isinstance(server, ContextAwareServer) else None
        if not reads_context(tool):
            context = self._no_request_context
        else:
            context = Context(
                request_context=ctx,
                mcp_server=server,
                input_params=typed(),
                subscriptions=self.subscriptions,
            )
        try:
            if tool is None:
                return await server.call_tool(name, arguments, context)
            return await self._tools.run(tool, arguments, context)
        except MCPError:
            raise
        except Exception as exc:
            if isinstance(exc, ToolError) and not isinstance(exc, UnexpectedToolError):
                if isinstance(exc.__cause__, ValidationError):
                    # Field names only: the rejected values are the caller's data.
                    fields = sorted(
                        {".".join(str(p) for p in err["loc"]) for err in exc.__cause__.errors()}
                    )
                    logger.info("Tool %r rejected arguments: %r", name, fields)
                else:
                    logger.info("Tool %r failed: %r", name, str(exc))
            else:
                logger.exception("Tool %r raised an unexpected exception", name)
            return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)

    def _serialize(self, version: str, result: BaseModel) -> tuple[dict[str, Any], bool]:
        """Twin of `ServerRunner._serialize` for tools/call (see tool_results.py), and whether the
        result is in the direct form and holds no float."""
        try:
            return self._results.write(version, result, reuse=self._results_kept)
        except ValidationError:
            logger.exception("handler for %r returned an invalid result", METHOD)
            raise MCPError(
                code=INTERNAL_ERROR, message="Handler returned an invalid result"
            ) from None


def _declares_headers(schema: Mapping[str, Any]) -> bool:
    return X_MCP_HEADER_KEY in json.dumps(schema)


def _chain(middleware: list[ServerMiddleware[Any]], inner: CallNext) -> CallNext:
    """`inner` wrapped in `middleware`, outermost first: twin of the runner's composition."""
    call = inner
    for outer in reversed(middleware):
        call = partial(_apply, outer, call)
    return call


def _apply(
    middleware: ServerMiddleware[Any], call_next: CallNext, ctx: ServerRequestContext[Any, Any]
) -> Awaitable[HandlerResult]:
    return middleware(ctx, call_next)


def _dump_result(result: HandlerResult) -> dict[str, Any]:
    """Twin of the runner's `_dump_result`: what a middleware chain returned, as a wire dict."""
    if result is None:
        return {}
    if isinstance(result, ErrorData):
        raise MCPError.from_error_data(result)
    if isinstance(result, BaseModel):
        return result.model_dump(by_alias=True, mode="json", exclude_none=True)
    if isinstance(result, dict):
        return dict(result)
    raise TypeError(f"handler returned {type(result).__name__}; expected BaseModel, dict, or None")


def _error_data(exc: Exception) -> ErrorData:
    """Twin of the SDK's `modern_error_data`: handler internals never reach the wire."""
    error = handler_exception_to_error_data(exc)
    if error is not None:
        return error
    logger.exception("modern request handler raised")
    return ErrorData(code=INTERNAL_ERROR, message="Internal server error")


def _patterns(allowed: list[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(exact values, prefixes of `name:*` wildcard-port entries) of an allow-list."""
    prefixes = tuple(a[:-1] for a in allowed if a.endswith(":*"))
    return frozenset(allowed), prefixes


def _matches(value: str | None, patterns: tuple[frozenset[str], tuple[str, ...]]) -> bool:
    """Twin of the SDK's Host/Origin check: an exact entry, or `name:*` with any port."""
    if not value:
        return False
    exact, prefixes = patterns
    return value in exact or value.startswith(prefixes)


def _plain_call_headers(scope: Scope) -> dict[str, str] | None:
    """The headers of a modern tools/call POST with no Mcp-Param and no repeated routing header.

    None for any other request. Names arrive lower-cased (ASGI); the first copy of a repeated
    header wins, as in Starlette's `Headers`.
    """
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
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
    if headers.get(MCP_METHOD_HEADER) != METHOD:
        return None
    return headers if headers.get(MCP_PROTOCOL_VERSION_HEADER) in _VERSIONS else None
