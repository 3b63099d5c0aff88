"""The router forwards requests and responses: headers, bodies, keep-alive."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_router_support import (
    RouterHarness,
    SocketReader,
    build_request,
    echo_dyno,
    read_request,
    read_response,
    running_router,
    seen_head,
    seen_headers,
)


@pytest.fixture
def router(tmp_path: Path) -> Iterator[RouterHarness]:
    with running_router(tmp_path) as harness:
        harness.route_app("shop", [harness.start_dyno(echo_dyno)])
        yield harness


def test_request_reaches_dyno_with_path_and_host(router: RouterHarness) -> None:
    response = router.get("/cart?id=3")
    assert response.status == 200
    assert seen_head(response).split("\r\n")[:2] == [
        "GET /cart?id=3 HTTP/1.1",
        "Host: shop.localhost",
    ]


def test_forwarded_headers_are_set(router: RouterHarness) -> None:
    fields = seen_headers(router.get())
    assert fields["x-forwarded-for"] == ["127.0.0.1"]
    assert fields["x-forwarded-proto"] == ["http"]
    assert fields["x-forwarded-port"] == [str(router.port)]
    assert fields["via"] == ["1.1 paas"]


def test_forwarded_for_is_appended(router: RouterHarness) -> None:
    fields = seen_headers(router.get(X_Forwarded_For="203.0.113.7"))
    assert fields["x-forwarded-for"] == ["203.0.113.7, 127.0.0.1"]


def test_client_forwarded_proto_is_replaced(router: RouterHarness) -> None:
    fields = seen_headers(router.get(X_Forwarded_Proto="https"))
    assert fields["x-forwarded-proto"] == ["http"]


def test_request_start_is_epoch_milliseconds(router: RouterHarness) -> None:
    before = int(time.time() * 1000)
    fields = seen_headers(router.get())
    start = int(fields["x-request-start"][0])
    assert before <= start <= int(time.time() * 1000)


def test_valid_request_id_is_kept_and_returned(router: RouterHarness) -> None:
    request_id = "abcdefghij0123456789-+/="
    response = router.get(X_Request_Id=request_id)
    assert seen_headers(response)["x-request-id"] == [request_id]
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize("bad", ["short", "x" * 201, "has space in it 0123456789"])
def test_invalid_request_id_is_replaced(router: RouterHarness, bad: str) -> None:
    response = router.get(X_Request_Id=bad)
    new_id = seen_headers(response)["x-request-id"]
    assert len(new_id) == 1 and len(new_id[0]) == 36 and new_id[0] != bad
    assert response.headers["x-request-id"] == new_id[0]


def test_hop_by_hop_request_headers_are_stripped(router: RouterHarness) -> None:
    response = router.get(
        Connection="keep-alive, X-Secret",
        X_Secret="1",
        Keep_Alive="timeout=5",
        Proxy_Authorization="Basic eA==",
        TE="trailers",
        Trailer="X-Sum",
        Upgrade="h2c",
    )
    names = set(seen_headers(response))
    hop = {"connection", "x-secret", "keep-alive", "proxy-authorization", "te"}
    assert names & (hop | {"trailer", "upgrade"}) == set()


def test_hop_by_hop_response_headers_are_stripped(router: RouterHarness) -> None:
    response = router.get()
    assert "keep-alive" not in response.headers
    assert "connection" not in response.headers
    assert response.headers["via"] == "1.1 paas"


def test_keep_alive_reuses_client_connection(router: RouterHarness) -> None:
    with router.connect() as sock:
        statuses = []
        for _ in range(3):
            sock.sendall(build_request("GET", "/", "shop.localhost", {}))
            statuses.append(read_response(sock).status)
    assert statuses == [200, 200, 200]


def test_pipelined_requests_are_answered_in_order(router: RouterHarness) -> None:
    with router.connect() as sock:
        one = build_request("GET", "/one", "shop.localhost", {})
        two = build_request("GET", "/two", "shop.localhost", {})
        sock.sendall(one + two)
        reader = SocketReader(sock)
        paths = [seen_head(read_response(reader)).split(" ")[1] for _ in range(2)]
    assert paths == ["/one", "/two"]


def test_upstream_connections_are_pooled(tmp_path: Path) -> None:
    connections = []

    async def counting(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connections.append(1)
        await echo_dyno(reader, writer)

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(counting)])
        for _ in range(3):
            router.get()
    assert len(connections) == 1


def test_fixed_length_body_is_forwarded(router: RouterHarness) -> None:
    body = b"x" * 100_000
    response = router.request(build_request("POST", "/", "shop.localhost", {}, body))
    assert json.loads(response.body)["body"] == body.decode()


def test_chunked_body_is_forwarded_verbatim(router: RouterHarness) -> None:
    chunked = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n"
    head = (
        b"POST / HTTP/1.1\r\nHost: shop.localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    response = router.request(head + chunked)
    assert json.loads(response.body)["body"] == chunked.decode()


def test_chunked_response_streams_to_client(tmp_path: Path) -> None:
    async def streaming(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (b"one", b"two", b"three"):
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(streaming)])
        assert router.get().body == b"onetwothree"


def test_large_download_arrives_whole(tmp_path: Path) -> None:
    size = 20 * 1024 * 1024

    async def big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        block = b"z" * 65536
        for _ in range(size // len(block)):
            writer.write(block)
            await writer.drain()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(big)])
        assert len(router.get().body) == size


def test_response_until_close_closes_client(tmp_path: Path) -> None:
    async def unframed(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(unframed)])
        response = router.get()
    assert (response.body, response.headers["connection"]) == (b"all of it", "close")


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_keep_connection_in_step(tmp_path: Path, status: int) -> None:
    async def empty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            writer.write(b"HTTP/1.1 %d Nothing\r\n\r\n" % status)
            await writer.drain()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(empty)])
        with router.connect() as sock:
            sock.sendall(build_request("GET", "/", "shop.localhost", {}) * 2)
            reader = SocketReader(sock)
            statuses = [read_response(reader).status for _ in range(2)]
    assert statuses == [status, status]


def test_head_response_has_no_body(tmp_path: Path) -> None:
    async def head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            await writer.drain()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(head)])
        with router.connect() as sock:
            sock.sendall(build_request("HEAD", "/", "shop.localhost", {}) * 2)
            reader = SocketReader(sock)
            responses = [read_response(reader, head_only=True) for _ in range(2)]
    assert [r.headers["content-length"] for r in responses] == ["1000", "1000"]


def test_expect_continue_passes_interim_response(tmp_path: Path) -> None:
    async def continuing(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await reader.readexactly(5)
        reply = b"got " + body if b"expect: 100-continue" in head.lower() else b"no"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(reply), reply)
        )
        await writer.drain()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(continuing)])
        with router.connect() as sock:
            sock.sendall(
                b"PUT / HTTP/1.1\r\nHost: shop.localhost\r\nContent-Length: 5\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            interim = read_response(sock)
            sock.sendall(b"hello")
            final = read_response(sock)
    assert (interim.status, final.status, final.body) == (100, 200, b"got hello")


def test_websocket_upgrade_splices_both_ways(tmp_path: Path) -> None:
    async def websocket(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if b"upgrade: websocket" not in head.lower():
            writer.close()
            return
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"
        )
        while data := await reader.read(1024):
            writer.write(data.upper())
            await writer.drain()
        writer.close()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(websocket)])
        with router.connect() as sock:
            sock.sendall(
                b"GET /ws HTTP/1.1\r\nHost: shop.localhost\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n"
            )
            response = read_response(sock)
            sock.sendall(b"ping")
            echoed = sock.recv(100)
    assert (response.status, response.headers["upgrade"], echoed) == (
        101,
        "websocket",
        b"PING",
    )


def test_http10_client_gets_close(router: RouterHarness) -> None:
    with router.connect() as sock:
        sock.sendall(b"GET / HTTP/1.0\r\nHost: shop.localhost\r\n\r\n")
        response = read_response(sock)
        rest = sock.recv(10)
    assert (response.status, rest) == (200, b"")


def test_slow_upload_is_streamed_before_it_ends(tmp_path: Path) -> None:
    first_part = asyncio.Event()

    async def partial(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(10)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        first_part.set()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(partial)])
        with router.connect() as sock:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: shop.localhost\r\n"
                b"Content-Length: 1000000\r\n\r\n" + b"a" * 10
            )
            response = read_response(sock)
    assert response.body == b"ok"


def test_idle_client_connection_is_closed(router: RouterHarness) -> None:
    with router.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        sock.settimeout(3)
        data = sock.recv(1000)
    assert data.startswith(b"HTTP/1.1 408 ")


def test_socket_closes_without_request(router: RouterHarness) -> None:
    with router.connect() as sock:
        sock.settimeout(3)
        data = sock.recv(1000)
    assert data == b""


def test_slow_client_pauses_dyno_instead_of_buffering(tmp_path: Path) -> None:
    sent = [0]

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (64 << 20))
        block = b"f" * 65536
        for _ in range(1024):
            writer.write(block)
            await writer.drain()
            sent[0] += len(block)

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(flood)])
        with router.connect() as sock:
            sock.sendall(build_request("GET", "/", "shop.localhost", {}))
            time.sleep(0.5)
            buffered = router.loops.call(
                lambda: [
                    c.transport.get_write_buffer_size() for c in router.router.clients
                ]
            )
    assert max(buffered) < 1 << 20
    assert sent[0] < 16 << 20


def test_slow_dyno_pauses_upload_instead_of_buffering(tmp_path: Path) -> None:
    async def stalled(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(3)

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(stalled)])
        with router.connect() as sock:
            head = (
                b"POST / HTTP/1.1\r\nHost: shop.localhost\r\nContent-Length: %d\r\n\r\n"
            )
            sock.sendall(head % (256 << 20))
            sock.setblocking(False)
            accepted = 0
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline:
                try:
                    accepted += sock.send(b"u" * 65536)
                except BlockingIOError:
                    time.sleep(0.01)
    assert accepted < 32 << 20
