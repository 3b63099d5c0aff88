"""Recovery: the platform comes back by itself when any part of it dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.e2e.conftest import (
    APPS,
    ROOT,
    Platform,
    commit_all,
    free_port,
    make_repo,
    remove_docker_objects,
    start_platform,
    stop_platform,
)

APP = "e2e-recover"


def wait_for(check: object, timeout: float = 60) -> None:
    """Poll a callable until it returns true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:  # noqa: BLE001 - the platform may be restarting
            pass
        time.sleep(0.5)
    raise AssertionError("condition not met in time")


def dyno_containers(platform_id: str) -> list[tuple[str, str]]:
    """Return (dyno, status) of every container of the platform."""
    client = docker.from_env()
    try:
        found = client.containers.list(
            all=True, filters={"label": f"paas.platform={platform_id}"}
        )
        return sorted((c.labels.get("paas.dyno", ""), c.status) for c in found)
    finally:
        client.close()


def formation_running(platform_id: str) -> bool:
    """Tell whether exactly web.1, web.2 and worker.1 run, once each."""
    expected = [("web.1", "running"), ("web.2", "running"), ("worker.1", "running")]
    return dyno_containers(platform_id) == expected


@pytest.fixture(scope="module")
def own_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform of this module's own, which its tests kill and restart."""
    home = tmp_path_factory.mktemp("paas-recover")
    running = start_platform(home, free_port(), free_port())
    platform_id = running.platform_id
    # A failing set-up must not leave the server, its router or dynos.
    try:
        repo = make_repo(home / "repo", APPS / "echo", running.env)
        running.paas("apps:create", APP, "--no-remote")
        running.paas("git:remote", "-a", APP, cwd=repo)
        assert running.git("push", "paas", "main", cwd=repo).code == 0
        running.paas("ps:scale", "web=2", "worker=1", "-a", APP)
        wait_for(lambda: formation_running(platform_id))
        yield running
    finally:
        stop_platform(running)
        remove_docker_objects(platform_id)


def restart(platform: Platform, *, hard: bool) -> Platform:
    """Stop the control plane (kill -9 when hard) and start it again."""
    if hard:
        os.kill(platform.process.pid, signal.SIGKILL)
        platform.process.wait()
    else:
        platform.process.send_signal(signal.SIGTERM)
        platform.process.wait(timeout=30)
    again = start_platform(platform.home, platform.api_port, platform.router_port)
    platform.process = again.process
    return platform


def test_router_serves_while_control_plane_is_dead(own_platform: Platform) -> None:
    os.kill(own_platform.process.pid, signal.SIGKILL)
    own_platform.process.wait()
    statuses = {own_platform.get(APP).status_code for _ in range(10)}
    restart_after_kill(own_platform)
    assert statuses == {200}


def restart_after_kill(platform: Platform) -> None:
    """Start the control plane again after a kill -9."""
    again = start_platform(platform.home, platform.api_port, platform.router_port)
    platform.process = again.process


def test_restart_after_kill_duplicates_nothing(own_platform: Platform) -> None:
    restart(own_platform, hard=True)
    time.sleep(3)
    assert formation_running(own_platform.platform_id)
    routers = subprocess.run(
        ["pgrep", "-f", f"paas.router --home {own_platform.home} "],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert len(routers) == 1


def test_kill_during_deploy_leaves_old_release(own_platform: Platform) -> None:
    repo = own_platform.home / "repo"
    source = (repo / "app.py").read_text()
    (repo / "app.py").write_text(source.replace("echo from", "new from"))
    commit_all(repo, own_platform.env, "new greeting")
    pusher = threading.Thread(
        target=own_platform.git, args=("push", "paas", "main"), kwargs={"cwd": repo}
    )
    sha = own_platform.git("rev-parse", "--short=7", "HEAD", cwd=repo).stdout.strip()
    pusher.start()
    log = own_platform.home / "logs" / f"{APP}.log"
    wait_for(lambda: f"started for {sha}" in log.read_text(), timeout=30)
    restart(own_platform, hard=True)
    pusher.join(timeout=120)
    releases = own_platform.api("GET", f"/v1/apps/{APP}/releases").json()
    builds = own_platform.api("GET", f"/v1/apps/{APP}/builds").json()
    wait_for(lambda: formation_running(own_platform.platform_id))
    assert own_platform.get(APP).text.startswith("echo from")
    assert all(r["status"] != "pending" for r in releases)
    assert [b["status"] for b in builds if b["commit"].startswith(sha)] == ["failed"]
    assert not any(r["commit"] and r["commit"].startswith(sha) for r in releases)


def test_requests_are_held_while_web_dynos_restart(own_platform: Platform) -> None:
    # Both web dynos die at once: the app has no dyno to take a request
    # until the reconciler has started new ones, and the router holds them.
    client = docker.from_env()
    label = f"paas.platform={own_platform.platform_id}"
    for container in client.containers.list(filters={"label": [label, "paas.dyno"]}):
        if container.labels["paas.process_type"] == "web":
            container.kill()
    client.close()
    statuses: list[int] = []
    senders = [
        threading.Thread(
            target=lambda: statuses.append(own_platform.get(APP).status_code)
        )
        for _ in range(5)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert statuses == [200] * 5
    wait_for(lambda: formation_running(own_platform.platform_id))


def test_machine_restart_brings_formation_back(own_platform: Platform) -> None:
    # As at a reboot: the platform stops, the engine stops every container,
    # and the platform starts again with the same data dir.
    stop_platform(own_platform)
    client = docker.from_env()
    label = {"label": f"paas.platform={own_platform.platform_id}"}
    for container in client.containers.list(filters=label):
        container.stop(timeout=1)
    client.close()
    again = start_platform(
        own_platform.home, own_platform.api_port, own_platform.router_port
    )
    own_platform.process = again.process
    wait_for(lambda: formation_running(own_platform.platform_id), timeout=60)
    wait_for(lambda: own_platform.get(APP).status_code == 200, timeout=30)


def test_containers_stopped_behind_its_back_come_back(own_platform: Platform) -> None:
    client = docker.from_env()
    label = {"label": f"paas.platform={own_platform.platform_id}"}
    for container in client.containers.list(filters=label):
        container.stop(timeout=1)
    client.close()
    wait_for(lambda: formation_running(own_platform.platform_id), timeout=60)
    wait_for(lambda: own_platform.get(APP).status_code == 200, timeout=30)


def test_containers_removed_behind_its_back_come_back(own_platform: Platform) -> None:
    client = docker.from_env()
    label = {"label": f"paas.platform={own_platform.platform_id}"}
    for container in client.containers.list(all=True, filters=label):
        container.remove(force=True, v=True)
    client.close()
    wait_for(lambda: formation_running(own_platform.platform_id), timeout=60)
    wait_for(lambda: own_platform.get(APP).status_code == 200, timeout=30)


@pytest.mark.skipif(
    os.environ.get("PAAS_TEST_ENGINE_RESTART") != "1",
    reason="restarts the shared Docker engine: set PAAS_TEST_ENGINE_RESTART=1",
)
def test_engine_restart_brings_formation_back(own_platform: Platform) -> None:
    restart_engine()
    wait_for(lambda: formation_running(own_platform.platform_id), timeout=120)
    wait_for(lambda: own_platform.get(APP).status_code == 200, timeout=60)
    ps = json.loads(own_platform.paas("ps", "-a", APP, "--json").stdout)
    assert sorted(d["name"] for d in ps) == ["web.1", "web.2", "worker.1"]


def exited(pid: int) -> bool:
    """Tell whether a process has exited; a zombie nobody reaps has too."""
    # dockerd started by deploy/setup is reparented to PID 1, which need not
    # reap it (not every container's init does): its /proc entry can stay.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def restart_engine() -> None:
    """Stop dockerd and bring it back with deploy/setup (engine only)."""
    pid = int(Path("/var/run/docker.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: exited(pid), timeout=60)
    env = os.environ | {"PAAS_STACKS": ""}
    subprocess.run([str(ROOT / "deploy" / "setup")], env=env, check=True)
