"""uvicorn's HTTP protocol with one change: what a step of the event loop writes leaves in one write.

Why: uvicorn writes a response's status line and headers, then its body, in two `send()` calls. A
replica killed between the two (kill -9, the OOM killer, a reset) has sent a header without a body;
nginx has then passed that header on and can no longer retry the request on another replica, so the
client sees a broken reply. Starlette sends `http.response.start` and the body back to back, in one
step of the loop; joining the writes of a step and flushing them at its end means a response reaches
nginx whole or not at all, and nginx retries "not at all" on another replica (deploy/nginx.conf).
Streamed responses (SSE) still leave chunk by chunk, one step at a time.

`policyqa serve` uses it through uvicorn's `http` setting:
`uvicorn.run(app, …, http="ui.http_protocol:CoalescingHttpToolsProtocol")`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover (httptools missing: uvicorn itself falls back to h11)
    HttpToolsProtocol = H11Protocol  # type: ignore[misc, assignment]


class CoalescingTransport:
    """A transport whose writes of one loop step go to the real transport as one write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Iterable[bytes | bytearray | memoryview]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(p) for p in self._pending)

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, set_protocol, …
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a `CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]


class CoalescingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol over a `CoalescingTransport` (where httptools is not installed)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
