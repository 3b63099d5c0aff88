"""``python -m paas.router`` runs worker processes and stops them cleanly."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paas.router.table import AppRoute, Backend, RouteTable, write_route_table
from tests.test_router_support import (
    Dynos,
    build_request,
    echo_dyno,
    free_port,
    read_request,
    read_response,
)


async def slow_dyno(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each request after half a second."""
    while await read_request(reader) is not None:
        await asyncio.sleep(0.5)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
        await writer.drain()


@pytest.fixture
def dynos() -> Iterator[Dynos]:
    found = Dynos()
    yield found
    found.close()


def start_router(home: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """Start the router as the control plane does and wait until it answers."""
    command = [sys.executable, "-m", "paas.router", "--home", str(home)]
    command += ["--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError("router did not start")


def stop_router(process: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """Send SIGTERM and return the exit code and stderr."""
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    return process.returncode, stderr


def route(home: Path, port: int) -> None:
    """Route shop.localhost to one dyno."""
    dyno = Backend("web.1", "127.0.0.1", port)
    table = RouteTable({"shop": AppRoute("up", [dyno])}, {"shop.localhost": "shop"})
    write_route_table(home / "run" / "routes.json", table)


def get(port: int) -> int:
    """Send one GET for shop.localhost and return the status."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(build_request("GET", "/", "shop.localhost", {}))
        return read_response(sock).status


def test_workers_share_port_and_stop_on_sigterm(tmp_path: Path, dynos: Dynos) -> None:
    route(tmp_path, dynos.start_dyno(echo_dyno))
    port = free_port()
    process = start_router(tmp_path, port, workers=2)
    statuses = [get(port) for _ in range(10)]
    stats = list((tmp_path / "run").glob("router-stats-*.json"))
    code, _ = stop_router(process)
    assert (statuses, code) == ([200] * 10, 0)
    assert len(stats) == 2


def test_sigterm_lets_in_flight_request_finish(tmp_path: Path, dynos: Dynos) -> None:
    route(tmp_path, dynos.start_dyno(slow_dyno))
    port = free_port()
    process = start_router(tmp_path, port, workers=1)
    statuses: list[int] = []
    client = threading.Thread(target=lambda: statuses.append(get(port)))
    client.start()
    time.sleep(0.2)
    code, _ = stop_router(process)
    client.join()
    assert (statuses, code) == ([200], 0)


def test_stats_files_are_removed_on_exit(tmp_path: Path, dynos: Dynos) -> None:
    route(tmp_path, dynos.start_dyno(echo_dyno))
    port = free_port()
    process = start_router(tmp_path, port, workers=1)
    get(port)
    time.sleep(1.2)
    written = [json.loads(p.read_text()) for p in (tmp_path / "run").glob("router-*")]
    stop_router(process)
    left = list((tmp_path / "run").glob("router-stats-*"))
    assert (written[0]["apps"]["shop"]["web.1"]["requests"], left) == (1, [])


def test_busy_port_exits_with_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "paas.router", "--home", str(tmp_path)]
        command += ["--port", str(port)]
        result = subprocess.run(command, capture_output=True, timeout=10)
    assert (result.returncode, result.stderr.startswith(b"Error: ")) == (1, True)


def test_workers_exit_when_supervisor_is_killed(tmp_path: Path, dynos: Dynos) -> None:
    route(tmp_path, dynos.start_dyno(echo_dyno))
    port = free_port()
    process = start_router(tmp_path, port, workers=2)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    workers = [int(pid) for pid in children.read_text().split()]
    process.kill()
    process.communicate()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        Path(f"/proc/{pid}").exists() for pid in workers
    ):
        time.sleep(0.05)
    left = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert (len(workers), left) == (2, [])
