"""uvicorn's HTTP/1.1 protocol (h11) with the limits it lacks on slow or oversize clients.

- A connection whose request (line, headers or body) is incomplete and that sends nothing for
  ``read_timeout_s`` is answered 408 (no request yet) or closed (a stalled body); one that never
  sends anything is closed too.
- A request line and headers larger than ``max_header_bytes`` get 431 before they are parsed.
- After an early answer (401, 413, ...) the unread rest of a body is drained and dropped, so the
  client can read the answer, but no more than ``DRAIN_LIMIT`` bytes of it.
"""

from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.server.settings import Settings

DRAIN_LIMIT = 16 << 20  # bytes of an unread body dropped after an early answer before the connection is closed


class GuardedH11Protocol(H11Protocol):
    read_timeout_s: float = 30.0
    max_header_bytes: int = 16 << 10

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._read_timer: asyncio.TimerHandle | None = None
        self._drained = 0
        super().connection_made(transport)
        self._arm_read_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._arm_read_timer()
        if self.conn.their_state is h11.IDLE and self._headers_too_large(data):
            self._answer_and_close(431, f"request line and headers larger than {self.max_header_bytes >> 10} KB")
            return
        if self.cycle is not None and self.cycle.response_complete and self.conn.their_state is h11.SEND_BODY:
            self._drained += len(data)
            if self._drained > DRAIN_LIMIT:
                self.transport.close()
                return
        super().data_received(data)

    def _headers_too_large(self, data: bytes) -> bool:
        pending = self.conn.trailing_data[0] + data
        end = pending.find(b"\r\n\r\n")
        return len(pending) > self.max_header_bytes if end < 0 else end > self.max_header_bytes

    def _arm_read_timer(self) -> None:
        self._cancel_read_timer()
        self._read_timer = self.loop.call_later(self.read_timeout_s, self._read_timed_out)

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if self.conn.trailing_data[0]:
                self._answer_and_close(408, f"the request was not complete after {self.read_timeout_s:g} s")
            elif self.cycle is None or self.cycle.response_complete:
                self.transport.close()  # a connection that sends nothing
        elif state is h11.SEND_BODY:
            if self.flow.read_paused:  # we stopped reading (the app is busy with what it has), not the client
                self._arm_read_timer()
            else:
                self.transport.close()  # a stalled body: the app sees the client disconnect

    def _answer_and_close(self, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}.get(status, b"Error")
        head = (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n"
                b"x-content-type-options: nosniff\r\n\r\n") % (status, reason, len(body))
        self.transport.write(head + body)
        self.transport.close()


def protocol_for(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol class with ``settings``' limits (uvicorn makes one instance per connection)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"read_timeout_s": settings.read_timeout_s, "max_header_bytes": settings.max_header_kb << 10})
