"""Request limits in front of the MCP endpoint: body size and wall-clock time.

A pure ASGI middleware (no per-request objects beyond a counter) so it costs next to nothing on
the hot path. An oversized body is refused before it is buffered: by its Content-Length when the
client sends one, else as soon as the streamed chunks pass the limit. A request that outlives the
timeout is cancelled — its tool call included — and answered with a JSON-RPC error, so a stuck
backend costs one slot for a bounded time instead of piling up.
"""

import anyio
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# JSON-RPC error codes: -32600 is "Invalid Request"; -32000..-32099 are the server's own.
INVALID_REQUEST = -32600
REQUEST_TIMEOUT = -32001


class BodyTooLargeError(Exception):
    """The streamed request body passed the limit."""


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._reject(send, 413, INVALID_REQUEST, self._too_large_message())
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            with anyio.fail_after(self.timeout_s):
                await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await self._reject(send, 413, INVALID_REQUEST, self._too_large_message())
        except TimeoutError:
            if not started:
                message = f"request timed out after {self.timeout_s:g} s"
                await self._reject(send, 504, REQUEST_TIMEOUT, message)

    def _too_large_message(self) -> str:
        return f"request body larger than {self.max_body_bytes} bytes"

    @staticmethod
    async def _reject(send: Send, status: int, code: int, message: str) -> None:
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
