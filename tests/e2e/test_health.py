"""Health checks: a release whose new web dynos are not healthy never serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import APPS, Platform, commit_all, make_repo


@pytest.fixture(scope="module")
def healthy(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """An app serving a release that passed its declared health check."""
    name = "e2e-health"
    repo = make_repo(
        tmp_path_factory.mktemp("repo") / "app", APPS / "healthy", platform.env
    )
    platform.paas("apps:create", name, "--no-remote")
    platform.paas("git:remote", "-a", name, cwd=repo)
    pushed = platform.git("push", "paas", "main", cwd=repo)
    assert pushed.code == 0, pushed.output
    yield name, repo
    platform.paas("apps:destroy", name, "--confirm", name)


def push_change(platform: Platform, repo: Path, files: dict[str, str]) -> str:
    """Commit files on a throwaway state, push, and restore the repo."""
    for name, text in files.items():
        (repo / name).write_text(text)
    commit_all(repo, platform.env, "change")
    result = platform.git("push", "paas", "main", cwd=repo)
    platform.git("reset", "-q", "--hard", "HEAD~1", cwd=repo)
    assert result.code == 1, result.output
    return result.remote


def test_declared_health_check_is_reported(
    platform: Platform, healthy: tuple[str, Path]
) -> None:
    name, _ = healthy
    build = platform.paas("logs", "-a", name, "--source", "paas", "-n", "100")
    assert platform.get(name).status_code == 200
    assert "State changed from starting to up" in build.stdout


def test_failing_health_check_keeps_old_release(
    platform: Platform, healthy: tuple[str, Path]
) -> None:
    name, repo = healthy
    check = "healthcheck: {path: /missing-page, status: 204, attempts: 2, wait: 0.1}"
    remote = push_change(platform, repo, {"paas.yaml": check})
    reason = "GET /missing-page answered 200, expected 204."
    assert f"web.1 failed its health check after 2 attempt(s): {reason}" in remote
    assert platform.get(name).text == "echo from web.1\n"


def test_dyno_that_never_binds_port_keeps_old_release(
    platform: Platform, healthy: tuple[str, Path]
) -> None:
    name, repo = healthy
    remote = push_change(platform, repo, {"Procfile": "web: sleep 1000\n"})
    line = "Error R10 (Boot timeout) -> web.1 failed to bind to $PORT within 12 seconds"
    assert remote.count(line) == 1
    assert platform.get(name).text == "echo from web.1\n"


def test_dyno_that_exits_at_boot_keeps_old_release(
    platform: Platform, healthy: tuple[str, Path]
) -> None:
    name, repo = healthy
    remote = push_change(platform, repo, {"Procfile": "web: echo bye; exit 4\n"})
    assert remote.count("web.1 exited with status 4 before binding to $PORT.") == 1
    assert "Last output of web.1:\nremote:        bye\n" in remote
    assert platform.get(name).text == "echo from web.1\n"
    releases = platform.paas("releases", "-a", name, "-n", "1").stdout
    assert "web dynos failed to boot" in releases


def test_invalid_health_check_file_rejects_push(
    platform: Platform, healthy: tuple[str, Path]
) -> None:
    _, repo = healthy
    remote = push_change(platform, repo, {"paas.yaml": "healthcheck:\n  pth: /x\n"})
    keys = "path, status, timeout, attempts, wait"
    assert f"Unknown healthcheck key 'pth' in paas.yaml: use {keys}." in remote
