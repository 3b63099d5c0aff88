"""Python apps beyond requirements.txt: pyproject.toml, Django, refusals,
build records and build-time config vars kept out of the image."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from tests.e2e.conftest import (
    APPS,
    Platform,
    Result,
    commit_all,
    free_port,
    make_repo,
    remove_docker_objects,
    start_platform,
    stop_platform,
)

SECRET = "s3cr3t-django-key-4f9c1e"


@dataclass
class Pushed:
    """An app pushed once, shared by the tests of this module."""

    name: str
    repo: Path
    first_push: Result


def create_and_push(platform: Platform, name: str, repo: Path) -> Result:
    assert platform.paas("apps:create", name, "--no-remote").code == 0
    platform.paas("git:remote", "-a", name, cwd=repo)
    return platform.git("push", "paas", "main", cwd=repo)


@pytest.fixture(scope="module")
def pyproject_app(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pushed]:
    """Push the pyproject.toml app; destroy it afterwards."""
    name = "e2e-pyproject"
    repo = make_repo(
        tmp_path_factory.mktemp("pyproject") / "app", APPS / "pyproject", platform.env
    )
    yield Pushed(name, repo, create_and_push(platform, name, repo))
    platform.paas("apps:destroy", name, "--confirm", name)


@pytest.fixture(scope="module")
def django_app(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pushed]:
    """Push the Django app with its secret key set as a config var first."""
    name = "e2e-django"
    repo = make_repo(
        tmp_path_factory.mktemp("django") / "app", APPS / "django", platform.env
    )
    assert platform.paas("apps:create", name, "--no-remote").code == 0
    key = f"DJANGO_SECRET_KEY={SECRET}"
    assert platform.paas("config:set", key, "-a", name).code == 0
    platform.paas("git:remote", "-a", name, cwd=repo)
    yield Pushed(name, repo, platform.git("push", "paas", "main", cwd=repo))
    platform.paas("apps:destroy", name, "--confirm", name)


def missing(result: Result, lines: list[str]) -> list[str]:
    return [line for line in lines if line not in result.remote]


# pyproject.toml


def test_pyproject_app_build_says_what_it_installs(pyproject_app: Pushed) -> None:
    lines = [
        "remote: -----> Python app detected",
        "remote:        Using Python 3.13 specified in .python-version",
        "remote:        Installing from pyproject.toml",
        "remote: -----> Installing dependencies from pyproject.toml",
        "remote: -----> Installing the app using 'pip install --no-deps .'",
    ]
    result = pyproject_app.first_push
    assert (result.code, missing(result, lines)) == (0, [])


def test_pyproject_app_answers_through_router(
    platform: Platform, pyproject_app: Pushed
) -> None:
    response = platform.get(pyproject_app.name)
    assert (response.status_code, response.text) == (
        200,
        "hello from pyproject (Python 3.13.5)",
    )


def test_code_only_push_reuses_the_dependency_layer(
    platform: Platform, pyproject_app: Pushed
) -> None:
    module = pyproject_app.repo / "hello" / "__init__.py"
    module.write_text(module.read_text().replace("hello from", "hi again from"))
    commit_all(pyproject_app.repo, platform.env, "code only")
    result = platform.git("push", "paas", "main", cwd=pyproject_app.repo)
    deps = result.remote.split("Installing dependencies from pyproject.toml")[1]
    assert result.code == 0, result.remote
    assert deps.splitlines()[1] == (
        "remote:        Reused from the cache: nothing changed"
    )
    assert "Collecting flask" not in result.remote
    assert platform.get(pyproject_app.name).text.startswith("hi again from")


def test_builds_lists_the_push_newest_first(
    platform: Platform, pyproject_app: Pushed
) -> None:
    found = json.loads(
        platform.paas("builds", "-a", pyproject_app.name, "--json").stdout
    )
    commit = platform.git("rev-parse", "HEAD", cwd=pyproject_app.repo).stdout.strip()
    assert (found[0]["status"], found[0]["buildpack"], found[0]["commit"]) == (
        "succeeded",
        "python",
        commit,
    )
    assert found[0]["started_at"] >= found[-1]["started_at"]


def test_builds_output_replays_the_stored_log(
    platform: Platform, pyproject_app: Pushed
) -> None:
    first = json.loads(
        platform.paas("builds", "-a", pyproject_app.name, "--json").stdout
    )
    replay = platform.paas("builds:output", first[-1]["id"], "-a", pyproject_app.name)
    pushed = [
        line.removeprefix("remote: ")
        for line in pyproject_app.first_push.remote.splitlines()
        if line.startswith("remote: ")
    ]
    assert replay.code == 0
    assert "-----> Python app detected" in replay.stdout.splitlines()
    assert replay.stdout.splitlines() == pushed[: len(replay.stdout.splitlines())]


def test_builds_table_shows_status_and_buildpack(
    platform: Platform, pyproject_app: Pushed
) -> None:
    result = platform.paas("builds", "-a", pyproject_app.name)
    rows = result.stdout.splitlines()[3:]
    assert [row.split()[1:2] + row.split()[3:4] for row in rows] == [
        ["succeeded", "python"]
    ] * len(rows)


# Django


def test_django_build_collects_static_files(django_app: Pushed) -> None:
    lines = [
        "remote:        Django app: static files are collected at build "
        "(config var DISABLE_COLLECTSTATIC=1 skips it)",
        "remote: -----> $ python manage.py collectstatic --noinput",
    ]
    result = django_app.first_push
    assert (result.code, missing(result, lines)) == (0, [])
    assert re.search(r"remote:        \d+ static files? copied", result.remote)


def test_django_serves_collected_static_through_router(
    platform: Platform, django_app: Pushed
) -> None:
    page = platform.get(django_app.name)
    found = re.fullmatch(
        r"django ok (/static/pages/site\.[0-9a-f]{12}\.css)", page.text
    )
    assert found, page.text
    css = platform.get(django_app.name, found.group(1))
    assert (css.status_code, css.headers["content-type"], css.text) == (
        200,
        'text/css; charset="utf-8"',
        "body { color: rebeccapurple; }\n",
    )


def release_image(platform: Platform, app: str) -> str:
    found = json.loads(platform.paas("builds", "-a", app, "--json").stdout)
    return str(found[0]["image"])


def image_bytes_contain(image: str, needle: bytes) -> bool:
    client = docker.from_env()
    try:
        tail = b""
        for chunk in client.images.get(image).save(named=False):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
        return False
    finally:
        client.close()


def test_build_time_config_var_stays_out_of_the_image(
    platform: Platform, django_app: Pushed
) -> None:
    image = release_image(platform, django_app.name)
    client = docker.from_env()
    found = client.images.get(image)
    history = json.dumps(found.history())
    config = json.dumps(found.attrs)
    client.close()
    assert (SECRET in history, SECRET in config) == (False, False)
    assert image_bytes_contain(image, SECRET.encode()) is False


def test_disable_collectstatic_skips_it(platform: Platform, django_app: Pushed) -> None:
    name = django_app.name
    assert platform.paas("config:set", "DISABLE_COLLECTSTATIC=1", "-a", name).code == 0
    (django_app.repo / "README").write_text("skip collectstatic\n")
    commit_all(django_app.repo, platform.env, "readme")
    result = platform.git("push", "paas", "main", cwd=django_app.repo)
    assert result.code == 0, result.remote
    assert "remote:        Skipped: DISABLE_COLLECTSTATIC is set" in result.remote
    platform.paas("config:unset", "DISABLE_COLLECTSTATIC", "-a", name)


# refusals


def test_two_package_manager_files_are_refused(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("flask\n")
    (source / "Pipfile.lock").write_text(json.dumps({"default": {}}))
    repo = make_repo(tmp_path / "repo", source, platform.env)
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    result = platform.git("push", "paas", "main", cwd=repo)
    message = (
        "remote:  !     This app has more than one package manager file: "
        "requirements.txt, Pipfile.lock."
    )
    assert result.code != 0
    assert message in result.remote
    builds = json.loads(platform.paas("builds", "-a", new_app, "--json").stdout)
    output = platform.paas("builds:output", "-a", new_app).stdout
    assert [build["status"] for build in builds] == ["failed"]
    assert "more than one package manager file" in output


def test_python_version_the_stack_lacks_is_refused(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("")
    (source / "runtime.txt").write_text("python-3.9.18\n")
    repo = make_repo(tmp_path / "repo", source, platform.env)
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    result = platform.git("push", "paas", "main", cwd=repo)
    assert result.code != 0
    assert (
        "remote:  !     runtime.txt asks for Python 3.9.18, which this platform "
        "does not offer. Available: Python 3.13 (3.13.5)."
    ) in result.remote
    assert platform.paas("releases", "-a", new_app, "--json").stdout.strip() == "[]"


# operator build settings


INDEX = "https://pypi.org/simple/"


@pytest.fixture(scope="module")
def tuned_platform(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    """A second platform: builds may take 40 s and see an operator env file."""
    home = tmp_path_factory.mktemp("paas-tuned-home")
    env_file = home / "build.env"
    env_file.write_text(f"# the operator's mirror\nPIP_INDEX_URL={INDEX}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAAS_BUILD_TIMEOUT", "40")
        patch.setenv("PAAS_BUILD_ENV", str(env_file))
        running = start_platform(home, free_port(), free_port())
    try:
        yield running
    finally:
        platform_id = running.platform_id
        stop_platform(running)
        remove_docker_objects(platform_id)


def test_operator_build_env_reaches_the_install(
    tuned_platform: Platform, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "setup.py").write_text(
        'import os\n\nraise SystemExit("index: " + os.environ["PIP_INDEX_URL"])\n'
    )
    repo = make_repo(tmp_path / "repo", source, tuned_platform.env)
    result = create_and_push(tuned_platform, "envcheck", repo)
    assert result.code != 0
    assert f"index: {INDEX}" in result.remote


def test_build_past_the_timeout_is_rejected(
    tuned_platform: Platform, tmp_path: Path
) -> None:
    platform = tuned_platform
    source = tmp_path / "src"
    source.mkdir()
    (source / "setup.py").write_text("import time\n\ntime.sleep(300)\n")
    repo = make_repo(tmp_path / "repo", source, platform.env)
    started = time.monotonic()
    result = create_and_push(platform, "slow", repo)
    assert result.code != 0
    assert time.monotonic() - started < 150
    assert (
        "remote:  !     The build took longer than 40 s and was stopped "
        "(PAAS_BUILD_TIMEOUT); nothing was released."
    ) in result.remote
    builds = json.loads(platform.paas("builds", "-a", "slow", "--json").stdout)
    releases = platform.paas("releases", "-a", "slow", "--json").stdout
    assert ([build["status"] for build in builds], releases.strip()) == (
        ["failed"],
        "[]",
    )


# Pipfile.lock


def test_pipfile_lock_app_installs_hashed_packages(
    platform: Platform, new_app: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", APPS / "pipenv", platform.env)
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    result = platform.git("push", "paas", "main", cwd=repo)
    lines = [
        "remote:        Using Python 3.13 specified in Pipfile.lock",
        "remote: -----> Installing dependencies from Pipfile.lock",
    ]
    assert (result.code, missing(result, lines)) == (0, [])
    assert "Successfully installed gunicorn-23.0.0 packaging-24.2" in result.remote
    response = platform.get(new_app)
    assert (response.status_code, response.text) == (200, "hello from Pipfile.lock\n")
