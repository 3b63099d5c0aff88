"""Config vars: set, get, unset, show, and the refusals, seen from a dyno."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import APPS, Platform, Result, deploy_app, make_repo

APP = "e2e-config"

AWKWARD = {
    "SPACES": "  two  spaces  and a tab\t",
    "QUOTES": 'it\'s "double" and `back` quoted',
    "EQUALS": "a=b==c=",
    "DOLLAR": "$HOME ${PORT} $(id) \\n %s",
    "NEWLINES": "line one\nline two\n\nline four\n",
    "UNICODE": "héllo ☃ 日本語 🚀",
}


@dataclass
class Configured:
    """The shared app, and what setting the awkward values printed."""

    name: str
    set_result: Result


@pytest.fixture(scope="module")
def configured(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Configured]:
    """Deploy the echo app and set every awkward value in one release."""
    repo = make_repo(
        tmp_path_factory.mktemp("repo") / "app", APPS / "echo", platform.env
    )
    pushed = deploy_app(platform, APP, repo)
    assert pushed.code == 0, pushed.output
    pairs = [f"{key}={value}" for key, value in AWKWARD.items()]
    result = platform.paas("config:set", "-a", APP, *pairs)
    yield Configured(APP, result)
    platform.paas("apps:destroy", APP, "--confirm", APP)


def dyno_env(platform: Platform, app: str) -> dict[str, str]:
    """Return the environment of the web dyno that answers."""
    env: dict[str, str] = platform.get(app, "/env").json()
    return env


def config_json(platform: Platform, app: str) -> dict[str, str]:
    """Return the app's config vars as the CLI prints them with --json."""
    config: dict[str, str] = json.loads(
        platform.paas("config", "-a", app, "--json").stdout
    )
    return config


def latest_release(platform: Platform, app: str) -> dict[str, Any]:
    """Return the newest release as the CLI prints it with --json."""
    result = platform.paas("releases", "-a", app, "-n", "1", "--json")
    release: dict[str, Any] = json.loads(result.stdout)[0]
    return release


@pytest.mark.parametrize("key", list(AWKWARD), ids=str.lower)
def test_awkward_value_reaches_dyno_exactly(
    platform: Platform, configured: Configured, key: str
) -> None:
    assert dyno_env(platform, configured.name)[key] == AWKWARD[key]


@pytest.mark.parametrize("key", list(AWKWARD), ids=str.lower)
def test_config_get_prints_value_exactly(
    platform: Platform, configured: Configured, key: str
) -> None:
    result = platform.paas("config:get", key, "-a", configured.name)
    assert (result.code, result.stdout) == (0, AWKWARD[key] + "\n")


def test_config_set_reports_release(platform: Platform, configured: Configured) -> None:
    version = latest_release(platform, configured.name)["version"]
    keys = ", ".join(AWKWARD)
    assert configured.set_result.stderr == (
        f"Setting {keys} and restarting {configured.name}... done, v{version}\n"
    )


def test_config_json_holds_every_value(
    platform: Platform, configured: Configured
) -> None:
    assert config_json(platform, configured.name) == AWKWARD


def test_config_shell_output_round_trips_in_sh(
    platform: Platform, configured: Configured
) -> None:
    shell = platform.paas("config", "-a", configured.name, "--shell").stdout
    script = f"set -a\n{shell}\nexec env -0"
    done = subprocess.run(["sh", "-c", script], capture_output=True, check=True, env={})
    pairs = [item.split(b"=", 1) for item in done.stdout.split(b"\0") if item]
    seen = {
        key.decode(): value.decode() for key, value in pairs if key.decode() in AWKWARD
    }
    assert seen == AWKWARD


def test_config_table_aligns_keys(platform: Platform, configured: Configured) -> None:
    lines = platform.paas("config", "-a", configured.name).stdout.splitlines()
    assert lines[:2] == [f"=== {configured.name} Config Vars", ""]
    assert "EQUALS:    a=b==c=" in lines
    assert "UNICODE:   héllo ☃ 日本語 🚀" in lines


def test_config_get_of_unset_key_prints_empty_line(
    platform: Platform, configured: Configured
) -> None:
    result = platform.paas("config:get", "NOT_SET_ANYWHERE", "-a", configured.name)
    assert (result.code, result.stdout) == (0, "\n")


def test_config_set_makes_release_and_restarts(
    platform: Platform, configured: Configured
) -> None:
    result = platform.paas("config:set", "FOO=bar", "-a", configured.name)
    release = latest_release(platform, configured.name)
    dynos = json.loads(platform.paas("ps", "-a", configured.name, "--json").stdout)
    assert result.stdout == "FOO: bar\n"
    assert release["description"] == "Set FOO config vars"
    assert [(d["name"], d["release"]) for d in dynos] == [("web.1", release["version"])]
    assert dyno_env(platform, configured.name)["FOO"] == "bar"


def test_releases_list_config_change(
    platform: Platform, configured: Configured
) -> None:
    platform.paas("config:set", "LISTED=1", "-a", configured.name)
    lines = platform.paas("releases", "-a", configured.name, "-n", "1").stdout
    version = latest_release(platform, configured.name)["version"]
    row = lines.splitlines()[2]
    assert row.startswith(f"v{version}  Set LISTED config vars  paas  20")


def test_config_unset_removes_var_from_dyno(
    platform: Platform, configured: Configured
) -> None:
    platform.paas("config:set", "GONE=soon", "-a", configured.name)
    result = platform.paas("config:unset", "GONE", "-a", configured.name)
    release = latest_release(platform, configured.name)
    assert result.stderr == (
        f"Unsetting GONE and restarting {configured.name}... "
        f"done, v{release['version']}\n"
    )
    assert release["description"] == "Remove GONE config vars"
    assert "GONE" not in dyno_env(platform, configured.name)


def refused(platform: Platform, app: str, *args: str) -> tuple[Result, bool]:
    """Run a config command; tell whether config and releases stayed put."""
    before = (config_json(platform, app), latest_release(platform, app))
    result = platform.paas(*args, "-a", app)
    after = (config_json(platform, app), latest_release(platform, app))
    return result, before == after


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        (
            "1ABC=x",
            "Config var key '1ABC' is invalid: use letters, digits and "
            "underscores, not starting with a digit.",
        ),
        (
            "BAD-KEY=x",
            "Config var key 'BAD-KEY' is invalid: use letters, digits and "
            "underscores, not starting with a digit.",
        ),
        ("PORT=80", "Config var 'PORT' is set by the platform."),
    ],
    ids=["leading-digit", "dash", "reserved"],
)
def test_bad_key_is_refused(
    platform: Platform, configured: Configured, pair: str, message: str
) -> None:
    result, unchanged = refused(platform, configured.name, "config:set", pair)
    key = pair.partition("=")[0]
    assert (result.code, result.stderr) == (
        1,
        f"Setting {key} and restarting {configured.name}... !\nError: {message}\n",
    )
    assert unchanged


def test_missing_equals_is_refused(platform: Platform, configured: Configured) -> None:
    result, unchanged = refused(platform, configured.name, "config:set", "NOEQUALS")
    assert (result.code, result.stderr) == (
        1,
        "Error: 'NOEQUALS' is invalid. Must be in the format FOO=bar.\n",
    )
    assert unchanged


def test_value_over_32_kb_is_refused(
    platform: Platform, configured: Configured
) -> None:
    current = config_json(platform, configured.name)
    size = sum(len(k.encode()) + len(v.encode()) for k, v in current.items())
    value = "x" * 32 * 1024
    pair = f"BIG={value}"
    result, unchanged = refused(platform, configured.name, "config:set", pair)
    total = size + len("BIG") + len(value)
    assert (result.code, result.stderr) == (
        1,
        f"Setting BIG and restarting {configured.name}... !\n"
        f"Error: Config vars would take {total} bytes, over the limit of 32768 "
        "bytes. Unset some or store large values elsewhere.\n",
    )
    assert unchanged


def test_config_change_is_logged_as_release_event(
    platform: Platform, configured: Configured
) -> None:
    platform.paas("config:set", "EVENT=1", "-a", configured.name)
    version = latest_release(platform, configured.name)["version"]
    shown = platform.paas("logs", "-a", configured.name, "--ps", "api").stdout
    assert f"paas[api]: Release v{version} created: Set EVENT config vars" in shown


def test_config_set_without_pairs_is_usage_error(
    platform: Platform, configured: Configured
) -> None:
    result = platform.paas("config:set", "-a", configured.name)
    assert result.code == 2
    assert result.stderr.endswith("Error: Missing argument 'PAIRS...'.\n")
