"""git push to a served page, through real git, Docker and the router."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    APPS,
    EXAMPLE,
    Platform,
    Result,
    commit_all,
    make_repo,
)


@dataclass
class Deployed:
    """An app pushed once, shared by the tests of this module."""

    name: str
    repo: Path
    first_push: Result


def push(platform: Platform, repo: Path, branch: str = "main") -> Result:
    """Push a repo's branch to the paas remote."""
    return platform.git("push", "paas", branch, cwd=repo)


def wait_for(check: object, timeout: float = 30) -> None:
    """Poll a callable until it returns true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.25)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="module")
def deployed(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    """Create an app, push the example app to it, destroy it afterwards."""
    name = "e2e-example"
    repo = make_repo(tmp_path_factory.mktemp("repo") / "app", EXAMPLE, platform.env)
    platform.paas("apps:create", name, "--no-remote")
    platform.paas("git:remote", "-a", name, cwd=repo)
    result = push(platform, repo)
    yield Deployed(name, repo, result)
    platform.paas("apps:destroy", name, "--confirm", name)


def test_push_prints_heroku_build_lines(deployed: Deployed) -> None:
    lines = [
        "remote: -----> Python app detected",
        "remote: -----> Installing dependencies using 'pip install -r "
        "requirements.txt'",
        "remote: -----> Discovering process types",
        "remote:        Procfile declares types -> web",
        "remote: -----> Launching...",
        "remote:        Released v1",
        f"remote:        http://{deployed.name}.localhost:",
    ]
    missing = [line for line in lines if line not in deployed.first_push.stderr]
    assert (deployed.first_push.code, missing) == (0, [])


def test_app_answers_through_router(platform: Platform, deployed: Deployed) -> None:
    response = platform.get(deployed.name)
    assert response.status_code == 200
    assert "Hello from paas" in response.text
    assert "web.1" in response.text


def test_router_sets_forwarding_headers(platform: Platform, deployed: Deployed) -> None:
    env = platform.get(deployed.name, "/env").json()
    assert env["PORT"] == "5000"
    assert env["DYNO"] == "web.1"


def test_ps_shows_web_up(platform: Platform, deployed: Deployed) -> None:
    result = platform.paas("ps", "-a", deployed.name)
    assert result.stdout.startswith("=== web (standard-1x): gunicorn app:app")
    assert "\nweb.1: up 20" in result.stdout


def test_ps_json_lists_dyno(platform: Platform, deployed: Deployed) -> None:
    result = platform.paas("ps", "-a", deployed.name, "--json")
    dynos = __import__("json").loads(result.stdout)
    assert [(d["name"], d["state"]) for d in dynos] == [("web.1", "up")]


def test_logs_show_app_output(platform: Platform, deployed: Deployed) -> None:
    platform.get(deployed.name, "/")

    def logged() -> bool:
        result = platform.paas("logs", "-a", deployed.name, "-n", "200")
        return (
            "app[web.1]: " in result.stdout and '"GET / HTTP/1.1" 200' in result.stdout
        )

    wait_for(logged)


def test_logs_show_platform_events(platform: Platform, deployed: Deployed) -> None:
    result = platform.paas("logs", "-a", deployed.name, "--source", "paas", "-n", "200")
    assert "paas[web.1]: State changed from starting to up" in result.stdout
    assert "paas[api]: Release v1 created by git push" in result.stdout


def test_code_only_push_reuses_dependency_layer(
    platform: Platform, deployed: Deployed
) -> None:
    page = deployed.repo / "app.py"
    page.write_text(page.read_text().replace("Hello from paas", "Hello again"))
    commit_all(deployed.repo, platform.env, "change the greeting")
    result = push(platform, deployed.repo)
    assert (
        "Installing dependencies using 'pip install -r requirements.txt'\n"
        "remote:        Reused from the cache: nothing changed" in result.remote
    )
    assert "Hello again" in platform.get(deployed.name).text


def test_broken_push_rejected_old_release_serves(
    platform: Platform, deployed: Deployed
) -> None:
    before = platform.get(deployed.name).text
    (deployed.repo / "requirements.txt").write_text("no-such-package-paas-e2e==0.0.1\n")
    commit_all(deployed.repo, platform.env, "break the build")
    result = push(platform, deployed.repo)
    platform.git("reset", "-q", "--hard", "HEAD~1", cwd=deployed.repo)
    assert result.code == 1
    assert "pre-receive hook declined" in result.stderr
    assert "remote:  !     Push failed" in result.stderr
    assert platform.get(deployed.name).text == before


def test_non_main_branch_is_accepted_not_built(
    platform: Platform, deployed: Deployed
) -> None:
    platform.git("branch", "-f", "feature", cwd=deployed.repo)
    result = push(platform, deployed.repo, "feature")
    assert result.code == 0
    assert "Pushed to branch 'feature': accepted, not built." in result.stderr


def test_push_without_token_is_refused(
    platform: Platform, tmp_path: Path, new_app: str
) -> None:
    repo = make_repo(tmp_path / "app", APPS / "echo", platform.env)
    url = f"http://paas:wrong-token@127.0.0.1:{platform.api_port}/{new_app}.git"
    result = platform.git("push", url, "main", cwd=repo)
    assert result.code == 128
    assert "Authentication failed" in result.stderr


def test_api_without_token_gets_401(platform: Platform) -> None:
    import httpx

    response = httpx.get(f"http://127.0.0.1:{platform.api_port}/v1/apps")
    assert response.status_code == 401
    assert response.json()["error"].startswith("Missing or wrong API token.")


def test_bad_app_name_is_refused(platform: Platform) -> None:
    result = platform.paas("apps:create", "Bad_Name")
    assert result.code == 1
    assert "Error: App name 'Bad_Name' is invalid" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_app_is_named_in_error(platform: Platform) -> None:
    result = platform.paas("ps", "-a", "no-such-app")
    assert (result.code, result.stderr.strip()) == (
        1,
        "Error: No app named 'no-such-app'. Run 'paas apps' to list apps.",
    )


def test_bad_procfile_rejects_push_naming_line(
    platform: Platform, tmp_path: Path, new_app: str
) -> None:
    repo = make_repo(tmp_path / "app", APPS / "badprocfile", platform.env)
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    result = push(platform, repo)
    assert result.code == 1
    assert "Procfile line 2 is not 'type: command': '<<<<<<< HEAD'" in result.stderr


def test_app_without_web_warns_and_gets_503(
    platform: Platform, tmp_path: Path, new_app: str
) -> None:
    repo = make_repo(tmp_path / "app", APPS / "noweb", platform.env)
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    result = push(platform, repo)
    assert result.code == 0, result.output
    assert "No web process type declared" in result.stderr
    response = platform.get(new_app)
    assert response.status_code == 503
    assert "No web dynos running" in response.text


def test_unknown_host_gets_404(platform: Platform) -> None:
    response = platform.get("nobody-owns-this")
    assert response.status_code == 404


def test_fetch_is_refused_with_reason(platform: Platform, deployed: Deployed) -> None:
    result = platform.git("ls-remote", "paas", cwd=deployed.repo)
    assert result.code != 0
    assert "remote: Only pushes are served here: use 'git push'." in result.stderr


def test_push_to_unknown_app_names_it(platform: Platform, deployed: Deployed) -> None:
    url = f"http://paas:{platform.token}@127.0.0.1:{platform.api_port}/no-such-app.git"
    result = platform.git("push", url, "main", cwd=deployed.repo)
    assert result.code != 0
    assert "remote: No app named 'no-such-app'" in result.stderr
