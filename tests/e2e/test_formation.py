"""Formation and dyno lifecycle: scaling, crashes, memory, restarts, stops.

The tests share one app. Each one first scales it to the formation it needs,
so they do not depend on each other's order.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import docker
import httpx
import pytest

from tests.e2e.conftest import (
    APPS,
    Platform,
    commit_all,
    deploy_app,
    make_repo,
    wait_for,
)

APP = "e2e-formation"
STUBBORN = "stubborn: trap '' TERM; echo ignoring TERM; while true; do sleep 1; done\n"
TYPES = ("crasher", "stubborn", "web", "worker")


@pytest.fixture(scope="module")
def app(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Deploy the echo app, plus a process type that ignores SIGTERM."""
    repo = make_repo(
        tmp_path_factory.mktemp("repo") / "app", APPS / "echo", platform.env
    )
    with (repo / "Procfile").open("a") as procfile:
        procfile.write(STUBBORN)
    commit_all(repo, platform.env, "add a process that ignores SIGTERM")
    pushed = deploy_app(platform, APP, repo)
    assert pushed.code == 0, pushed.output
    yield APP
    platform.paas("apps:destroy", APP, "--confirm", APP)


def dynos(platform: Platform, app: str) -> dict[str, dict[str, Any]]:
    """Return ``paas ps --json`` by dyno name."""
    shown = json.loads(platform.paas("ps", "-a", app, "--json").stdout)
    return {dyno["name"]: dyno for dyno in shown}


def started(platform: Platform, app: str) -> dict[str, float]:
    """Return when each dyno started, by name."""
    return {name: d["updated_at"] for name, d in dynos(platform, app).items()}


def settle(platform: Platform, app: str, **quantities: int) -> None:
    """Scale to exactly these quantities (others 0) and wait until all are up."""
    wanted = {kind: quantities.get(kind, 0) for kind in TYPES}
    changes = [f"{kind}={count}:standard-1x" for kind, count in wanted.items()]
    result = platform.paas("ps:scale", *changes, "-a", app)
    assert result.code == 0, result.output
    names = sorted(
        f"{k}.{n}" for k, count in wanted.items() for n in range(1, count + 1)
    )

    def all_up() -> bool:
        now = dynos(platform, app)
        return sorted(now) == names and all(d["state"] == "up" for d in now.values())

    wait_for(all_up)
    if wanted["web"]:
        wait_for(lambda: platform.get(app).status_code == 200)


def logs(platform: Platform, app: str, *args: str) -> str:
    """Return the app's last log lines."""
    return platform.paas("logs", "-a", app, "-n", "1500", *args).stdout


def served_by(platform: Platform, app: str, requests: int) -> Counter[str]:
    """Count which dyno answered each of a number of requests."""
    return Counter(platform.get(app).text for _ in range(requests))


def test_scale_without_args_prints_formation(platform: Platform, app: str) -> None:
    settle(platform, app, web=1)
    result = platform.paas("ps:scale", "-a", app)
    assert (result.code, result.stdout) == (
        0,
        "crasher=0:standard-1x stubborn=0:standard-1x web=1:standard-1x "
        "worker=0:standard-1x\n",
    )


def test_scale_up_starts_only_missing_dynos(platform: Platform, app: str) -> None:
    settle(platform, app, web=1)
    before = started(platform, app)
    settle(platform, app, web=3)
    after = started(platform, app)
    assert sorted(after) == ["web.1", "web.2", "web.3"]
    assert after["web.1"] == before["web.1"]


def test_router_spreads_requests_over_all_web_dynos(
    platform: Platform, app: str
) -> None:
    settle(platform, app, web=3)
    answers = served_by(platform, app, 30)
    assert sorted(answers) == [f"echo from web.{n}\n" for n in (1, 2, 3)]


def test_scale_down_stops_highest_numbers_first(platform: Platform, app: str) -> None:
    settle(platform, app, web=3)
    before = started(platform, app)
    settle(platform, app, web=2)
    assert started(platform, app) == {n: before[n] for n in ("web.1", "web.2")}


def test_scale_to_zero_leaves_no_web_dynos(platform: Platform, app: str) -> None:
    settle(platform, app, web=1)
    settle(platform, app, web=0)
    response = platform.get(app)
    assert dynos(platform, app) == {}
    assert (response.status_code, "No web dynos running" in response.text) == (
        503,
        True,
    )


def test_scale_from_zero_to_one_serves_again(platform: Platform, app: str) -> None:
    settle(platform, app, web=0)
    settle(platform, app, web=1)
    assert served_by(platform, app, 5) == {"echo from web.1\n": 5}


@pytest.mark.parametrize(
    ("change", "quantity"), [("web+1", 3), ("web-1", 1)], ids=["plus", "minus"]
)
def test_scale_by_relative_amount(
    platform: Platform, app: str, change: str, quantity: int
) -> None:
    settle(platform, app, web=2)
    result = platform.paas("ps:scale", change, "-a", app)
    assert (result.code, result.stderr) == (
        0,
        "Scaling dynos... done, now running crasher at 0:standard-1x, stubborn at "
        f"0:standard-1x, web at {quantity}:standard-1x, worker at 0:standard-1x\n",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "nope=1",
            "No 'nope' process type. Known types: crasher, stubborn, web, worker.",
        ),
        (
            "web=two",
            "Scale argument 'web=two' is invalid: use TYPE=N, TYPE+N or TYPE-N, "
            "optionally followed by :SIZE (web=2, worker+1:standard-2x).",
        ),
        (
            "web=1:huge",
            "Dyno size 'huge' is unknown. Sizes: basic, standard-1x, standard-2x, "
            "performance-m, performance-l.",
        ),
    ],
    ids=["unknown-type", "not-a-number", "unknown-size"],
)
def test_bad_scale_is_refused(
    platform: Platform, app: str, change: str, message: str
) -> None:
    before = platform.paas("ps:scale", "-a", app).stdout
    result = platform.paas("ps:scale", change, "-a", app)
    assert (result.code, result.stderr) == (
        1,
        f"Scaling dynos... !\nError: {message}\n",
    )
    assert platform.paas("ps:scale", "-a", app).stdout == before


def test_scale_before_first_push_is_refused(platform: Platform, new_app: str) -> None:
    result = platform.paas("ps:scale", "-a", new_app)
    assert (result.code, result.stderr) == (
        1,
        f"Error: No process types on {new_app}. Push a Procfile first.\n",
    )


# Crashes: a process type that exits 3 at once.


@pytest.fixture(scope="module")
def crashing(platform: Platform, app: str) -> Iterator[str]:
    """Scale the crasher to 1 and wait until it was restarted twice."""
    platform.paas("ps:scale", "crasher=1", "-a", app)
    wait_for(lambda: logs(platform, app, "--ps", "crasher.1").count("Restarting") >= 2)
    yield app
    platform.paas("ps:scale", "crasher=0", "-a", app)


def crash_log_times(platform: Platform, app: str, message: str) -> list[float]:
    """Return when the crasher's platform log lines with a message were logged."""
    shown = logs(platform, app, "--ps", "crasher.1", "--source", "paas")
    pattern = rf"^(\S+) paas\[crasher\.1\]: {re.escape(message)}$"
    stamps = re.findall(pattern, shown, flags=re.MULTILINE)
    return [datetime.fromisoformat(stamp).timestamp() for stamp in stamps]


def test_crashed_dyno_shows_restarts_and_exit_code(
    platform: Platform, crashing: str
) -> None:
    line = re.compile(
        r"^crasher\.1: crashed 20\S+ \S+ \+0000 \(~ \d+s ago\) "
        r"\(restarts: [1-9]\d*, last exit: 3\)$",
        flags=re.MULTILINE,
    )
    # Between restarts the dyno is briefly up; wait for a crashed moment.
    wait_for(lambda: line.search(platform.paas("ps", "crasher", "-a", crashing).stdout))


def test_crash_is_logged_with_exit_status(platform: Platform, crashing: str) -> None:
    shown = logs(platform, crashing, "--ps", "crasher.1")
    assert "app[crasher.1]: crashing now" in shown
    assert "paas[crasher.1]: Process exited with status 3" in shown
    assert "paas[crasher.1]: State changed from up to crashed" in shown


def test_crash_restarts_back_off(platform: Platform, crashing: str) -> None:
    exits = crash_log_times(platform, crashing, "Process exited with status 3")
    restarts = crash_log_times(platform, crashing, "Restarting")
    waits = [restart - exit for exit, restart in zip(exits, restarts, strict=False)]
    assert waits[0] < 1
    assert waits[1] >= 5


# Memory: a web dyno of size basic (512 MB) that allocates 900 MB.


@pytest.fixture(scope="module")
def over_memory(platform: Platform, app: str) -> Iterator[str]:
    """Make the web dyno allocate past its limit, and wait until it is back."""
    settle(platform, app, web=1)
    platform.paas("ps:scale", "web=1:basic", "-a", app)
    wait_for(lambda: dynos(platform, app).get("web.1", {}).get("size") == "basic")
    wait_for(lambda: dynos(platform, app)["web.1"]["state"] == "up")
    try:
        platform.get(app, "/alloc/900")
    except httpx.HTTPError:
        pass
    wait_for(lambda: "Error R15" in logs(platform, app, "--ps", "web.1"))
    yield app
    platform.paas("ps:scale", "web=1:standard-1x", "-a", app)


def test_ps_shows_dyno_size(platform: Platform, over_memory: str) -> None:
    shown = platform.paas("ps", "web", "-a", over_memory).stdout
    assert shown.startswith("=== web (basic): python3 app.py (1)\n")


def test_dyno_over_memory_is_killed_and_logged(
    platform: Platform, over_memory: str
) -> None:
    shown = logs(platform, over_memory, "--ps", "web.1", "--source", "paas")
    assert "paas[web.1]: Error R15 (Memory quota vastly exceeded): killed" in shown
    assert "paas[web.1]: Process exited with status 137" in shown


def test_dyno_over_memory_is_restarted(platform: Platform, over_memory: str) -> None:
    wait_for(lambda: "paas[web.1]: Restarting" in logs(platform, over_memory))
    wait_for(lambda: platform.get(over_memory).status_code == 200)
    assert platform.get(over_memory).text == "echo from web.1\n"


# Restarts and stops.


def test_ps_restart_restarts_every_dyno(platform: Platform, app: str) -> None:
    settle(platform, app, web=1, worker=1)
    before = started(platform, app)
    result = platform.paas("ps:restart", "-a", app)
    settle(platform, app, web=1, worker=1)
    after = started(platform, app)
    assert result.stderr == f"Restarting all dynos on {app}... done\n"
    assert [after[n] > before[n] for n in ("web.1", "worker.1")] == [True, True]


def test_ps_restart_process_type_restarts_only_it(platform: Platform, app: str) -> None:
    settle(platform, app, web=1, worker=1)
    before = started(platform, app)
    result = platform.paas("ps:restart", "-p", "worker", "-a", app)
    settle(platform, app, web=1, worker=1)
    after = started(platform, app)
    assert result.stderr == f"Restarting all worker dynos on {app}... done\n"
    assert (
        after["web.1"] == before["web.1"],
        after["worker.1"] > before["worker.1"],
    ) == (
        True,
        True,
    )


def test_ps_restart_dyno_restarts_only_it(platform: Platform, app: str) -> None:
    settle(platform, app, web=2)
    before = started(platform, app)
    result = platform.paas("ps:restart", "-d", "web.1", "-a", app)
    settle(platform, app, web=2)
    after = started(platform, app)
    assert result.stderr == f"Restarting dyno web.1 on {app}... done\n"
    assert (after["web.1"] > before["web.1"], after["web.2"] == before["web.2"]) == (
        True,
        True,
    )


def test_ps_stop_stops_dyno_and_starts_it_fresh(platform: Platform, app: str) -> None:
    settle(platform, app, web=1, worker=1)
    before = started(platform, app)
    result = platform.paas("ps:stop", "worker.1", "-a", app)
    settle(platform, app, web=1, worker=1)
    shown = logs(platform, app, "--ps", "worker.1", "--source", "paas")
    assert result.stderr == f"Stopping worker.1 on {app}... done\n"
    assert "paas[worker.1]: Stopping all processes with SIGTERM" in shown
    assert started(platform, app)["worker.1"] > before["worker.1"]


def test_stop_kills_process_ignoring_sigterm(platform: Platform, app: str) -> None:
    settle(platform, app, web=1, stubborn=1)
    platform.paas("ps:stop", "stubborn.1", "-a", app)
    shown = logs(platform, app, "--ps", "stubborn.1", "--source", "paas")
    settle(platform, app, web=1)
    assert (
        "paas[stubborn.1]: Error R12 (Exit timeout) -> Process failed to exit "
        "within 3 seconds of SIGTERM; stopped with SIGKILL" in shown
    )
    assert "paas[stubborn.1]: Process exited with status 137" in shown


@pytest.mark.parametrize(
    ("command", "step"),
    [
        (["ps:restart", "-d", "web.9"], "Restarting dyno web.9"),
        (["ps:restart", "-p", "nope"], "Restarting all nope dynos"),
        (["ps:stop", "web.9"], "Stopping web.9"),
    ],
    ids=["restart-dyno", "restart-type", "stop"],
)
def test_unknown_dyno_is_refused(
    platform: Platform, app: str, command: list[str], step: str
) -> None:
    result = platform.paas(*command, "-a", app)
    target = command[-1]
    assert (result.code, result.stderr) == (
        1,
        f"{step} on {app}... !\nError: No dyno '{target}' on '{app}'. Run 'paas ps'.\n",
    )


def test_ps_resize_changes_dyno_size(platform: Platform, app: str) -> None:
    settle(platform, app, web=1)
    result = platform.paas("ps:resize", "web=standard-2x", "-a", app)
    wait_for(lambda: dynos(platform, app).get("web.1", {}).get("state") == "up")
    shown = platform.paas("ps", "web", "-a", app).stdout
    settle(platform, app, web=1)
    assert result.stderr == f"Resized web=standard-2x on {app}.\n"
    assert shown.startswith("=== web (standard-2x): python3 app.py (1)\n")


def test_ps_resize_without_size_is_refused(platform: Platform, app: str) -> None:
    result = platform.paas("ps:resize", "web", "-a", app)
    assert (result.code, result.stderr) == (
        1,
        "Error: 'web' is invalid. Use TYPE=SIZE (web=standard-2x).\n",
    )


def test_scaling_is_logged_as_platform_event(platform: Platform, app: str) -> None:
    settle(platform, app, web=2)
    shown = logs(platform, app, "--ps", "api", "--source", "paas")
    assert (
        "paas[api]: Scaled to crasher=0:standard-1x, stubborn=0:standard-1x, "
        "web=2:standard-1x, worker=0:standard-1x" in shown
    )


def test_scale_past_the_cap_is_refused(platform: Platform, app: str) -> None:
    result = platform.paas("ps:scale", "web=1000", "-a", app)
    assert result.code == 1
    assert (
        "Error: Cannot scale web to 1000 dynos: the limit is 100 dynos per "
        "process type." in result.stderr
    )


def test_scale_past_the_host_memory_is_refused(platform: Platform, app: str) -> None:
    client = docker.from_env()
    host = client.info()["MemTotal"] // (1024 * 1024)
    client.close()
    quantity = host // 14336 + 1
    before = platform.paas("ps:scale", "-a", app).stdout
    result = platform.paas("ps:scale", f"web={quantity}:performance-l", "-a", app)
    assert result.code == 1
    assert f"but this host has {host} MB: scale to fewer" in result.stderr
    assert platform.paas("ps:scale", "-a", app).stdout == before
