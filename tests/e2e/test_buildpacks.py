"""One real app per buildpack, pushed with git and requested through the router.

Runtime images (Node.js, nginx, Go) are built once per machine and kept, so
only the first run on a machine pays for them.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    APPS,
    Platform,
    Result,
    commit_all,
    deploy_app,
    make_repo,
)


@dataclass
class Deployed:
    """An app pushed once, shared by the tests of a module."""

    name: str
    repo: Path
    push: Result
    seconds: float


def deploy(
    platform: Platform, tmp: pytest.TempPathFactory, name: str, app: str
) -> Deployed:
    """Push one of tests/e2e/apps to a new app and time the push."""
    repo = make_repo(tmp.mktemp(name) / "app", APPS / app, platform.env)
    started = time.monotonic()
    pushed = deploy_app(platform, name, repo)
    return Deployed(name, repo, pushed, time.monotonic() - started)


def lines(result: Result) -> list[str]:
    """Return the push output without git's 'remote: ' prefix."""
    return [line.removeprefix("remote: ") for line in result.remote.splitlines()]


def has_run(output: list[str], *expected: str) -> bool:
    """Tell whether the lines appear one right after another."""
    width = len(expected)
    return any(tuple(output[i : i + width]) == expected for i in range(len(output)))


def deployed_for_module(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory, name: str, app: str
) -> Iterator[Deployed]:
    """Deploy a test app for a module's tests; destroy it after them."""
    deployed = deploy(platform, tmp_path_factory, name, app)
    yield deployed
    platform.paas("apps:destroy", deployed.name, "--confirm", deployed.name)


@pytest.fixture(scope="module")
def node(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    yield from deployed_for_module(platform, tmp_path_factory, "bp-node", "nodejs")


@pytest.fixture(scope="module")
def static(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    yield from deployed_for_module(platform, tmp_path_factory, "bp-static", "static")


@pytest.fixture(scope="module")
def go(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    yield from deployed_for_module(platform, tmp_path_factory, "bp-go", "go")


@pytest.fixture(scope="module")
def dockerfile(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    yield from deployed_for_module(
        platform, tmp_path_factory, "bp-docker", "dockerfile"
    )


# Node.js


def test_node_push_installs_with_npm_ci(node: Deployed) -> None:
    output = lines(node.push)
    assert node.push.code == 0, node.push.remote
    assert "-----> Node.js app detected" in output
    assert "-----> Using Node.js 20.19.2 (engines.node '20.x')" in output
    assert "-----> Installing dependencies with 'npm ci'" in output


def test_node_express_app_answers(platform: Platform, node: Deployed) -> None:
    response = platform.get(node.name)
    assert (response.status_code, response.text) == (
        200,
        "Hello from Node v20.19.2 on web.1",
    )


def test_node_build_script_ran(platform: Platform, node: Deployed) -> None:
    assert platform.get(node.name, "/build").json() == {"built": True, "note": None}


def test_node_code_only_push_reuses_dependencies(
    platform: Platform, node: Deployed
) -> None:
    server = node.repo / "server.js"
    server.write_text(server.read_text().replace("Hello from", "Hi again from"))
    commit_all(node.repo, platform.env, "Change the greeting")
    started = time.monotonic()
    pushed = platform.git("push", "paas", "main", cwd=node.repo)
    warm = time.monotonic() - started
    print(f"\nNode push: cold {node.seconds:.1f} s, warm {warm:.1f} s")
    assert pushed.code == 0, pushed.remote
    assert has_run(
        lines(pushed),
        "-----> Installing dependencies with 'npm ci'",
        "       Reused from the cache: nothing changed",
    )
    assert platform.get(node.name).text.startswith("Hi again from Node")


def test_node_build_script_sees_config_vars(platform: Platform, node: Deployed) -> None:
    platform.paas("config:set", "BUILD_NOTE=from config", "-a", node.name)
    commit_all_empty(node.repo, platform.env)
    pushed = platform.git("push", "paas", "main", cwd=node.repo)
    assert pushed.code == 0, pushed.remote
    info = platform.get(node.name, "/build").json()
    assert info == {"built": True, "note": "from config"}
    left = platform.paas("run", "-a", node.name, "--", "ls", "/opt/paas/build")
    assert left.code != 0


def commit_all_empty(repo: Path, env: dict[str, str]) -> None:
    """Make a commit that changes nothing, so a push builds again."""
    command = ["git", "commit", "-q", "--allow-empty", "-m", "Build again"]
    subprocess.run(command, cwd=repo, env=env, check=True)


# Static sites


def test_static_index_is_served_as_html(platform: Platform, static: Deployed) -> None:
    response = platform.get(static.name)
    assert static.push.code == 0, static.push.remote
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html"
    assert "<h1>Hello from a static site</h1>" in response.text


def test_static_css_is_gzipped(platform: Platform, static: Deployed) -> None:
    response = platform.get(static.name, "/style.css")
    headers = response.headers
    assert (response.status_code, headers["content-type"]) == (200, "text/css")
    assert headers["content-encoding"] == "gzip"
    assert response.text.startswith("body { font-family: sans-serif; }")


def test_static_missing_page_is_404(platform: Platform, static: Deployed) -> None:
    assert platform.get(static.name, "/nope.html").status_code == 404


def test_static_dyno_runs_as_user_1000(platform: Platform, static: Deployed) -> None:
    result = platform.paas("run", "-a", static.name, "--", "id", "-u")
    assert (result.code, result.stdout.strip()) == (0, "1000")


# Go


def test_go_push_builds_the_main_package(go: Deployed) -> None:
    output = lines(go.push)
    assert go.push.code == 0, go.push.remote
    assert "-----> Using Go 1.24.4 (go.mod asks for go 1.22)" in output
    assert "       Main packages -> bin/hello" in output


def test_go_app_answers(platform: Platform, go: Deployed) -> None:
    response = platform.get(go.name)
    assert (response.status_code, response.text) == (
        200,
        "Hello from Go go1.24.4 on web.1\n",
    )


def test_go_module_download_fails_fast(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    shutil.copytree(APPS / "go", source)
    go_mod = source / "go.mod"
    go_mod.write_text(go_mod.read_text() + "\nrequire golang.org/x/text v0.14.0\n")
    repo = make_repo(tmp_path / "repo", source, platform.env)
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    started = time.monotonic()
    pushed = platform.git("push", "paas", "main", cwd=repo)
    assert pushed.code != 0
    assert time.monotonic() - started < 30
    assert "the Go module proxy is out of reach from this platform" in pushed.remote


def test_go_import_outside_go_mod_names_the_remedy(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    files = {
        "go.mod": "module example.com/x\n\ngo 1.22\n",
        "main.go": 'package main\n\nimport _ "golang.org/x/text/language"\n\n'
        "func main() {}\n",
    }
    pushed = push_files(platform, new_app, tmp_path, files)
    assert pushed.code != 0
    assert has_run(
        lines(pushed),
        "       A module is missing and the Go module proxy is out of reach from "
        "this platform:",
        "       run 'go mod vendor' and commit the vendor folder.",
    )


# Dockerfile apps


def test_dockerfile_cmd_is_the_web_process(dockerfile: Deployed) -> None:
    output = lines(dockerfile.push)
    assert dockerfile.push.code == 0, dockerfile.push.remote
    assert "-----> Dockerfile app detected" in output
    assert (
        "       Image CMD and ENTRYPOINT -> web: "
        "exec /srv/entry.sh python3 /srv/server.py"
    ) in output


def test_dockerfile_app_answers_on_port(
    platform: Platform, dockerfile: Deployed
) -> None:
    response = platform.get(dockerfile.name)
    assert (response.status_code, response.text) == (
        200,
        "Hello from a Dockerfile app on web.1\n",
    )


def push_files(
    platform: Platform,
    app: str,
    tmp_path: Path,
    files: dict[str, str],
    links: dict[str, str] | None = None,
) -> Result:
    """Commit files (and symlinks: name -> target) to a new repo; push it."""
    source = tmp_path / "source"
    source.mkdir()
    for name, text in files.items():
        (source / name).write_text(text)
    repo = make_repo(tmp_path / "repo", source, platform.env)
    for name, target in (links or {}).items():
        # Added after the copy: copytree would copy the target's content.
        (repo / name).symlink_to(target)
    if links:
        commit_all(repo, platform.env, "Add links")
    platform.paas("git:remote", "-a", app, cwd=repo)
    return platform.git("push", "paas", "main", cwd=repo)


def test_dockerfile_without_cmd_says_what_to_add(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    dockerfile = "FROM paas/stack:trixie\nRUN true\n"
    pushed = push_files(platform, new_app, tmp_path, {"Dockerfile": dockerfile})
    assert has_run(
        lines(pushed),
        " !     The image runs no server (no CMD of its own): add a CMD",
        "       to the Dockerfile or a 'web:' line to the Procfile.",
    )


def test_dockerfile_cannot_copy_from_outside_the_context(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    dockerfile = "FROM paas/stack:trixie\nCOPY ../etc/passwd /stolen\n"
    pushed = push_files(platform, new_app, tmp_path, {"Dockerfile": dockerfile})
    assert pushed.code != 0
    assert "forbidden path outside the build context" in pushed.remote


def test_dockerfile_symlink_out_of_the_repo_is_refused(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    files = {"Dockerfile": "FROM paas/stack:trixie\nCOPY hosts /x\n"}
    links = {"hosts": "/etc/hosts"}
    pushed = push_files(platform, new_app, tmp_path, files, links)
    assert pushed.code != 0
    assert "The push has a symlink 'hosts' -> '/etc/hosts' that points" in (
        pushed.remote
    )


def test_dockerfile_from_a_public_image_is_refused(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    dockerfile = "FROM node:20-slim\nCMD node\n"
    pushed = push_files(platform, new_app, tmp_path, {"Dockerfile": dockerfile})
    assert pushed.code != 0
    assert (
        "The Dockerfile starts FROM (or copies from) 'node:20-slim', which is not "
        "on this machine, and no public image registry is reachable."
    ) in pushed.remote


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM {image}\nCMD true\n",
        "FROM paas/stack:trixie\nCOPY --from={image} /app /stolen\nCMD true\n",
    ],
    ids=["from", "copy-from"],
)
def test_dockerfile_cannot_read_another_apps_image(
    platform: Platform, new_app: str, tmp_path: Path, dockerfile: str
) -> None:
    # An app image holds code (a build cache, config vars too).
    served = "FROM paas/stack:trixie\nCMD exec python3 -m http.server $PORT\n"
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = push_files(platform, new_app, tmp_path / "first", {"Dockerfile": served})
    assert first.code == 0, first.output
    releases = platform.api("GET", f"/v1/apps/{new_app}/releases").json()
    image = releases[0]["image"]
    second = tmp_path / "second"
    files = {"Dockerfile": dockerfile.format(image=image)}
    push_files(platform, new_app, second, files)
    pushed = platform.git("push", "--force", "paas", "main", cwd=second / "repo")
    assert pushed.code != 0
    assert (
        f"The Dockerfile starts FROM (or copies from) '{image}', which is "
        "not an image apps may build on."
    ) in pushed.remote
