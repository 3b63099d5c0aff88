"""The builds and buildpacks commands, run against the real API in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from paas.cli import builds as builds_cli
from paas.cli.client import Client
from paas.cli.main import cli
from paas.platform import Platform
from tests.conftest import api_transport
from tests.test_api_builds import record_build


@pytest.fixture(autouse=True)
def wired(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send the CLI's requests to the in-process API; create app 'shop'."""

    monkeypatch.setenv("PAAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PAAS_TOKEN", "test-token")
    transport = api_transport(client)
    monkeypatch.setattr(builds_cli, "Client", lambda: Client(transport=transport))
    client.post("/v1/apps", json={"name": "shop"})


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="paas")


def test_buildpacks_of_a_new_app_says_none_is_set() -> None:
    result = run("buildpacks", "-a", "shop")
    assert (result.exit_code, result.output) == (
        0,
        "shop has no buildpack set. The next push detects one.\n",
    )


def test_buildpacks_set_pins_and_shows_it() -> None:
    set_result = run("buildpacks:set", "python", "-a", "shop")
    shown = run("buildpacks", "-a", "shop")
    assert set_result.output.splitlines()[0] == (
        "Buildpack set. Next release on shop will use python."
    )
    assert shown.output == "=== shop Buildpack\n\npython\n"


def test_buildpacks_set_unknown_name_exits_1_listing_known() -> None:
    result = run("buildpacks:set", "ruby", "-a", "shop")
    assert result.exit_code == 1
    assert "Error: No buildpack named 'ruby'. Known buildpacks: " in result.output
    assert "python" in result.output


def test_buildpacks_clear_returns_to_detection(platform: Platform) -> None:
    platform.store.set_buildpack("shop", "python")
    result = run("buildpacks:clear", "-a", "shop")
    assert result.output == (
        "Buildpack cleared. Next release on shop will detect a buildpack.\n"
    )
    assert platform.store.get_app("shop").buildpack is None


def test_buildpacks_json_is_the_api_answer(platform: Platform) -> None:
    platform.store.set_buildpack("shop", "python")
    result = run("buildpacks", "-a", "shop", "--json")
    assert json.loads(result.output) == {"app": "shop", "buildpack": "python"}


def test_builds_table_lists_newest_first(platform: Platform) -> None:
    record_build(platform, "aaa111", 100.0)
    record_build(platform, "bbb222", 200.0, status="failed")
    lines = run("builds", "-a", "shop").output.splitlines()
    header = ["ID", "Status", "Commit", "Buildpack", "Duration", "Started"]
    assert (lines[:2], lines[2].split()) == (["=== shop Builds", ""], header)
    assert [line.split()[:5] for line in lines[3:]] == [
        ["bbb222", "failed", "c0ffee1", "python", "12s"],
        ["aaa111", "succeeded", "c0ffee1", "python", "12s"],
    ]


def test_builds_of_an_app_without_any() -> None:
    result = run("builds", "-a", "shop")
    assert result.output == (
        "shop has no builds. Push to build it: git push paas main.\n"
    )


def test_builds_json_lists_every_field(platform: Platform) -> None:
    record_build(platform, "aaa111", 100.0)
    found = json.loads(run("builds", "-a", "shop", "--json").output)
    assert sorted(found[0]) == [
        "app",
        "buildpack",
        "commit",
        "duration",
        "finished_at",
        "id",
        "image",
        "started_at",
        "status",
    ]


def test_builds_output_replays_the_latest_build(platform: Platform) -> None:
    record_build(platform, "aaa111", 100.0)
    record_build(platform, "bbb222", 200.0)
    assert run("builds:output", "-a", "shop").output == "-----> bbb222\n"


def test_builds_output_of_a_named_build(platform: Platform) -> None:
    record_build(platform, "aaa111", 100.0)
    record_build(platform, "bbb222", 200.0)
    assert run("builds:output", "aaa111", "-a", "shop").output == "-----> aaa111\n"


def test_builds_output_without_builds_exits_1() -> None:
    result = run("builds:output", "-a", "shop")
    assert (result.exit_code, result.output) == (
        1,
        "Error: shop has no builds yet. Push to build it.\n",
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0.4, "0s"), (12.6, "13s"), (65.0, "1m 05s")],
    ids=["running", "under-a-second", "seconds", "minutes"],
)
def test_build_duration_is_formatted(seconds: float | None, text: str) -> None:
    assert builds_cli.duration({"duration": seconds}) == text
