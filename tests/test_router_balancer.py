"""The router spreads requests over dynos and counts them."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

from paas.router.balancer import Balancer, Upstream
from paas.router.table import AppRoute, Backend, RouteTable, write_route_table
from tests.test_router_support import echo_dyno, read_request, running_router


def test_least_outstanding_dyno_is_picked(tmp_path: Path) -> None:
    busy = Upstream("shop", "web.1", "127.0.0.1", 1, in_flight=3)
    idle = Upstream("shop", "web.2", "127.0.0.1", 2, in_flight=0)
    picks = {Balancer(tmp_path / "r.json").pick([busy, idle]).name for _ in range(20)}
    assert picks == {"web.2"}


def test_ties_are_broken_at_random(tmp_path: Path) -> None:
    ups = [Upstream("shop", f"web.{i}", "127.0.0.1", i) for i in range(1, 4)]
    picks = {Balancer(tmp_path / "r.json").pick(ups).name for _ in range(200)}
    assert picks == {"web.1", "web.2", "web.3"}


def test_slow_dyno_does_not_collect_queue(tmp_path: Path) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            await asyncio.sleep(0.5)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
            await writer.drain()

    with running_router(tmp_path) as router:
        router.route_app(
            "shop", [router.start_dyno(slow), router.start_dyno(echo_dyno)]
        )
        bodies: list[bytes] = []
        threads = [
            threading.Thread(target=lambda: bodies.append(router.get().body[:4]))
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
            time.sleep(0.02)
        for thread in threads:
            thread.join()
    assert bodies.count(b"slow") == 1


def test_stats_file_counts_requests_per_dyno(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        for _ in range(3):
            router.get()
        time.sleep(0.3)
        path = router.router.stats_path
        stats = json.loads(path.read_text())
    counts = {"shop": {"web.1": {"requests": 3, "in_flight": 0}}}
    expected = {"apps": counts, "serial": 0, "in_flight": {}}
    assert (stats, path.name.startswith("router-stats-")) == (expected, True)


def test_route_change_is_picked_up_by_polling(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        port = router.start_dyno(echo_dyno)
        route = AppRoute("up", [Backend("web.1", "127.0.0.1", port)])
        table = RouteTable({"shop": route}, {"shop.localhost": "shop"})
        write_route_table(tmp_path / "run" / "routes.json", table)
        time.sleep(0.2)
        assert router.get().status == 200


def test_removed_dyno_pool_is_closed(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        router.get()
        [upstream] = router.loops.call(
            lambda: list(router.router.balancer._upstreams.values())
        )
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        idle = router.loops.call(lambda: len(upstream.idle))
    assert (upstream.retired, idle) == (True, 0)


def test_unreadable_table_keeps_old_routes(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [router.start_dyno(echo_dyno)])
        (tmp_path / "run" / "routes.json").write_text("{not json")
        router.loops.call(router.router.balancer.reload_if_changed)
        assert router.get().status == 200
