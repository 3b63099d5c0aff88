"""Releases: the list, one release's details, rollback, and the release phase."""

from __future__ import annotations

import json
import re
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
    wait_for,
)


@dataclass
class History:
    """An app taken through five releases, the last a rollback to v2.

    v1 first push (content A), v2 STAGE=a, v3 push of content B, v4 STAGE=b,
    v5 rollback to v2.
    """

    name: str
    commits: dict[int, str]
    rollback: Result


@pytest.fixture(scope="module")
def history(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    """Build the release history described on ``History``."""
    name = "e2e-releases"
    repo = make_repo(
        tmp_path_factory.mktemp("repo") / "app", APPS / "echo", platform.env
    )
    commits = {1: head(platform, repo)}
    assert deploy_app(platform, name, repo).code == 0
    platform.paas("config:set", "STAGE=a", "-a", name)
    page = repo / "app.py"
    page.write_text(page.read_text().replace('f"echo from', 'f"content B from'))
    commit_all(repo, platform.env, "content B")
    commits[3] = head(platform, repo)
    assert platform.git("push", "paas", "main", cwd=repo).code == 0
    platform.paas("config:set", "STAGE=b", "-a", name)
    rollback = platform.paas("rollback", "v2", "-a", name)
    yield History(name, commits, rollback)
    platform.paas("apps:destroy", name, "--confirm", name)


def head(platform: Platform, repo: Path) -> str:
    """Return the commit a repo's main branch points at."""
    return platform.git("rev-parse", "HEAD", cwd=repo).stdout.strip()


def release_rows(platform: Platform, app: str, *args: str) -> list[list[str]]:
    """Return ``paas releases`` rows split into their columns."""
    lines = platform.paas("releases", "-a", app, *args).stdout.splitlines()
    return [re.split(r"\s{2,}", line) for line in lines[2:]]


def test_rollback_restores_code(platform: Platform, history: History) -> None:
    assert platform.get(history.name).text == "echo from web.1\n"


def test_rollback_restores_config_in_dyno(platform: Platform, history: History) -> None:
    assert platform.get(history.name, "/env").json()["STAGE"] == "a"


def test_rollback_restores_config_vars(platform: Platform, history: History) -> None:
    shown = platform.paas("config", "-a", history.name, "--json").stdout
    assert json.loads(shown) == {"STAGE": "a"}


def test_rollback_prints_undo_hint(history: History) -> None:
    assert (history.rollback.code, history.rollback.stdout) == (
        0,
        "Rollback affects code and config vars; it doesn't add or remove add-ons.\n"
        "To undo, run: paas rollback v4\n",
    )
    assert history.rollback.stderr == (
        f"Rolling back {history.name} to v2... done, v5\n"
    )


def test_releases_lists_newest_first(platform: Platform, history: History) -> None:
    rows = release_rows(platform, history.name)
    assert [row[:3] for row in rows] == [
        ["v5", "Rollback to v2", "paas"],
        ["v4", "Set STAGE config vars", "paas"],
        ["v3", f"Deploy {history.commits[3][:7]}", "git push"],
        ["v2", "Set STAGE config vars", "paas"],
        ["v1", f"Deploy {history.commits[1][:7]}", "git push"],
    ]


def test_releases_header_names_current(platform: Platform, history: History) -> None:
    lines = platform.paas("releases", "-a", history.name).stdout.splitlines()
    assert lines[:2] == [f"=== {history.name} Releases - Current: v5", ""]


def test_releases_num_limits_rows(platform: Platform, history: History) -> None:
    rows = release_rows(platform, history.name, "-n", "2")
    assert [row[0] for row in rows] == ["v5", "v4"]


def test_releases_info_shows_image_commit_config_status(
    platform: Platform, history: History
) -> None:
    lines = platform.paas("releases:info", "v3", "-a", history.name).stdout
    release, layers = lines.split("\n\n", 1)
    info = dict(
        re.split(r":\s+", line, maxsplit=1) for line in release.splitlines()[1:]
    )
    assert release.splitlines()[0] == "=== Release v3"
    assert layers.startswith("=== Layers (")
    assert re.fullmatch(rf"paas/{history.name}:[0-9a-f]+", info.pop("Image"))
    assert info.pop("When").startswith("20")
    assert info == {
        "By": "git push",
        "Change": f"Deploy {history.commits[3][:7]}",
        "Commit": history.commits[3],
        "Config": "STAGE",
        "Status": "succeeded",
    }


def test_rollback_release_reuses_target_image(
    platform: Platform, history: History
) -> None:
    found = json.loads(platform.paas("releases", "-a", history.name, "--json").stdout)
    images = {release["version"]: release["image"] for release in found}
    assert images[5] == images[2] == images[1] != images[3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["rollback", "v99"],
            "Rolling back {app} to v99... !\n"
            "Error: No release v99 of '{app}'. Run 'paas releases'.\n",
        ),
        (
            ["rollback", "latest"],
            "Error: 'latest' is not a release. Use a version such as v3.\n",
        ),
        (
            ["releases:info", "v99"],
            "Error: No release v99 of '{app}'. Run 'paas releases'.\n",
        ),
    ],
    ids=["rollback-unknown", "rollback-not-a-version", "info-unknown"],
)
def test_bad_release_is_refused(
    platform: Platform, history: History, args: list[str], message: str
) -> None:
    result = platform.paas(*args, "-a", history.name)
    assert (result.code, result.stderr) == (1, message.format(app=history.name))


def test_rollback_without_earlier_release_is_refused(
    platform: Platform, new_app: str
) -> None:
    result = platform.paas("rollback", "-a", new_app)
    assert (result.code, result.stderr) == (
        1,
        f"Rolling back {new_app} to the previous release... !\n"
        f"Error: No eligible release found for '{new_app}' to roll back to.\n",
    )


# The release phase.

RELEASE_OK = "release: echo 'release phase says hello'; echo 'migrations done'\n"
RELEASE_FAILS = "release: echo 'migration broke' >&2; exit 4\n"


@dataclass
class Phased:
    """An app whose Procfile has a release command that succeeds."""

    name: str
    repo: Path
    push: Result


@pytest.fixture(scope="module")
def phased(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Phased]:
    """Deploy the echo app with a release command that succeeds."""
    name = "e2e-release-phase"
    repo = make_repo(
        tmp_path_factory.mktemp("repo") / "app", APPS / "echo", platform.env
    )
    with (repo / "Procfile").open("a") as procfile:
        procfile.write(RELEASE_OK)
    commit_all(repo, platform.env, "add a release command")
    pushed = deploy_app(platform, name, repo)
    yield Phased(name, repo, pushed)
    platform.paas("apps:destroy", name, "--confirm", name)


@pytest.fixture(scope="module")
def failed_push(platform: Platform, phased: Phased) -> Iterator[Result]:
    """Push new content whose release command fails, then undo the commit."""
    procfile = phased.repo / "Procfile"
    procfile.write_text(procfile.read_text().replace(RELEASE_OK, RELEASE_FAILS))
    page = phased.repo / "app.py"
    page.write_text(page.read_text().replace('f"echo from', 'f"never served from'))
    commit_all(phased.repo, platform.env, "break the release command")
    yield platform.git("push", "paas", "main", cwd=phased.repo)
    platform.git("reset", "-q", "--hard", "HEAD~1", cwd=phased.repo)


def test_release_command_output_streams_into_push(phased: Phased) -> None:
    assert phased.push.code == 0, phased.push.output
    assert (
        "remote: -----> Running release command...\n"
        "remote:        release phase says hello\n"
        "remote:        migrations done\n"
    ) in phased.push.remote + "\n"


def test_release_command_output_reaches_logs(
    platform: Platform, phased: Phased
) -> None:
    def logged() -> bool:
        shown = platform.paas("logs", "-a", phased.name, "--ps", "release.1").stdout
        return "app[release.1]: release phase says hello" in shown

    wait_for(logged, timeout=10)


def test_release_command_success_is_logged(platform: Platform, phased: Phased) -> None:
    shown = platform.paas("logs", "-a", phased.name, "--source", "paas").stdout
    assert "paas[release.1]: Release command succeeded" in shown


def test_failing_release_command_rejects_push(failed_push: Result) -> None:
    assert failed_push.code == 1
    assert "pre-receive hook declined" in failed_push.stderr
    assert (
        "remote:  !     Release command failed with status 4: v2 was not deployed; "
        "the previous release keeps running." in failed_push.remote
    )


def test_failing_release_command_output_in_push(failed_push: Result) -> None:
    assert "remote:        migration broke\n" in failed_push.remote + "\n"


def test_failing_release_command_keeps_old_release_serving(
    platform: Platform, phased: Phased, failed_push: Result
) -> None:
    assert platform.get(phased.name).text == "echo from web.1\n"


def test_failed_release_is_listed_as_failed(
    platform: Platform, phased: Phased, failed_push: Result
) -> None:
    rows = release_rows(platform, phased.name)
    commit = platform.git("rev-parse", "HEAD~1", cwd=phased.repo).stdout
    assert rows[1][:2] == ["v1", f"Deploy {commit[:7]}"]
    assert rows[0][1].endswith(" release command failed")
    assert platform.paas("releases", "-a", phased.name).stdout.startswith(
        f"=== {phased.name} Releases - Current: v1\n"
    )
