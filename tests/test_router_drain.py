"""Router stats tell the control plane when a removed dyno is drained."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from paas.router.table import RouteTable, write_route_table
from tests.test_router_support import (
    Response,
    RouterHarness,
    echo_dyno,
    read_request,
    running_router,
)


def read_stats(router: RouterHarness) -> dict[str, Any]:
    """Return what the router process last wrote to its stats file."""
    stats: dict[str, Any] = json.loads(router.router.stats_path.read_text())
    return stats


async def slow_dyno(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each request after half a second."""
    while await read_request(reader) is not None:
        await asyncio.sleep(0.5)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
        await writer.drain()


def test_stats_report_loaded_table_serial(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        write_route_table(router.home / "run" / "routes.json", RouteTable(serial=42))
        router.loops.call(router.router._poll)
        assert read_stats(router)["serial"] == 42


def test_removed_dyno_reports_in_flight_until_done(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        slow = router.start_dyno(slow_dyno)
        router.route_app("shop", [slow])
        answers: list[Response] = []
        client = threading.Thread(target=lambda: answers.append(router.get()))
        client.start()
        time.sleep(0.2)
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        router.loops.call(router.router._poll)
        during = read_stats(router)["in_flight"]
        client.join()
        time.sleep(0.2)
        after = read_stats(router)["in_flight"]
    assert (during, after) == ({f"127.0.0.1:{slow}": 1}, {})
    assert answers[0].status == 200
