"""A platform restart keeps every app's formation and running dynos.

These tests run their own platform, so stopping it leaves the shared one
alone. It keeps its data dir and ports across the restart.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import (
    APPS,
    Platform,
    deploy_app,
    free_port,
    make_repo,
    remove_docker_objects,
    start_platform,
    stop_platform,
    wait_for,
)

APP = "e2e-restart"


def web_dynos(platform: Platform) -> list[dict[str, Any]]:
    """Return the app's web dynos as ``paas ps --json`` shows them."""
    shown = json.loads(platform.paas("ps", "web", "-a", APP, "--json").stdout)
    return list(shown)


def both_up(platform: Platform) -> bool:
    """Tell whether web.1 and web.2, and only they, are up."""
    dynos = web_dynos(platform)
    return sorted((d["name"], d["state"]) for d in dynos) == [
        ("web.1", "up"),
        ("web.2", "up"),
    ]


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Deploy with web=2 on a platform of our own, stop it and start it again."""
    home = tmp_path_factory.mktemp("restart-home")
    ports = (free_port(), free_port())
    first = start_platform(home, *ports)
    platform_id = first.platform_id
    current = first
    try:
        repo = make_repo(home / "app", APPS / "echo", first.env)
        assert deploy_app(first, APP, repo).code == 0
        first.paas("ps:scale", "web=2", "-a", APP)
        wait_for(lambda: both_up(first))
        stop_platform(first)
        current = start_platform(home, *ports)
        yield current
    finally:
        stop_platform(current)
        remove_docker_objects(platform_id)
        shutil.rmtree(home, ignore_errors=True)


def test_formation_survives_restart(restarted: Platform) -> None:
    result = restarted.paas("ps:scale", "-a", APP)
    assert (
        result.stdout
        == "crasher=0:standard-1x web=2:standard-1x worker=0:standard-1x\n"
    )


def test_ps_lists_two_web_dynos_after_restart(restarted: Platform) -> None:
    wait_for(lambda: both_up(restarted))
    assert sorted(d["name"] for d in web_dynos(restarted)) == ["web.1", "web.2"]


def test_both_web_dynos_serve_after_restart(restarted: Platform) -> None:
    wait_for(lambda: both_up(restarted))
    answers = Counter(restarted.get(APP).text for _ in range(20))
    assert sorted(answers) == ["echo from web.1\n", "echo from web.2\n"]


def test_restart_keeps_dynos_running(restarted: Platform) -> None:
    wait_for(lambda: both_up(restarted))
    shown = restarted.paas("logs", "-a", APP, "--ps", "web", "--source", "paas")
    starts = Counter(
        line.split("paas[")[1].split("]")[0]
        for line in shown.stdout.splitlines()
        if "Starting process" in line
    )
    assert starts == {"web.1": 1, "web.2": 1}


def test_restart_logs_no_state_change_of_running_dynos(restarted: Platform) -> None:
    wait_for(lambda: both_up(restarted))
    shown = restarted.paas("logs", "-a", APP, "--ps", "web", "--source", "paas")
    ups = Counter(
        line.split("paas[")[1].split("]")[0]
        for line in shown.stdout.splitlines()
        if "State changed from starting to up" in line
    )
    assert ups == {"web.1": 1, "web.2": 1}
