"""A keep-alive connection to a dyno: read responses and hand them on.

A connection is either idle in its dyno's pool or attached to one client
connection for one exchange. While attached it parses the response head,
passes the rewritten head and the body bytes to the client, and finds the end
of the body so the connection can go back to the pool.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from paas.router.balancer import Upstream
from paas.router.http import (
    CHUNKED,
    UNTIL_CLOSE,
    BadResponse,
    ChunkedFramer,
    ResponseHead,
    parse_response_head,
)

if TYPE_CHECKING:
    from paas.router.proxy import ClientConnection

IDLE, HEAD, BODY, TUNNEL, CLOSED = range(5)
MAX_RESPONSE_HEAD = 512 * 1024


class UpstreamConnection(asyncio.Protocol):
    """One TCP connection from this router process to a dyno."""

    __slots__ = (
        "upstream",
        "max_idle",
        "transport",
        "client",
        "state",
        "buffer",
        "method",
        "remaining",
        "framer",
        "keep_alive",
        "reading_paused",
    )

    def __init__(self, upstream: Upstream, max_idle: int) -> None:
        self.upstream = upstream
        self.max_idle = max_idle
        self.transport: asyncio.Transport | None = None
        self.client: ClientConnection | None = None
        self.state = IDLE
        self.buffer = bytearray()
        self.method = b""
        self.remaining = 0
        self.framer: ChunkedFramer | None = None
        self.keep_alive = True
        self.reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = transport  # type: ignore[assignment]

    def attach(self, client: ClientConnection, method: bytes) -> None:
        """Bind to a client for one exchange; the request goes out next."""
        self.client = client
        self.method = method
        self.state = HEAD

    def send(self, data: bytes) -> None:
        """Write request bytes to the dyno."""
        if self.transport is not None:
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        """Pass response bytes on, finding the head and the body's end."""
        if self.state == BODY:
            self._forward_body(data)
        elif self.state == HEAD:
            if self.buffer:
                self.buffer += data
                self._read_head()
            else:
                self._read_head_from(data)
        elif self.state == TUNNEL and self.client is not None:
            self.client.write(data)
        else:
            # A dyno talking out of turn cannot be kept in step.
            self.close()

    def _read_head_from(self, data: bytes) -> None:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            self.buffer += data
            self._read_head()
        else:
            self._parse_head(data[:end], data[end + 4 :])

    def _read_head(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_RESPONSE_HEAD:
                self._bad_response()
            return
        head = bytes(self.buffer[:end])
        rest = bytes(self.buffer[end + 4 :])
        self.buffer.clear()
        self._parse_head(head, rest)

    def _parse_head(self, head: bytes, rest: bytes) -> None:
        try:
            response = parse_response_head(head, self.method)
        except BadResponse:
            self._bad_response()
            return
        self._start_response(response, head, rest)

    def _start_response(self, response: ResponseHead, head: bytes, rest: bytes) -> None:
        client = self.client
        if client is None:
            return
        if response.status < 200 and response.status != 101:
            client.write(head + b"\r\n\r\n")
            if rest:
                self.buffer += rest
                self._read_head()
            return
        if response.status == 101 and client.wants_upgrade():
            self._start_tunnel(client, response, rest)
            return
        self.keep_alive = response.keep_alive
        self.remaining = response.length
        self.framer = ChunkedFramer() if response.length == CHUNKED else None
        out = client.response_head(response)
        if response.length == 0 or response.length == len(rest):
            # The whole response came in one read, the usual case for small ones.
            client.write(out + rest if response.length else out)
            self._complete(b"" if response.length else rest)
            return
        self.state = BODY
        part, extra = self._frame(rest)
        client.write(out + part)
        if extra is not None:
            self._complete(extra)

    def _start_tunnel(
        self, client: ClientConnection, response: ResponseHead, rest: bytes
    ) -> None:
        self.state = TUNNEL
        self.keep_alive = False
        client.write(client.response_head(response) + rest)
        client.start_tunnel()

    def _forward_body(self, data: bytes) -> None:
        client = self.client
        if client is None:
            return
        part, extra = self._frame(data)
        client.write(part)
        if extra is not None:
            self._complete(extra)

    def _frame(self, data: bytes) -> tuple[bytes, bytes | None]:
        """Split data into body bytes and what follows the body (None: no end)."""
        if self.remaining >= 0:
            if len(data) < self.remaining:
                self.remaining -= len(data)
                return data, None
            cut, self.remaining = self.remaining, 0
            return data[:cut], data[cut:]
        if self.framer is None:
            return data, None
        try:
            end = self.framer.feed(data)
        except ValueError:
            client = self.client
            self.close()
            if client is not None:
                client.upstream_interrupted()
            return b"", None
        if end < 0:
            return data, None
        return data[:end], data[end:]

    def _complete(self, extra: bytes) -> None:
        client = self.client
        self.client = None
        self.state = IDLE
        if client is None:
            return
        reusable = self.keep_alive and not extra and client.request_sent()
        self._release(reusable)
        client.response_done()

    def _release(self, reusable: bool) -> None:
        if self.reading_paused and self.transport is not None:
            self.transport.resume_reading()
            self.reading_paused = False
        upstream = self.upstream
        pool = upstream.idle
        if reusable and not upstream.retired and len(pool) < self.max_idle:
            pool.append(self)
        else:
            self.close()

    def _bad_response(self) -> None:
        client = self.client
        self.client = None
        self.close()
        if client is not None:
            client.upstream_failed("H17")

    def pause_reading(self) -> None:
        """Stop reading from the dyno while the client is slow."""
        if self.transport is not None and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """Read from the dyno again."""
        if self.transport is not None and self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()

    def pause_writing(self) -> None:
        """Stop reading the request body from the client while the dyno is slow."""
        if self.client is not None:
            self.client.pause_for_upstream(True)

    def resume_writing(self) -> None:
        """Read the request body from the client again."""
        if self.client is not None:
            self.client.pause_for_upstream(False)

    def eof_received(self) -> bool:
        """Let the transport close: a dyno's half-close ends the connection."""
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop out of the pool, and tell an attached client how it ended."""
        state, self.state = self.state, CLOSED
        if self in self.upstream.idle:
            self.upstream.idle.remove(self)
        client, self.client = self.client, None
        if client is None:
            return
        if state == HEAD:
            client.upstream_failed("H13")
        elif state == BODY and self.remaining == UNTIL_CLOSE:
            client.close_after_response()
            client.response_done()
        else:
            client.upstream_interrupted()

    def close(self) -> None:
        """Close the connection at once, detached from any client."""
        self.client = None
        if self.state != CLOSED:
            self.state = CLOSED
            if self.transport is not None:
                self.transport.abort()

    @property
    def usable(self) -> bool:
        """Say whether a pooled connection may carry a request."""
        transport = self.transport
        return (
            self.state == IDLE and transport is not None and not transport.is_closing()
        )
