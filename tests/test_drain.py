"""The control plane waits for the routers to drain a dyno before stopping it."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from paas.drain import read_drain_state, wait_drained
from paas.platform import Platform
from paas.rollout import stop_dynos
from paas.scheduler.fake import FakeBackend
from tests.conftest import Deploy

ADDRESS = "127.0.0.1:5000"


def write_stats(
    run_dir: Path, pid: int, serial: int, in_flight: int, address: str = ADDRESS
) -> None:
    """Write a router process's stats file as the router does."""
    run_dir.mkdir(parents=True, exist_ok=True)
    counts = {address: in_flight} if in_flight else {}
    data = {"apps": {}, "serial": serial, "in_flight": counts}
    (run_dir / f"router-stats-{pid}.json").write_text(json.dumps(data))


def dead_pid() -> int:
    """Return the PID of a process that has exited."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_router_behind_the_table_is_not_drained(tmp_path: Path) -> None:
    write_stats(tmp_path, os.getpid(), serial=1, in_flight=0)
    state = read_drain_state(tmp_path, 2, {ADDRESS})
    assert (state.behind, state.drained) == ([os.getpid()], False)


def test_in_flight_requests_are_summed_over_routers(tmp_path: Path) -> None:
    write_stats(tmp_path, os.getpid(), serial=2, in_flight=2)
    write_stats(tmp_path, os.getppid(), serial=3, in_flight=1)
    assert read_drain_state(tmp_path, 2, {ADDRESS}).in_flight == 3


def test_files_of_gone_routers_are_skipped(tmp_path: Path) -> None:
    write_stats(tmp_path, dead_pid(), serial=1, in_flight=5)
    assert read_drain_state(tmp_path, 2, {ADDRESS}).drained


def test_wait_ends_at_the_timeout(tmp_path: Path) -> None:
    write_stats(tmp_path, os.getpid(), serial=2, in_flight=1)
    started = time.monotonic()
    state = wait_drained(tmp_path, 2, {ADDRESS}, timeout=0.3)
    waited = time.monotonic() - started
    assert (state.drained, state.in_flight) == (False, 1)
    assert 0.3 <= waited < 1.0


def test_dyno_is_stopped_only_once_drained(
    platform: Platform, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    dyno = backend.dyno_named("shop", "web.1")
    address = f"{dyno.address}:{dyno.port}"
    ahead = time.time_ns() * 2
    run_dir = platform.settings.run_dir
    write_stats(run_dir, os.getpid(), ahead, in_flight=1, address=address)
    done = threading.Timer(0.3, write_stats, (run_dir, os.getpid(), ahead, 0))
    done.start()
    started = time.monotonic()
    stop_dynos(platform, [dyno])
    waited = time.monotonic() - started
    done.join()
    assert (backend.get_dyno(dyno.id), waited >= 0.3) == (None, True)


def test_drain_timeout_is_logged_and_dyno_stopped(
    platform: Platform, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    dyno = backend.dyno_named("shop", "web.1")
    address = f"{dyno.address}:{dyno.port}"
    run_dir = platform.settings.run_dir
    write_stats(run_dir, os.getpid(), time.time_ns() * 2, 2, address=address)
    stop_dynos(platform, [dyno])
    lines = [line.message for line in platform.logs.tail("shop", 5)]
    assert backend.get_dyno(dyno.id) is None
    assert any(m.startswith("Drain timeout: 2 request(s) still") for m in lines)
