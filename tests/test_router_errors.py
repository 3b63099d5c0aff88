"""The router answers with Heroku's codes and error pages when it cannot route."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.test_router_support import (
    SocketReader,
    build_request,
    echo_dyno,
    free_port,
    read_request,
    read_response,
    running_router,
    stalling_dyno,
)

POST = b"POST / HTTP/1.1\r\nHost: a\r\n"


def test_unknown_host_gets_404_page(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        response = router.get(host="nowhere.localhost")
    assert response.status == 404
    assert b"No such app" in response.body


@pytest.mark.parametrize(
    ("state", "code"),
    [("crashed", "H10"), ("no_web", "H14"), ("not_deployed", "H81")],
    ids=["crashed-H10", "no-web-H14", "not-deployed-H81"],
)
def test_app_state_gets_its_error_page(tmp_path: Path, state: str, code: str) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [], state=state)
        response = router.get()
    assert response.status == 503
    assert f"Error {code}".encode() in response.body


def test_no_web_page_says_no_web_dynos(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [], state="no_web")
        response = router.get()
    assert b"No web dynos running" in response.body


def test_error_page_links_app_error_page_url(tmp_path: Path) -> None:
    url = "https://example.com/oops.html"
    with running_router(tmp_path) as router:
        router.route_app("shop", [], state="crashed", url=url)
        response = router.get()
    assert f'href="{url}"'.encode() in response.body


def test_error_page_keeps_client_connection(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [], state="crashed")
        with router.connect() as sock:
            reader = SocketReader(sock)
            sock.sendall(build_request("GET", "/", "shop.localhost", {}) * 2)
            statuses = [read_response(reader).status for _ in range(2)]
    assert statuses == [503, 503]


def test_starting_app_holds_request_until_up(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        port = router.start_dyno(echo_dyno)
        router.route_app("shop", [], state="starting")
        timer = threading.Timer(0.3, router.route_app, ("shop", [port]))
        timer.start()
        response = router.get()
        timer.join()
    assert response.status == 200


def test_starting_app_times_out_with_h20(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [], state="starting")
        response = router.get()
    assert (response.status, b"Error H20" in response.body) == (503, True)


def test_refused_connection_gets_h21(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [free_port()])
        response = router.get()
    assert (response.status, b"Error H21" in response.body) == (503, True)


def test_refused_dyno_is_retried_on_another(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        dead, live = free_port(), router.start_dyno(echo_dyno)
        router.route_app("shop", [dead, live])
        statuses = [router.get().status for _ in range(4)]
    assert statuses == [200, 200, 200, 200]


def test_dyno_closing_without_answer_gets_h13(tmp_path: Path) -> None:
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(rude)])
        response = router.get()
    assert (response.status, b"Error H13" in response.body) == (503, True)


def test_slow_dyno_gets_h12(tmp_path: Path) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(slow)])
        started = time.monotonic()
        response = router.get()
        waited = time.monotonic() - started
    assert (response.status, b"Error H12" in response.body) == (503, True)
    assert 0.9 < waited < 2.5


def test_malformed_response_gets_h17(tmp_path: Path) -> None:
    async def garbled(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"NONSENSE\r\n\r\n")
        await writer.drain()

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(garbled)])
        response = router.get()
    assert (response.status, b"Error H17" in response.body) == (503, True)


async def one_shot(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one request; close on the next, as a dyno timing out keep-alive."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    await read_request(reader)


def test_stale_pooled_connection_is_retried(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(one_shot)])
        first = router.get()
        time.sleep(0.2)
        second = router.get()
    assert (first.status, second.status) == (200, 200)


def test_error_page_for_head_has_no_body(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [], state="crashed")
        with router.connect() as sock:
            sock.sendall(build_request("HEAD", "/", "shop.localhost", {}))
            response = read_response(sock, head_only=True)
            sock.settimeout(0.2)
            with pytest.raises(TimeoutError):
                sock.recv(10)
    assert response.status == 503


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: shop.localhost\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: shop.localhost\r\nX-Big: " + b"a" * 9000, 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 200 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (
            POST + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
        ),
        (
            POST + b"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417),
        (b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 405),
    ],
    ids=[
        "long-request-line-414",
        "long-header-431",
        "many-headers-431",
        "duplicate-host-400",
        "conflicting-length-400",
        "length-and-chunked-400",
        "missing-host-400",
        "space-before-colon-400",
        "http2-505",
        "bad-expect-417",
        "connect-405",
    ],
)
def test_bad_request_is_refused(tmp_path: Path, raw: bytes, status: int) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        response = router.request(raw)
    assert (response.status, response.headers["connection"]) == (status, "close")


def test_refused_request_never_reaches_dyno(tmp_path: Path) -> None:
    seen: list[bytes] = []

    async def recording(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        seen.append(await reader.read(100))

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(recording)])
        router.request(b"GET / HTTP/1.1\r\nHost: shop.localhost\r\nHost: b\r\n\r\n")
    assert seen == []


def test_connect_timeout_gets_h19(tmp_path: Path) -> None:
    # A listener whose accept queue is full drops new SYNs: connect hangs.
    with socket.socket() as full, running_router(tmp_path) as router:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        fillers = [socket.socket() for _ in range(2)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        router.route_app("shop", [port])
        response = router.get()
        for filler in fillers:
            filler.close()
    assert (response.status, b"Error H19" in response.body) == (503, True)


@pytest.mark.parametrize("close", [False, True], ids=["idle-H15", "closed-H18"])
def test_dyno_stopping_mid_body_closes_client(tmp_path: Path, close: bool) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(stalling_dyno(close))])
        with router.connect() as sock:
            sock.sendall(build_request("GET", "/", "shop.localhost", {}))
            reader = SocketReader(sock)
            head = reader.read_until(b"\r\n\r\n")
            rest = reader.read_all()
    assert (head.startswith(b"HTTP/1.1 200 OK"), rest) == (True, b"half.")


def test_stale_connection_is_not_retried_for_post(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(one_shot)])
        router.get()
        time.sleep(0.2)
        response = router.request(build_request("POST", "/", "shop.localhost", {}))
    assert (response.status, b"Error H13" in response.body) == (503, True)


def test_error_page_frames_app_error_page_url(tmp_path: Path) -> None:
    url = "https://example.com/oops.html?a=1&b=2"
    with running_router(tmp_path) as router:
        router.route_app("shop", [], state="no_web", url=url)
        response = router.get()
    frame = b'<iframe class="app-page" src="https://example.com/oops.html?a=1&amp;b=2"'
    assert (response.status, frame in response.body) == (503, True)
