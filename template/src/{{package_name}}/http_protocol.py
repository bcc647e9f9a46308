"""uvicorn's httptools protocol, sending a response's head and body in one write.

uvicorn writes a response's head (status line and headers) as soon as the app starts the
response, and its body when the app sends it: two sends per response, so two TCP segments and
two wake-ups of the client for a reply of a few hundred bytes. `OneWriteTransport` holds a write
until the current event-loop iteration ends; a write made before then (the body, sent right after
the head) leaves together with it. A head whose body comes later (a stream) still leaves at the
end of the iteration it was written in, so nothing waits on a slow body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

Data = bytes | bytearray | memoryview
# Past this size a held write and the next one go out as two buffers (writelines) instead of
# being copied into one.
JOIN_MAX_BYTES = 64 * 1024


class OneWriteTransport(asyncio.Transport):
    """`transport`, with the writes of one event-loop iteration sent as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: Data | None = None

    def write(self, data: Data) -> None:
        held = self._held
        if held is None:
            self._held = data
            self._loop.call_soon(self._flush)
        elif len(held) + len(data) <= JOIN_MAX_BYTES:
            self._held = None
            self._transport.write(bytes(held) + data)
        else:
            self._held = None
            self._transport.writelines((held, data))

    def writelines(self, list_of_data: Iterable[Data]) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held)

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        self._flush()  # what was written goes before the close, as without the hold
        self._transport.close()

    def abort(self) -> None:
        self._held = None  # an abort drops whatever is buffered
        self._transport.abort()

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

    def get_write_buffer_size(self) -> int:
        held = 0 if self._held is None else len(self._held)
        return self._transport.get_write_buffer_size() + held


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (`http="httptools"`) on a `OneWriteTransport`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP server's connections are stream transports (uvloop's or asyncio's).
        stream = cast(asyncio.Transport, transport)
        super().connection_made(OneWriteTransport(stream, self.loop))
