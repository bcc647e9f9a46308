"""The one place where this server corrects the SDK's answer to a client mistake.

Checked against mcp 2.3.0 (tests/test_protocol_errors.py names each case it needed):

- `tools/call` of a tool the server does not have: the SDK answers a successful result with
  `isError: true`; the specification (2025-11-25 and 2026-07-28) prescribes JSON-RPC -32602
  (invalid params), which the 2026-07-28 HTTP entry sends with status 400.
- `prompts/get` of an unknown prompt, or without a required argument: the SDK raises a plain
  `ValueError` inside `MCPServer.get_prompt`, which goes out as -32603 with an ERROR traceback in
  the log. The specification prescribes -32602.
- `resources/read` of a resource that does not exist (a resource raises `ResourceNotFoundError`):
  the SDK answers -32602 for every protocol version. That is what 2026-07-28 prescribes (SEP-2164);
  2025-11-25, which legacy clients speak, prescribes -32002 "Resource not found".

Everything is done through public API: a server middleware (`MCPServer(middleware=...)`) that
checks the request before the SDK's handler runs and raises the SDK's own `MCPError`; nothing of
the SDK is patched. A client mistake is logged at INFO, without a traceback.

The SDK's request-state boundary logs a refused `requestState` (tampered, expired, replayed on
another call) at WARNING, also a client mistake: `quiet_request_state_refusals` lowers those
records to INFO with a logging filter, the standard library's way to adjust another library's
records. A server fault (a tool or prompt that crashes) still goes out as -32603 with an ERROR
traceback, as it should.
"""

import logging
from collections.abc import Mapping
from typing import Any, NoReturn

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from my_mcp_server.tool_results import KeepsResults

logger = logging.getLogger(__name__)

# 2025-11-25 and earlier: "Resource not found" (retired from 2026-07-28 on, by SEP-2164).
LEGACY_RESOURCE_NOT_FOUND = -32002
_REQUEST_STATE_LOGGER = "mcp.server.request_state"


class ClientMistakes(KeepsResults):
    """Server middleware: the specified error for unknown tools and prompts, missing prompt
    arguments, and (for legacy clients) unknown resources.

    The names it checks against are read from the server once, on the first request that needs
    them: tools and prompts are registered while the server is built, before it serves.
    """

    def __init__(self) -> None:
        self._server: MCPServer[Any] | None = None
        self._tools: frozenset[str] | None = None
        # Prompt name -> the names of its required arguments.
        self._prompts: dict[str, frozenset[str]] | None = None

    def check_against(self, server: MCPServer[Any]) -> None:
        """The server whose tools and prompts are the known ones (the one this middleware is in)."""
        self._server = server
        quiet_request_state_refusals()

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        params: Mapping[str, Any] = ctx.params or {}
        server = self._server
        if server is None:
            raise RuntimeError("ClientMistakes.check_against(server) was not called")
        if ctx.method == "tools/call":
            name = params.get("name")
            if self._tools is None or not (isinstance(name, str) and name in self._tools):
                await self._check_tool(server, name)
        elif ctx.method == "prompts/get":
            await self._check_prompt(server, params.get("name"), params.get("arguments"))
        elif (
            ctx.method == "resources/read" and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS
        ):
            try:
                return await call_next(ctx)
            except MCPError as exc:
                raise _legacy_not_found(exc) from None
        return await call_next(ctx)

    async def _check_tool(self, server: MCPServer[Any], name: object) -> None:
        if self._tools is None:
            self._tools = frozenset(tool.name for tool in await server.list_tools())
        if isinstance(name, str) and name not in self._tools:
            refuse(f"Unknown tool: {name}", {"name": name})

    async def _check_prompt(self, server: MCPServer[Any], name: object, arguments: object) -> None:
        if self._prompts is None:
            self._prompts = {
                prompt.name: frozenset(a.name for a in prompt.arguments or () if a.required)
                for prompt in await server.list_prompts()
            }
        if not isinstance(name, str):
            return  # the SDK's params validation answers a malformed name
        required = self._prompts.get(name)
        if required is None:
            refuse(f"Unknown prompt: {name}", {"name": name})
        given = arguments.keys() if isinstance(arguments, Mapping) else set()
        missing = sorted(required - set(given))
        if missing:
            refuse(f"Missing required arguments: {', '.join(missing)}", {"missing": missing})


def refuse(message: str, data: Mapping[str, Any]) -> NoReturn:
    """Answer -32602 (invalid params) and log the client's mistake at INFO."""
    logger.info("refused: %s", message)
    raise MCPError(code=INVALID_PARAMS, message=message, data=dict(data))


def _legacy_not_found(exc: MCPError) -> MCPError:
    """-32002 for a not-found resource on a 2025-11-25 connection; any other error unchanged."""
    data = exc.data
    # The SDK's not-found answer carries exactly the URI; other -32602s (bad params) do not.
    if exc.code == INVALID_PARAMS and isinstance(data, dict) and data.keys() == {"uri"}:
        return MCPError(code=LEGACY_RESOURCE_NOT_FOUND, message="Resource not found", data=data)
    return exc


class _RefusalsAtInfo(logging.Filter):
    """Lowers the SDK's "requestState rejected" WARNING records to INFO (a client mistake)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and str(record.msg).startswith(
            "requestState rejected"
        ):
            record.levelno, record.levelname = logging.INFO, "INFO"
            return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return True


_REFUSALS_AT_INFO = _RefusalsAtInfo()


def quiet_request_state_refusals() -> None:
    """Install the filter once per process (idempotent)."""
    request_state_logger = logging.getLogger(_REQUEST_STATE_LOGGER)
    if _REFUSALS_AT_INFO not in request_state_logger.filters:
        request_state_logger.addFilter(_REFUSALS_AT_INFO)
