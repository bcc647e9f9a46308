"""Request limits in front of every route: body size and wall-clock time.

A pure ASGI middleware, so it costs little on the hot path. An oversized body is refused before
any app sees it: by its Content-Length when the client sends one, else as soon as the streamed
chunks pass the limit. A request that outlives the timeout is cancelled (its tool call included)
and answered with a JSON-RPC error, so a stuck backend costs one slot for a bounded time instead
of piling up.

The SDK has a body limit of its own (app.py gives it the same size), but only inside its entry,
answered as plain text; this one covers the tools/call executor and every other route too, and
answers a JSON-RPC error. The SDK has no request timeout.
"""

import asyncio
from collections.abc import Awaitable, Sequence

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from my_mcp_server.deadlines import Deadlines

# JSON-RPC error codes: -32600 is "Invalid Request"; -32000..-32099 are the server's own.
INVALID_REQUEST = -32600
REQUEST_TIMEOUT = -32001


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s
        self.deadlines = Deadlines(timeout_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._reject(send, 413, INVALID_REQUEST, self._too_large_message())
            return

        # Deadlines, not `asyncio.timeout`: the same cancellation without a loop timer per
        # request (deadlines.py).
        sent = StartTracking(send)
        deadline = self.deadlines.start()
        try:
            # The whole body is read here, before any app sees it: a streamed body past the
            # limit is refused the same way whichever app (the SDK's entry, mounted with an
            # error handler of its own, or the tools/call executor) would have read it.
            body = await read_body(receive, self.max_body_bytes)
            if body is None:
                return  # the client left before sending its request: nobody to answer
            if len(body) > self.max_body_bytes:
                await self._reject(send, 413, INVALID_REQUEST, self._too_large_message())
                return
            await self.app(scope, Replay(body, receive), sent)
        except asyncio.CancelledError:
            if not self.deadlines.stop(deadline):
                raise  # someone else's cancellation (uvicorn's, at shutdown)
            if not sent.started:
                message = f"request timed out after {self.timeout_s:g} s"
                await self._reject(send, 504, REQUEST_TIMEOUT, message)
        finally:
            self.deadlines.stop(deadline)

    def _too_large_message(self) -> str:
        return f"request body larger than {self.max_body_bytes} bytes"

    @staticmethod
    async def _reject(send: Send, status: int, code: int, message: str) -> None:
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
        )
        await send_json(send, status, body)


async def send_json(
    send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A whole JSON response: `body` with `status` and any extra `headers`."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
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


async def read_body(receive: Receive, limit: int | None = None) -> bytes | None:
    """The request body (read no further once past `limit`), or None if the client went away."""
    if type(receive) is Replay:
        body = receive.take()  # read ahead: handed over without a message
        if body is not None:
            return body
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if not more and not chunks:
            return chunk  # the whole body in one message, as it mostly comes
        chunks.append(chunk)
        size += len(chunk)
        if not more or (limit is not None and size > limit):
            return b"".join(chunks)


class StartTracking:
    """`send`, noting whether the response has started (a plain call: no coroutine per message)."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)


class Replay:
    """A receive channel that yields `body` once, then whatever the client sends next.

    `read_body` takes the body off it without a message: a body read ahead (for its size, or
    to look into it) costs the next reader nothing.
    """

    __slots__ = ("body", "receive", "replayed")

    def __init__(self, body: bytes, receive: Receive) -> None:
        self.body = body
        self.receive = receive
        self.replayed = False

    def take(self) -> bytes | None:
        """The body, if not handed on yet (then only what the client sends next is left)."""
        if self.replayed:
            return None
        self.replayed = True
        return self.body

    async def __call__(self) -> Message:
        body = self.take()
        if body is not None:
            return {"type": "http.request", "body": body, "more_body": False}
        return await self.receive()
