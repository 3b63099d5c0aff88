"""The router holds a request while its app has no dyno to take it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.test_router_support import echo_dyno, free_port, running_router


def test_refused_only_dyno_is_held_until_replaced(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        live = router.start_dyno(echo_dyno)
        router.route_app("shop", [free_port()])
        timer = threading.Timer(0.3, router.route_app, ("shop", [live]))
        timer.start()
        response = router.get()
        timer.join()
    assert response.status == 200


def test_held_request_waits_through_a_restart(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        live = router.start_dyno(echo_dyno)
        router.route_app("shop", [free_port()])
        steps = [("crashed", []), ("starting", []), ("up", [live])]
        timers = [
            threading.Timer(0.15 * n, router.route_app, ("shop", ports, state))
            for n, (state, ports) in enumerate(steps, 1)
        ]
        for timer in timers:
            timer.start()
        response = router.get()
        for timer in timers:
            timer.join()
    assert response.status == 200


def test_held_request_fails_with_h21_after_boot_timeout(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [free_port()])
        started = time.monotonic()
        response = router.get()
        waited = time.monotonic() - started
    assert (response.status, b"Error H21" in response.body) == (503, True)
    assert 0.9 < waited < 2.0


def test_held_request_ends_with_crashed_app_h10(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [free_port()])
        threading.Timer(0.2, router.route_app, ("shop", [], "crashed")).start()
        response = router.get()
    assert (response.status, b"Error H10" in response.body) == (503, True)


def test_scaling_web_to_zero_ends_hold_with_h14(tmp_path: Path) -> None:
    with running_router(tmp_path) as router:
        router.route_app("shop", [free_port()])
        threading.Timer(0.2, router.route_app, ("shop", [], "no_web")).start()
        started = time.monotonic()
        response = router.get()
        waited = time.monotonic() - started
    assert (response.status, b"Error H14" in response.body) == (503, True)
    assert waited < 0.8
