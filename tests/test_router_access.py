"""The router sends one access line per request to the control plane."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paas.router.access import AccessLog
from tests.test_router_support import (
    SocketReader,
    build_request,
    echo_dyno,
    free_port,
    read_request,
    running_router,
    stalling_dyno,
)


@pytest.fixture
def log_socket(tmp_path: Path) -> Iterator[socket.socket]:
    (tmp_path / "run").mkdir()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "run" / "logs.sock"))
    sock.settimeout(3)
    yield sock
    sock.close()


def receive_lines(sock: socket.socket) -> list[list[str]]:
    """Return the lines of one datagram, each split into its three fields."""
    text = sock.recv(65536).decode()
    return [line.split("\t") for line in text.splitlines()]


def test_request_sends_info_line(tmp_path: Path, log_socket: socket.socket) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        response = router.get("/cart", X_Request_Id="r" * 24)
        [[app, process, message]] = receive_lines(log_socket)
    size = len(response.raw_head) + len(response.body)
    pattern = (
        r'at=info method=GET path="/cart" host=shop\.localhost '
        r'request_id=r{24} fwd="127\.0\.0\.1" dyno=web\.1 connect=\d+ms '
        rf"service=\d+ms status=200 bytes={size} protocol=http"
    )
    assert (app, process) == ("shop", "router")
    assert re.fullmatch(pattern, message)


def test_failure_sends_error_line(tmp_path: Path, log_socket: socket.socket) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [free_port()])
        router.get("/", X_Request_Id="e" * 24)
        [[_, _, message]] = receive_lines(log_socket)
    assert message.startswith(
        'at=error code=H21 desc="Backend connection refused" method=GET path="/" '
        f'host=shop.localhost request_id={"e" * 24} fwd="127.0.0.1" dyno=web.1 '
        "connect= service= status=503 bytes="
    )


def test_lines_are_batched_into_one_datagram(
    tmp_path: Path, log_socket: socket.socket
) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        for _ in range(5):
            router.get()
        lines = receive_lines(log_socket)
    assert len(lines) == 5


def test_unknown_host_sends_no_line(tmp_path: Path, log_socket: socket.socket) -> None:
    with running_router(tmp_path) as router:
        router.get(host="nowhere.localhost")
    log_socket.settimeout(0.3)
    with pytest.raises(TimeoutError):
        log_socket.recv(100)


def test_absent_socket_drops_lines_silently(tmp_path: Path) -> None:
    async def send() -> int:
        log = AccessLog(tmp_path / "missing.sock")
        log.add("shop", "at=info")
        log.flush()
        log.close()
        return log.dropped

    assert asyncio.run(send()) == 1


def test_access_lines_go_to_debug_logger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="paas.router.access")
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        router.get("/debug")
    [record] = [r for r in caplog.records if r.name == "paas.router.access"]
    assert record.levelno == logging.DEBUG
    assert 'path="/debug"' in record.getMessage()


@pytest.mark.parametrize(
    ("close", "code"), [(False, "H15"), (True, "H18")], ids=["idle", "closed"]
)
def test_dyno_stopping_mid_body_logs_code(
    tmp_path: Path, log_socket: socket.socket, close: bool, code: str
) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(stalling_dyno(close))])
        with router.connect() as sock:
            sock.sendall(build_request("GET", "/", "shop.localhost", {}))
            SocketReader(sock).read_all()
        [[_, _, message]] = receive_lines(log_socket)
    assert message.startswith(f"sock=backend at=error code={code} ")


def test_client_leaving_early_logs_h27(
    tmp_path: Path, log_socket: socket.socket
) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(0.5)

    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(slow)])
        with router.connect() as sock:
            sock.sendall(build_request("GET", "/", "shop.localhost", {}))
            time.sleep(0.1)
            # Reset rather than FIN: a half-closed client may still read.
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        [[_, _, message]] = receive_lines(log_socket)
    assert message.startswith('sock=client at=warning code=H27 desc="Client Request')
