"""Destroying an app removes everything it had, on a real engine."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from tests.e2e.conftest import APPS, Platform, deploy_app, make_repo

APP = "e2e-destroy"


@pytest.fixture
def destroyed(platform: Platform, tmp_path: Path) -> str:
    """Deploy the echo app with two web dynos, then destroy it with -a."""
    repo = make_repo(tmp_path / "app", APPS / "echo", platform.env)
    pushed = deploy_app(platform, APP, repo)
    assert pushed.code == 0, pushed.output
    assert platform.paas("ps:scale", "web=2", "-a", APP).code == 0
    done = platform.paas("apps:destroy", "-a", APP, "--confirm", APP)
    assert done.code == 0, done.output
    return APP


def labelled(platform: Platform, app: str) -> tuple[int, int, int]:
    client = docker.from_env()
    labels = [f"paas.platform={platform.platform_id}", f"paas.app={app}"]
    found = (
        len(client.containers.list(all=True, filters={"label": labels})),
        len(client.images.list(filters={"label": labels})),
        len(client.networks.list(filters={"label": labels})),
    )
    client.close()
    return found


def test_destroy_leaves_no_containers_images_or_network(
    platform: Platform, destroyed: str
) -> None:
    assert labelled(platform, destroyed) == (0, 0, 0)


def test_destroy_leaves_no_repo_or_log(platform: Platform, destroyed: str) -> None:
    assert not (platform.home / "repos" / f"{destroyed}.git").exists()
    assert not (platform.home / "logs" / f"{destroyed}.log").exists()


def test_destroyed_app_is_gone_from_disk_usage(
    platform: Platform, destroyed: str
) -> None:
    usage = platform.paas("system:df").stdout
    assert destroyed not in usage


def test_push_of_a_commit_without_files_says_so(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["commit", "-q", "--allow-empty", "-m", "nothing yet"],
    ):
        assert platform.git(*args, cwd=repo).code == 0
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    pushed = platform.git("push", "paas", "main", cwd=repo)
    assert pushed.code == 1
    assert (
        "remote:  !     The pushed commit has no files: add your app's code and "
        "push again." in pushed.remote
    )
    assert "gzip" not in pushed.remote
