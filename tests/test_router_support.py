"""Helpers for the router tests: a router on a loop thread, small dynos, a client.

The router runs in-process on an event loop in a background thread; the dynos
the tests need (echo, stream, sleep, close early, WebSocket) are asyncio
servers on the same loop; tests speak raw HTTP/1.1 over blocking sockets so
they can send exactly the bytes a behaviour needs.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paas.router.config import RouterConfig
from paas.router.process import new_event_loop
from paas.router.server import Router
from paas.router.table import AppRoute, Backend, RouteTable, write_route_table

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

TEST_CONFIG = RouterConfig(
    header_timeout=1.0,
    first_byte_timeout=1.0,
    idle_timeout=2.0,
    connect_timeout=0.5,
    boot_timeout=1.0,
    shutdown_grace=1.0,
    sweep_interval=0.05,
    stats_interval=0.1,
)


@dataclass
class Response:
    """A response as the test client read it."""

    status: int
    headers: dict[str, str]
    body: bytes
    raw_head: bytes = b""
    all_headers: list[tuple[str, str]] = field(default_factory=list)


class LoopThread:
    """An event loop running in a daemon thread, driven from test code."""

    def __init__(self) -> None:
        self.loop = new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[Any], timeout: float = 10) -> Any:
        """Run a coroutine on the loop and return its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def call(self, func: Callable[[], Any]) -> Any:
        """Call a function on the loop thread and return its result."""

        async def wrapper() -> Any:
            return func()

        return self.run(wrapper())

    def close(self) -> None:
        """Cancel what is left, stop the loop and close it."""

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0.05)  # let aborted transports finish closing
            await self.loop.shutdown_asyncgens()

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class Dynos:
    """Loopback dynos served by asyncio handlers on a loop thread."""

    def __init__(self, loops: LoopThread | None = None) -> None:
        self.loops = loops or LoopThread()
        self._servers: list[asyncio.Server] = []

    def start_dyno(self, handler: Handler) -> int:
        """Start a loopback dyno served by handler and return its port."""

        async def serve(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            try:
                await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.transport.abort()

        async def start() -> int:
            server = await asyncio.start_server(serve, "127.0.0.1", 0)
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        port: int = self.loops.run(start())
        return port

    async def stop_dynos(self) -> None:
        """Close the dynos' listening sockets."""
        for server in self._servers:
            server.close()
            await server.wait_closed()

    def close(self) -> None:
        """Stop the dynos and the loop."""
        self.loops.run(self.stop_dynos())
        self.loops.close()


class RouterHarness(Dynos):
    """A router and its dynos for one test."""

    def __init__(self, home: Path, config: RouterConfig = TEST_CONFIG) -> None:
        super().__init__()
        self.home = home
        self.router = Router(home, config)
        self.port = self.loops.run(self.router.start("127.0.0.1", 0))

    def set_routes(self, table: RouteTable) -> None:
        """Write the route table and make the router load it now."""
        write_route_table(self.home / "run" / "routes.json", table)
        self.loops.call(self.router.balancer.reload_if_changed)

    def route_app(
        self, app: str, ports: list[int], state: str = "up", url: str | None = None
    ) -> None:
        """Route ``<app>.localhost`` to dynos on the given loopback ports."""
        dynos = [
            Backend(f"web.{i}", "127.0.0.1", port) for i, port in enumerate(ports, 1)
        ]
        route = AppRoute(state=state, dynos=dynos, error_page_url=url)
        self.set_routes(RouteTable({app: route}, {f"{app}.localhost": app}))

    def connect(self) -> socket.socket:
        """Open a client connection to the router."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return sock

    def request(self, raw: bytes) -> Response:
        """Send raw request bytes on a new connection and read one response."""
        with self.connect() as sock:
            sock.sendall(raw)
            return read_response(sock)

    def get(
        self, path: str = "/", host: str = "shop.localhost", **headers: str
    ) -> Response:
        """Send a GET with extra headers (underscores become dashes)."""
        return self.request(build_request("GET", path, host, headers))

    def close(self) -> None:
        """Stop the router and the dynos."""

        async def stop() -> None:
            await self.router.close()
            await self.stop_dynos()

        self.loops.run(stop())
        self.loops.close()


@contextmanager
def running_router(
    home: Path, config: RouterConfig = TEST_CONFIG
) -> Iterator[RouterHarness]:
    """Run a router harness for the length of a with block."""
    harness = RouterHarness(home, config)
    try:
        yield harness
    finally:
        harness.close()


def build_request(
    method: str, path: str, host: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    """Return the bytes of a simple HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_response(
    source: socket.socket | SocketReader, head_only: bool = False
) -> Response:
    """Read one response (fixed, chunked or until close).

    Pass a SocketReader to read several responses from one connection.
    """
    reader = source if isinstance(source, SocketReader) else SocketReader(source)
    head = reader.read_until(b"\r\n\r\n")
    lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    pairs = [tuple(x.split(": ", 1)) for x in lines[1:]]
    headers = {k.lower(): v for k, v in pairs}
    body = b""
    if head_only or status in (101, 204, 304) or 100 <= status < 200:
        body = b""
    elif "content-length" in headers:
        body = reader.read_exact(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        body = reader.read_chunked()
    else:
        body = reader.read_all()
    return Response(status, headers, body, head, [(k, v) for k, v in pairs])


class SocketReader:
    """Buffered reads from a blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def read_until(self, marker: bytes) -> bytes:
        """Read through the first marker."""
        while marker not in self.buffer:
            if not self._fill():
                raise ConnectionError(f"closed before {marker!r}: {self.buffer!r}")
        end = self.buffer.index(marker) + len(marker)
        data = bytes(self.buffer[:end])
        del self.buffer[:end]
        return data

    def read_exact(self, size: int) -> bytes:
        """Read exactly size bytes."""
        while len(self.buffer) < size:
            if not self._fill():
                raise ConnectionError("closed early")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_chunked(self) -> bytes:
        """Read a chunked body and return it decoded."""
        body = bytearray()
        while True:
            size = int(self.read_until(b"\r\n")[:-2].split(b";")[0], 16)
            if size == 0:
                self.read_until(b"\r\n")
                return bytes(body)
            body += self.read_exact(size)
            self.read_exact(2)

    def read_all(self) -> bytes:
        """Read until the peer closes."""
        while self._fill():
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


# Dynos


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """Read one request (head and Content-Length or chunked body) as raw bytes."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lower = head.lower()
    body = b""
    if b"\r\ntransfer-encoding: chunked" in lower:
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0], 16)
            body += line
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    body += trailer
                body += trailer
                break
            body += await reader.readexactly(size + 2)
    elif b"\r\ncontent-length:" in lower:
        start = lower.index(b"\r\ncontent-length:") + 17
        length = int(lower[start : lower.index(b"\r\n", start)])
        body = await reader.readexactly(length)
    return head, body


async def echo_dyno(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each request with JSON of the head and body the dyno received."""
    while (request := await read_request(reader)) is not None:
        head, body = request
        payload = json.dumps(
            {"head": head.decode("latin-1"), "body": body.decode("latin-1")}
        ).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
        )
        await writer.drain()
    writer.close()


def stalling_dyno(close: bool) -> Handler:
    """Return a dyno that sends half a body, then stalls or closes."""

    async def dyno(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf.")
        await writer.drain()
        if not close:
            await asyncio.sleep(5)

    return dyno


def seen_head(response: Response) -> str:
    """Return the request head an echo dyno reported."""
    return str(json.loads(response.body)["head"])


def seen_headers(response: Response) -> dict[str, list[str]]:
    """Return the header fields an echo dyno received, by lower-case name."""
    fields: dict[str, list[str]] = {}
    for line in seen_head(response).split("\r\n")[1:]:
        if line:
            name, value = line.split(":", 1)
            fields.setdefault(name.lower(), []).append(value.strip())
    return fields


def free_port() -> int:
    """Return a loopback port nothing listens on (at the time of the call)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
