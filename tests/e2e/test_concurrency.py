"""Concurrent pushes: one app's pushes are serialised, different apps build at once."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.e2e.conftest import APPS, Platform, Result, commit_all, deploy_app, make_repo


def edit_greeting(repo: Path, platform: Platform, greeting: str) -> str:
    """Change what the echo app answers; commit; return the new commit."""
    app = repo / "app.py"
    app.write_text(app.read_text().replace('f"echo from', f'f"{greeting} from'))
    commit_all(repo, platform.env, f"greet with {greeting}")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True
    )
    return head.stdout.strip()


def push_both(platform: Platform, repos: list[Path]) -> list[Result]:
    with ThreadPoolExecutor(len(repos)) as pool:
        pushes = [
            pool.submit(platform.git, "push", "paas", "main", cwd=repo)
            for repo in repos
        ]
        return [push.result() for push in pushes]


def test_racing_pushes_to_one_app_release_what_main_holds(
    platform: Platform, tmp_path: Path
) -> None:
    name = "e2e-race"
    first = make_repo(tmp_path / "first", APPS / "echo", platform.env)
    assert deploy_app(platform, name, first).code == 0
    second = tmp_path / "second"
    shutil.copytree(first, second)
    commits = {
        "first": edit_greeting(first, platform, "first"),
        "second": edit_greeting(second, platform, "second"),
    }
    try:
        results = push_both(platform, [first, second])
        served = platform.get(name).text
        repo = platform.home / "repos" / f"{name}.git"
        main = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "main"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        released = platform.api("GET", f"/v1/apps/{name}/releases").json()
    finally:
        platform.paas("apps:destroy", name, "--confirm", name)
    codes = sorted(result.code for result in results)
    winner = "first" if results[0].code == 0 else "second"
    loser = results[1] if winner == "first" else results[0]
    newest = max(released, key=lambda release: release["version"])
    assert codes == [0, 1], [result.output for result in results]
    assert main == commits[winner]
    assert newest["commit"] == commits[winner]
    assert served.startswith(f"{winner} from web.")
    # The loser either waited and was refused, or git saw main move first.
    assert (
        "Another push updated main to" in loser.remote
        or "(fetch first)" in loser.output
    ), loser.output


def test_different_apps_build_at_once(platform: Platform, tmp_path: Path) -> None:
    names = ["e2e-para-a", "e2e-para-b"]
    repos = [make_repo(tmp_path / name, APPS / "echo", platform.env) for name in names]
    for name, repo in zip(names, repos, strict=True):
        assert platform.paas("apps:create", name, "--no-remote").code == 0
        platform.paas("git:remote", "-a", name, cwd=repo)
    try:
        results = push_both(platform, repos)
        answers = [platform.get(name).status_code for name in names]
    finally:
        for name in names:
            platform.paas("apps:destroy", name, "--confirm", name)
    assert [result.code for result in results] == [0, 0]
    assert not any("waiting for it" in result.remote for result in results)
    assert answers == [200, 200]
