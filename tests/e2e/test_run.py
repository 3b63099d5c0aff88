"""One-off dynos: ``paas run`` output, exit codes, config vars and --detach."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import APPS, Platform, deploy_app, make_repo, wait_for

APP = "e2e-run"


@pytest.fixture(scope="module")
def app(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Deploy the echo app with one config var."""
    repo = make_repo(
        tmp_path_factory.mktemp("repo") / "app", APPS / "echo", platform.env
    )
    pushed = deploy_app(platform, APP, repo)
    assert pushed.code == 0, pushed.output
    platform.paas("config:set", "GREETING=hello there", "-a", APP)
    yield APP
    platform.paas("apps:destroy", APP, "--confirm", APP)


@pytest.mark.parametrize("code", [0, 7, 255])
def test_run_passes_exit_code_through(platform: Platform, app: str, code: int) -> None:
    result = platform.paas("run", "-a", app, "--", "sh", "-c", f"exit {code}")
    assert result.code == code


def test_run_shows_output(platform: Platform, app: str) -> None:
    result = platform.paas("run", "-a", app, "--", "echo", "one", "two")
    assert (result.code, result.stdout) == (0, "one two\n")
    assert re.fullmatch(
        rf"Running echo one two on {app}\.\.\. up, run\.\d{{4}} \(standard-1x\)\n",
        result.stderr,
    )


def test_run_keeps_arguments_with_spaces(platform: Platform, app: str) -> None:
    result = platform.paas("run", "-a", app, "--", "printf", "[%s]", "a b", "c")
    assert result.stdout == "[a b][c]\n"


def test_run_sees_config_vars(platform: Platform, app: str) -> None:
    result = platform.paas("run", "-a", app, "--", "printenv", "GREETING")
    assert (result.code, result.stdout) == (0, "hello there\n")


def test_run_is_named_run_dyno(platform: Platform, app: str) -> None:
    result = platform.paas("run", "-a", app, "--", "printenv", "DYNO")
    assert re.fullmatch(r"run\.\d{4}\n", result.stdout)


def test_run_detach_returns_at_once(platform: Platform, app: str) -> None:
    began = time.monotonic()
    command = "sleep 4; echo detached output"
    result = platform.paas("run", "--detach", "-a", app, "--", command)
    elapsed = time.monotonic() - began
    dyno = re.findall(r"up, (run\.\d{4})", result.stderr)[0]
    assert (result.code, result.stdout) == (
        0,
        f"Run 'paas logs -a {app} --ps {dyno}' to see its output.\n",
    )
    assert elapsed < 4


def test_run_detach_output_goes_to_logs(platform: Platform, app: str) -> None:
    command = "echo detached output"
    result = platform.paas("run", "--detach", "-a", app, "--", command)
    dyno = re.findall(r"up, (run\.\d{4})", result.stderr)[0]

    def logged() -> bool:
        shown = platform.paas("logs", "-a", app, "--ps", dyno).stdout
        return f"app[{dyno}]: detached output" in shown

    wait_for(logged, timeout=15)


def test_run_before_first_push_is_refused(platform: Platform, new_app: str) -> None:
    result = platform.paas("run", "-a", new_app, "--", "true")
    assert (result.code, result.stderr) == (
        1,
        f"Running true on {new_app}... !\n"
        f"Error: App '{new_app}' has no release yet. Push code first.\n",
    )


@pytest.mark.parametrize(
    ("size", "limits"),
    [("basic", "536870912 256\n"), ("standard-2x", "1073741824 512\n")],
)
def test_run_size_sets_container_limits(
    platform: Platform, app: str, size: str, limits: str
) -> None:
    # cgroup v2 names the files memory.max and pids.max; v1 has them per
    # controller. Either way they hold the container's limits.
    command = (
        "echo $(cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>/dev/null"
        " || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
        " /sys/fs/cgroup/pids/pids.max)"
    )
    result = platform.paas("run", "-s", size, "-a", app, "--", command)
    assert (result.code, result.stdout) == (0, limits)


def test_run_whose_client_goes_away_is_stopped(platform: Platform, app: str) -> None:
    shell = "echo started; sleep 300"
    command = [sys.executable, "-m", "paas.cli", "run", "-a", app, "--", shell]
    client = subprocess.Popen(
        command, env=platform.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with client:
        assert client.stdout is not None and client.stderr is not None
        dyno = re.findall(r"up, (run\.\d{4})", client.stderr.readline().decode())[0]
        # Its output arrives: the client is attached when it is killed.
        assert client.stdout.readline() == b"started\n"
        client.kill()

    def stopped() -> bool:
        return dyno not in platform.paas("ps", "-a", app).stdout

    wait_for(stopped, timeout=60)
    logs = platform.paas("logs", "-a", app, "--ps", dyno).stdout
    assert f"paas[{dyno}]: State changed from up to complete" in logs


def test_detached_run_logs_its_exit_status(platform: Platform, app: str) -> None:
    result = platform.paas("run", "--detach", "-a", app, "--", "exit 5")
    dyno = re.findall(r"up, (run\.\d{4})", result.stderr)[0]

    def logged() -> bool:
        shown = platform.paas("logs", "-a", app, "--ps", dyno).stdout
        return f"paas[{dyno}]: Process exited with status 5" in shown

    wait_for(logged, timeout=60)
