"""uvicorn's httptools protocol, writing a response with one system call instead of two.

uvicorn writes a response's status line and headers when the app sends `http.response.start`,
and its body when the app sends `http.response.body`: two transport writes, which uvloop turns
into two `send` calls at once. Each send costs a system call, and on loopback the kernel's
delivery to the peer too, which it then wakes: for a small answer, a share of the server's CPU
that only the second send adds.

`OneWriteHttpProtocol` hands uvicorn's protocol a transport (`GatheredWrites`) that keeps the
writes of one event-loop iteration and sends them together at its end: an app that sends its
start and body back to back, as every complete response does, costs one send. The bytes on the
wire and their order are unchanged; a write waits at most until the loop's next turn, and a
large one (FLUSH_AT) goes out at once with what was kept before it, so a streamed body keeps
uvicorn's flow control. Everything else is the transport's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Kept bytes sent at once from this size on: a big body gains nothing from waiting, and the
# transport's own buffer (which flow control watches) should see it.
FLUSH_AT = 64 * 1024

Data = bytes | bytearray | memoryview


class GatheredWrites(asyncio.Transport):
    """`transport`, with the writes of one event-loop iteration sent as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._kept: list[bytes] = []
        self._kept_size = 0
        self._flush_scheduled = False

    def write(self, data: Data) -> None:
        if type(data) is not bytes:  # a buffer its owner may change before the turn ends
            data = bytes(data)
        self._kept.append(data)
        self._kept_size += len(data)
        if self._kept_size >= FLUSH_AT:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush_at_turn_end)

    def writelines(self, list_of_data: Iterable[Data]) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush_at_turn_end(self) -> None:
        self._flush_scheduled = False
        self._flush()

    def _flush(self) -> None:
        if not self._kept:
            return
        kept = self._kept
        data = kept[0] if len(kept) == 1 else b"".join(kept)
        self._kept = []
        self._kept_size = 0
        if not self._transport.is_closing():  # the peer went away: nothing left to send to
            self._transport.write(data)

    def close(self) -> None:
        self._flush()  # what was written before close goes out, as with the transport itself
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._kept = []  # abort drops what is buffered, ours included
        self._kept_size = 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._kept_size

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


class OneWriteHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on `GatheredWrites` (uvicorn's `http` setting takes it)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(GatheredWrites(transport, self.loop))
