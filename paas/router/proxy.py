"""A client connection: read requests, send each to a dyno, answer errors.

The client side drives each exchange: it parses the request head, resolves
the app, picks a dyno, sends the rewritten head and streams the body; the
dyno side (``upstream.py``) streams the response back through ``write``. All
of it runs in protocol callbacks; only connecting to a dyno and holding a
request use a task.

A request is held, not failed, while its app has no dyno to take it: web
dynos still booting, or the only dynos refusing connections (a restart of
the app's one dyno). The router re-reads the route table meanwhile and sends
the request on as soon as a dyno is listed, for at most ``boot_timeout``
seconds from the request's arrival.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from paas.router import access
from paas.router.balancer import Destination, Upstream
from paas.router.http import (
    CHUNKED,
    UNTIL_CLOSE,
    BadRequest,
    ChunkedFramer,
    RequestHead,
    ResponseHead,
    new_request_id,
    parse_request_head,
)
from paas.router.pages import ERROR_CODES, build_response
from paas.router.upstream import UpstreamConnection

if TYPE_CHECKING:
    from paas.router.server import Router

# Client connection states.
HEAD, PENDING, BODY, WAIT, TUNNEL, CLOSED = range(6)

_REQUEST_HEAD = (
    b"%s\r\nX-Forwarded-For: %s\r\nX-Request-Start: %d\r\nX-Request-Id: %s%s%s\r\n\r\n"
)
_RESPONSE_HEAD = b"HTTP/1.1%s%s\r\nX-Request-Id: %s\r\nVia: 1.1 paas%s\r\n\r\n"
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"})
STATE_CODES = {"crashed": "H10", "no_web": "H14", "not_deployed": "H81"}


class Exchange:
    """One request and its response, with what the access line reports."""

    __slots__ = (
        "request",
        "request_id",
        "head_out",
        "dest",
        "upstream",
        "tried",
        "failure",
        "started",
        "connect_ms",
        "status",
        "sent",
        "remaining",
        "framer",
        "body_done",
        "responding",
        "close_after",
        "retried",
        "reused",
        "hold_until",
    )

    def __init__(self, request: RequestHead, request_id: bytes, started: float) -> None:
        self.request = request
        self.request_id = request_id
        self.head_out = b""
        self.dest: Destination | None = None
        self.upstream: Upstream | None = None
        self.tried: list[Upstream] = []
        self.failure = "H21"
        self.started = started
        self.connect_ms = 0
        self.status = 0
        self.sent = 0
        self.remaining = request.length
        self.framer = ChunkedFramer() if request.length == CHUNKED else None
        self.body_done = request.length == 0
        self.responding = False
        self.close_after = not request.keep_alive
        self.retried = False
        self.reused = False
        self.hold_until = 0.0


class ClientConnection(asyncio.Protocol):
    """One client's connection to the router, carrying requests in turn."""

    # Slots: thousands of idle keep-alive connections each hold one.
    __slots__ = (
        "router",
        "config",
        "loop",
        "transport",
        "peer",
        "buffer",
        "state",
        "exchange",
        "conn",
        "task",
        "deadline",
        "write_paused",
        "paused_by_upstream",
        "paused_by_buffer",
    )

    def __init__(self, router: Router) -> None:
        self.router = router
        self.config = router.config
        self.loop = router.loop
        self.transport: asyncio.Transport | None = None
        self.peer = b""
        self.buffer = bytearray()
        self.state = HEAD
        self.exchange: Exchange | None = None
        self.conn: UpstreamConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.deadline = 0.0
        self.write_paused = False
        self.paused_by_upstream = False
        self.paused_by_buffer = False

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start waiting for the first request head."""
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0] if peer else "").encode()
        self.deadline = self.router.now + self.config.header_timeout
        self.router.clients.add(self)

    def data_received(self, data: bytes) -> None:
        """Take request bytes: a head, a body, tunnel bytes or the next request."""
        state = self.state
        if state == BODY:
            self._forward_body(data)
        elif state == HEAD:
            if self.buffer:
                self.buffer += data
                self._read_head()
            elif data[-4:] == b"\r\n\r\n" and data.find(b"\r\n\r\n") == len(data) - 4:
                # One whole head in one read, the usual case: skip the buffer.
                self._parse_head(data[:-4])
            else:
                self.deadline = self.router.now + self.config.header_timeout
                self.buffer += data
                self._read_head()
        elif state == TUNNEL:
            if self.conn is not None:
                self.conn.send(data)
        elif state != CLOSED:
            self.buffer += data
            if len(self.buffer) > self.config.max_buffer:
                self._pause_for_buffer(True)

    def eof_received(self) -> bool:
        """Keep the write side open while an answer is on its way."""
        if self.state in (PENDING, WAIT) and self.exchange is not None:
            self.exchange.close_after = True
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the exchange: the dyno connection cannot be reused mid-way."""
        state, self.state = self.state, CLOSED
        self.router.clients.discard(self)
        if self.task is not None:
            self.task.cancel()
            self.task = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        exchange, self.exchange = self.exchange, None
        if exchange is not None and state != TUNNEL:
            self._release(exchange)
            self._log_error(exchange, "H27", 499, level="sock=client at=warning")

    def pause_writing(self) -> None:
        """Stop reading from the dyno while the client reads slowly."""
        self.write_paused = True
        if self.conn is not None:
            self.conn.pause_reading()

    def resume_writing(self) -> None:
        """Read from the dyno again."""
        self.write_paused = False
        if self.conn is not None:
            self.conn.resume_reading()

    # request side

    def _read_head(self) -> None:
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            self._check_partial_head()
            return
        head = bytes(buffer[:end])
        del buffer[: end + 4]
        self._parse_head(head)

    def _parse_head(self, head: bytes) -> None:
        if head[:2] == b"\r\n":
            head = head.lstrip(b"\r\n")  # RFC 9112 2.2: ignore empty lines first
        config = self.config
        try:
            request = parse_request_head(head, config.max_line, config.max_headers)
        except BadRequest as exc:
            self._refuse(exc.status, exc.reason)
            return
        self._start(request)

    def _check_partial_head(self) -> None:
        buffer, limit = self.buffer, self.config.max_line
        line_end = buffer.find(b"\r\n")
        if line_end < 0 and len(buffer) > limit:
            self._refuse(414, "request line too long")
        elif len(buffer) > self.config.max_head:
            self._refuse(431, "request header fields too large")
        elif len(buffer) - buffer.rfind(b"\r\n") - 2 > limit:
            self._refuse(431, "header field too long")

    def _start(self, request: RequestHead) -> None:
        request_id = request.request_id or new_request_id()
        exchange = Exchange(request, request_id, self.loop.time())
        self.exchange = exchange
        self.state = PENDING
        self.deadline = 0.0
        dest = self.router.balancer.lookup(request.host)
        if dest is None:
            page = self.router.pages.not_found
            self._answer(404, page, close=request.has_body)
            return
        exchange.dest = dest
        exchange.head_out = self._build_head(request, request_id)
        self._route(dest)

    def _build_head(self, request: RequestHead, request_id: bytes) -> bytes:
        forwarded = self.peer
        if request.forwarded_for:
            forwarded = request.forwarded_for + b", " + forwarded
        upgrade = b""
        if request.upgrade is not None:
            upgrade = b"\r\nConnection: Upgrade\r\nUpgrade: " + request.upgrade
        return _REQUEST_HEAD % (
            request.head,
            forwarded,
            time.time() * 1000,
            request_id,
            self.router.fixed_request_headers,
            upgrade,
        )

    def _route(self, dest: Destination) -> None:
        state = dest.route.state
        if state == "up" and dest.upstreams:
            self._use(self.router.balancer.pick(dest.upstreams))
        elif state == "starting":
            self._hold("H20")
        else:
            self._fail(STATE_CODES.get(state, "H14"))

    def _hold(self, code: str) -> None:
        """Hold the request until a dyno can take it; fail with code at the end."""
        exchange = self.exchange
        if exchange is None:
            return
        if not exchange.hold_until:
            exchange.hold_until = exchange.started + self.config.boot_timeout
        exchange.failure = code
        self.task = self.loop.create_task(self._wait_for_dyno(exchange))

    async def _wait_for_dyno(self, exchange: Exchange) -> None:
        """Re-read the route table until it lists a dyno to try, or time is up.

        Dynos that refused this request are tried again only once the table
        changed, so a dead dyno still listed is not hammered.
        """
        balancer = self.router.balancer
        seen = balancer.loads
        while self.loop.time() < exchange.hold_until:
            await asyncio.sleep(self.config.poll_interval)
            if balancer.loads != seen:
                seen = balancer.loads
                exchange.tried.clear()
            dest = balancer.lookup(exchange.request.host)
            if dest is None:
                self.task = None
                self._answer(404, self.router.pages.not_found, close=True)
                return
            state = dest.route.state
            if state in ("no_web", "not_deployed"):
                self.task = None
                self._fail(STATE_CODES[state])
                return
            left = [u for u in dest.upstreams if u not in exchange.tried]
            if state == "up" and left:
                self.task = None
                exchange.dest = dest
                self._use(balancer.pick(left))
                return
            if state == "starting":
                exchange.failure = "H20"
            elif state == "crashed":
                exchange.failure = "H10"
        self.task = None
        self._fail(exchange.failure)

    def _use(self, upstream: Upstream) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        exchange.upstream = upstream
        exchange.tried.append(upstream)
        upstream.in_flight += 1
        upstream.requests += 1
        idle = upstream.idle
        while idle:
            conn = idle.pop()
            if conn.usable:
                exchange.reused = True
                self._attach(conn)
                return
            conn.close()
        exchange.reused = False
        self.task = self.loop.create_task(self._connect(upstream))

    async def _connect(self, upstream: Upstream) -> None:
        """Open a new connection to a dyno, or try another dyno."""
        started = self.loop.time()
        max_idle = self.config.max_idle_per_dyno
        try:
            _, conn = await asyncio.wait_for(
                self.loop.create_connection(
                    lambda: UpstreamConnection(upstream, max_idle),
                    upstream.address,
                    upstream.port,
                ),
                self.config.connect_timeout,
            )
        except (TimeoutError, OSError) as exc:
            self.task = None
            self._connect_failed(upstream, exc)
            return
        self.task = None
        exchange = self.exchange
        if self.state == CLOSED or exchange is None:
            conn.close()
            return
        exchange.connect_ms = int((self.loop.time() - started) * 1000)
        self._attach(conn)

    def _connect_failed(self, upstream: Upstream, exc: BaseException) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        upstream.in_flight -= 1
        exchange.upstream = None
        code = "H19" if isinstance(exc, TimeoutError) else "H21"
        # The table may have changed since the request came: ask it again.
        dest = self.router.balancer.lookup(exchange.request.host)
        left = [] if dest is None else dest.upstreams
        left = [u for u in left if u not in exchange.tried]
        if dest is not None and dest.route.state == "up" and left:
            exchange.dest = dest
            self._use(self.router.balancer.pick(left))
        else:
            self._hold(code)

    def _attach(self, conn: UpstreamConnection) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        self.conn = conn
        conn.attach(self, exchange.request.method)
        if self.write_paused:
            conn.pause_reading()
        if exchange.body_done:
            conn.send(exchange.head_out)
            self._request_complete()
            return
        data = bytes(self.buffer)
        self.buffer.clear()
        self._pause_for_buffer(False)
        self.state = BODY
        part, rest = self._frame_body(exchange, data)
        conn.send(exchange.head_out + part)
        if rest is not None:
            self._end_body(rest)
        else:
            self.deadline = self.router.now + self.config.idle_timeout

    def _forward_body(self, data: bytes) -> None:
        exchange, conn = self.exchange, self.conn
        if exchange is None or conn is None:
            return
        part, rest = self._frame_body(exchange, data)
        conn.send(part)
        if rest is not None:
            self._end_body(rest)
        elif not exchange.responding:
            self.deadline = self.router.now + self.config.idle_timeout

    def _frame_body(
        self, exchange: Exchange, data: bytes
    ) -> tuple[bytes, bytes | None]:
        """Split data into request body bytes and what follows (None: no end)."""
        if exchange.framer is None:
            if len(data) < exchange.remaining:
                exchange.remaining -= len(data)
                return data, None
            cut, exchange.remaining = exchange.remaining, 0
            return data[:cut], data[cut:]
        try:
            end = exchange.framer.feed(data)
        except ValueError:
            exchange.close_after = True
            return data, b""
        if end < 0:
            return data, None
        return data[:end], data[end:]

    def _end_body(self, rest: bytes) -> None:
        if rest:
            self.buffer += rest
        self._request_complete()

    def _request_complete(self) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        exchange.body_done = True
        if self.state == BODY or self.state == PENDING:
            self.state = WAIT
        if not exchange.responding:
            self.deadline = self.router.now + self.config.first_byte_timeout

    # response side, called by UpstreamConnection

    def write(self, data: bytes) -> None:
        """Send response bytes to the client."""
        transport = self.transport
        if transport is not None and self.state != CLOSED:
            transport.write(data)
            exchange = self.exchange
            if exchange is not None:
                exchange.sent += len(data)
            self.deadline = self.router.now + self.config.idle_timeout

    def wants_upgrade(self) -> bool:
        """Say whether the current request asked for a protocol upgrade."""
        exchange = self.exchange
        return exchange is not None and exchange.request.upgrade is not None

    def response_head(self, response: ResponseHead) -> bytes:
        """Return the head to send the client for a dyno's response head."""
        exchange = self.exchange
        if exchange is None:
            return b""
        exchange.status = response.status
        exchange.responding = True
        connection = b""
        if response.status == 101:
            connection = b"\r\nConnection: Upgrade"
        elif self._closes_after(exchange, response.length):
            connection = b"\r\nConnection: close"
        return _RESPONSE_HEAD % (
            response.status_line[8:],
            response.fields,
            exchange.request_id,
            connection,
        )

    def _closes_after(self, exchange: Exchange, length: int) -> bool:
        if length == UNTIL_CLOSE or self.router.closing:
            exchange.close_after = True
        return exchange.close_after

    def request_sent(self) -> bool:
        """Say whether the whole request body went to the dyno."""
        exchange = self.exchange
        if exchange is None or not exchange.body_done:
            self.close_after_response()
            return False
        return True

    def close_after_response(self) -> None:
        """Close the client connection once the current response is out."""
        if self.exchange is not None:
            self.exchange.close_after = True

    def response_done(self) -> None:
        """Finish the exchange: log it, then read the next request or close."""
        exchange = self.exchange
        if exchange is None:
            return
        self.conn = None
        self._release(exchange)
        self._log_info(exchange)
        self._next(exchange.close_after)

    def start_tunnel(self) -> None:
        """Splice bytes both ways after a 101 Switching Protocols."""
        exchange = self.exchange
        if exchange is None:
            return
        self._release(exchange)
        self._log_info(exchange)
        self.exchange = None
        self.state = TUNNEL
        self.deadline = 0.0
        self._pause_for_buffer(False)
        if self.buffer and self.conn is not None:
            self.conn.send(bytes(self.buffer))
            self.buffer.clear()

    def upstream_failed(self, code: str) -> None:
        """Answer with an error page: the dyno closed or spoke nonsense."""
        exchange = self.exchange
        self.conn = None
        if exchange is None or self.state == TUNNEL:
            self._close()
            return
        if code == "H13" and self._retry_stale(exchange):
            return
        if exchange.responding:
            self.upstream_interrupted()
            return
        self._fail(code)

    def _retry_stale(self, exchange: Exchange) -> bool:
        # A pooled connection the dyno closed while idle fails the first
        # write; an idempotent request with no body can go on a fresh one.
        request = exchange.request
        if not exchange.reused or exchange.retried or request.has_body:
            return False
        if request.method not in IDEMPOTENT:
            return False
        upstream = exchange.upstream
        if upstream is None or exchange.responding:
            return False
        exchange.retried = True
        exchange.reused = False
        self.task = self.loop.create_task(self._connect(upstream))
        return True

    def upstream_interrupted(self) -> None:
        """Close the client: the dyno went away in the middle of a response."""
        exchange, self.exchange = self.exchange, None
        self.conn = None
        if exchange is not None:
            self._release(exchange)
            self._log_error(
                exchange, "H18", exchange.status or 503, "sock=backend at=error"
            )
        self._close()

    def pause_for_upstream(self, paused: bool) -> None:
        """Pause or resume reading the request body as the dyno keeps up."""
        self.paused_by_upstream = paused
        self._update_reading()

    def _pause_for_buffer(self, paused: bool) -> None:
        if paused != self.paused_by_buffer:
            self.paused_by_buffer = paused
            self._update_reading()

    def _update_reading(self) -> None:
        transport = self.transport
        if transport is None or self.state == CLOSED:
            return
        if self.paused_by_upstream or self.paused_by_buffer:
            transport.pause_reading()
        else:
            transport.resume_reading()

    # endings

    def _next(self, close: bool) -> None:
        self.exchange = None
        self.conn = None
        if close or self.router.closing:
            self._close()
            return
        self.state = HEAD
        self.deadline = self.router.now + self.config.keepalive_timeout
        if self.paused_by_upstream:
            self.paused_by_upstream = False
            self._update_reading()
        self._pause_for_buffer(False)
        if self.buffer:
            # Not called inline: many pipelined requests answered by the
            # router itself would otherwise recurse once each.
            self.loop.call_soon(self._read_pipelined)

    def _read_pipelined(self) -> None:
        if self.state == HEAD and self.buffer:
            self._read_head()

    def close_if_idle(self) -> None:
        """Close the connection if it waits for a request it has not begun."""
        if self.state == HEAD and not self.buffer:
            self._close()

    def _close(self) -> None:
        self.state = CLOSED
        if self.transport is not None:
            self.transport.close()

    def _release(self, exchange: Exchange) -> None:
        upstream, exchange.upstream = exchange.upstream, None
        if upstream is not None:
            upstream.in_flight -= 1

    def _fail(self, code: str) -> None:
        """Answer an exchange with an H code's page and log it."""
        exchange = self.exchange
        if exchange is None:
            return
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._release(exchange)
        error = ERROR_CODES[code]
        dest = exchange.dest
        url = None if dest is None else dest.route.error_page_url
        page = self.router.pages.app_error(code, url)
        close = exchange.close_after or not exchange.body_done
        self._write_page(exchange, error.status, page, close)
        self._log_error(exchange, code, error.status)
        self._next(close)

    def _answer(self, status: int, page: bytes, close: bool) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        close = close or exchange.close_after
        self._write_page(exchange, status, page, close)
        self._next(close)

    def _write_page(
        self, exchange: Exchange, status: int, page: bytes, close: bool
    ) -> None:
        head_only = exchange.request.method == b"HEAD"
        data = build_response(status, page, exchange.request_id, close, head_only)
        exchange.status = status
        exchange.sent = len(data)
        if self.transport is not None:
            self.transport.write(data)

    def _refuse(self, status: int, reason: str) -> None:
        """Answer a request the router will not parse further, then close."""
        page = self.router.pages.bad_request(status, reason)
        request_id = new_request_id()
        if self.transport is not None:
            self.transport.write(build_response(status, page, request_id, True, False))
        self._close()

    def on_timeout(self) -> None:
        """Act on a passed deadline: idle client, slow dyno or idle transfer."""
        exchange = self.exchange
        if self.state == HEAD:
            if self.buffer:
                self._refuse(408, "request head not received in time")
            else:
                self._close()
        elif exchange is not None and not exchange.responding:
            self._fail("H12")
        elif exchange is not None:
            self.exchange = None
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            self._release(exchange)
            self._log_error(exchange, "H15", exchange.status, "sock=backend at=error")
            self._close()
        else:
            self._close()

    # access lines

    def _log_info(self, exchange: Exchange) -> None:
        dest, request = exchange.dest, exchange.request
        if dest is None:
            return
        dyno = exchange.tried[-1].label if exchange.tried else b""
        fwd = self.peer
        if request.forwarded_for:
            fwd = request.forwarded_for + b", " + fwd
        line = access.INFO_LINE % (
            dest.label,
            request.method,
            request.target,
            request.host,
            exchange.request_id,
            fwd,
            dyno,
            exchange.connect_ms,
            int((self.loop.time() - exchange.started) * 1000),
            exchange.status,
            exchange.sent,
        )
        self.router.access.add_line(line)

    def _log_error(
        self, exchange: Exchange, code: str, status: int, level: str = "at=error"
    ) -> None:
        dest, request = exchange.dest, exchange.request
        if dest is None:
            return
        error = ERROR_CODES.get(code)
        desc = error.desc if error else _CLIENT_CODES.get(code, "")
        line = access.format_error(
            code,
            desc,
            request.method.decode("latin-1"),
            request.target.decode("latin-1"),
            request.host.decode("latin-1"),
            exchange.request_id.decode(),
            self._fwd(request),
            exchange.tried[-1].name if exchange.tried else "",
            status,
            exchange.sent if exchange.sent else None,
            level,
        )
        self.router.access.add(dest.app, line)

    def _fwd(self, request: RequestHead) -> str:
        if request.forwarded_for:
            return (request.forwarded_for + b", " + self.peer).decode("latin-1")
        return self.peer.decode("latin-1")


_CLIENT_CODES = {"H27": "Client Request Interrupted"}
