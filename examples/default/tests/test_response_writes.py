"""One write per response (response_writes.py): the gathering transport, and uvicorn's own
protocol on it. The transport under it records what reaches the socket."""

import asyncio
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from my_mcp_server.__main__ import serve_http
from my_mcp_server.response_writes import (
    FLUSH_AT,
    GatheredWrites,
    OneWriteHttpProtocol,
)
from my_mcp_server.settings import Settings

pytestmark = pytest.mark.anyio


class Socket(asyncio.Transport):
    """What the event loop's transport would send, one entry per write, and whether it closed."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: Any) -> None:
        assert not self.closing, "written after close"
        self.sent.append(bytes(data))
        self.events.append("write")

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name)


async def turn_ends() -> None:
    await asyncio.sleep(0)


async def test_the_writes_of_one_loop_turn_go_out_as_one() -> None:
    socket = Socket()
    gathered = GatheredWrites(socket, asyncio.get_running_loop())
    gathered.write(b"HTTP/1.1 200 OK\r\n\r\n")
    gathered.write(b"body")
    assert socket.sent == []
    assert gathered.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nbody")
    await turn_ends()
    assert socket.sent == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    gathered.write(b"next")  # a later turn: a write of its own
    await turn_ends()
    assert socket.sent == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next"]


async def test_a_buffer_written_is_sent_as_it_was_when_written() -> None:
    socket = Socket()
    gathered = GatheredWrites(socket, asyncio.get_running_loop())
    buffer = bytearray(b"first")
    gathered.write(buffer)
    buffer[:] = b"later"  # its owner reuses it before the turn ends
    gathered.writelines([memoryview(b"+"), b"more"])
    await turn_ends()
    assert socket.sent == [b"first+more"]


async def test_a_large_write_goes_out_at_once_after_what_was_kept() -> None:
    socket = Socket()
    gathered = GatheredWrites(socket, asyncio.get_running_loop())
    gathered.write(b"head")
    gathered.write(b"x" * FLUSH_AT)
    assert socket.sent == [b"head" + b"x" * FLUSH_AT]
    await turn_ends()
    assert len(socket.sent) == 1


async def test_close_sends_what_was_kept_first_and_abort_drops_it() -> None:
    socket = Socket()
    gathered = GatheredWrites(socket, asyncio.get_running_loop())
    gathered.write(b"last words")
    gathered.close()
    assert socket.events == ["write", "close"]
    assert socket.sent == [b"last words"]
    await turn_ends()
    aborted = Socket()
    gathered = GatheredWrites(aborted, asyncio.get_running_loop())
    gathered.write(b"never sent")
    gathered.abort()
    await turn_ends()
    assert aborted.events == ["abort"]


async def test_nothing_is_written_to_a_transport_the_peer_closed() -> None:
    socket = Socket()
    gathered = GatheredWrites(socket, asyncio.get_running_loop())
    gathered.write(b"too late")
    socket.closing = True  # connection lost before the turn ended
    await turn_ends()
    assert socket.sent == []


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    await receive()
    headers = [(b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


async def served(request: bytes, responses: int) -> Socket:
    """`request` fed to uvicorn's protocol (ours) on a recorded socket, until it answered."""
    config = uvicorn.Config(app, http=OneWriteHttpProtocol, lifespan="off", log_level="warning")
    config.load()
    protocol = OneWriteHttpProtocol(config=config, server_state=ServerState(), app_state={})
    socket = Socket()
    protocol.connection_made(socket)
    protocol.data_received(request)
    for _ in range(1000):
        if b"".join(socket.sent).count(b"HTTP/1.1 200") >= responses:
            break
        await asyncio.sleep(0.001)
    await turn_ends()
    protocol.connection_lost(None)
    return socket


async def test_uvicorn_sends_a_response_in_one_write() -> None:
    socket = await served(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", responses=1)
    assert len(socket.sent) == 1
    head, _, body = socket.sent[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert body == b"ok"


async def test_a_response_before_close_is_sent_before_the_close() -> None:
    socket = await served(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", responses=1)
    assert socket.events[:2] == ["write", "close"]
    assert socket.sent[0].endswith(b"\r\n\r\nok")


def test_serve_runs_uvicorn_on_the_one_write_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: ran.update(kwargs))
    serve_http(Settings(_env_file=None))
    assert ran["http"] is OneWriteHttpProtocol
