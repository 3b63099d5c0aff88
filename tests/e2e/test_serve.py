"""paas serve guards its data dir and keeps its router running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from tests.e2e.conftest import Platform, free_port, wait_for


def router_pid(platform: Platform) -> int:
    return int((platform.home / "run" / "router.pid").read_text())


def router_answers(platform: Platform) -> bool:
    try:
        answer = httpx.get(
            f"http://127.0.0.1:{platform.router_port}/",
            headers={"Host": "no-such-app.localhost"},
            timeout=2,
        )
    except httpx.HTTPError:
        return False
    return answer.status_code == 404


def test_second_serve_on_same_home_is_refused(platform: Platform) -> None:
    before = router_pid(platform)
    env = platform.env | {"PAAS_API_PORT": str(free_port())}
    second = subprocess.run(
        [sys.executable, "-m", "paas.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    serving = platform.process.pid
    assert second.returncode == 1
    assert second.stderr.endswith(
        f"Error: Another paas serve (PID {serving}) is running with "
        f"PAAS_HOME={platform.home}. Stop it first, or use another PAAS_HOME.\n"
    )
    assert router_pid(platform) == before
    assert router_answers(platform)


def test_taken_api_port_is_refused_before_anything_starts(
    platform: Platform, tmp_path: object
) -> None:
    env = platform.env | {"PAAS_HOME": str(tmp_path)}
    second = subprocess.run(
        [sys.executable, "-m", "paas.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 1
    assert second.stderr.endswith(
        f"Error: The API port 127.0.0.1:{platform.api_port} is already in use. "
        "Stop what listens there, or choose another port.\n"
    )
    assert router_answers(platform)


def test_killed_router_is_started_again(platform: Platform) -> None:
    killed = router_pid(platform)
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: router_pid(platform) != killed and router_answers(platform))
    shown = (platform.home / "serve.log").read_text()
    assert f"The router (PID {killed}) died; starting it again" in shown
