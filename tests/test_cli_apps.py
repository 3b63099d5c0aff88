"""App, dyno, config and log commands, run against the real API in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from paas.cli import dynos as dynos_cli
from paas.cli import main as main_cli
from paas.cli import releases as releases_cli
from paas.cli.client import Client
from paas.cli.main import cli
from paas.platform import Platform
from paas.scheduler.fake import FakeBackend
from tests.conftest import Deploy, api_transport


@pytest.fixture(autouse=True)
def wired(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send the CLI's requests to the in-process API; create app 'shop'."""

    monkeypatch.setenv("PAAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PAAS_TOKEN", "test-token")
    monkeypatch.chdir(tmp_path)
    transport = api_transport(client)
    for module in (main_cli, dynos_cli, releases_cli):
        monkeypatch.setattr(module, "Client", lambda: Client(transport=transport))
    client.post("/v1/apps", json={"name": "shop"})


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="paas")


def test_destroy_takes_the_app_from_dash_a(client: TestClient) -> None:
    result = run("apps:destroy", "-a", "shop", "--confirm", "shop")
    assert (result.exit_code, result.stderr) == (0, "Destroying shop... done\n")
    assert client.get("/v1/apps/shop").status_code == 404


def test_destroy_with_two_different_apps_is_refused() -> None:
    result = run("apps:destroy", "shop", "-a", "blog", "--confirm", "shop")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: Two apps given: 'shop' and -a 'blog'. Name the app once.\n",
    )


class Interrupted(httpx.SyncByteStream):
    """An attach stream the user stops with Ctrl-C after one line."""

    def __iter__(self) -> Iterator[bytes]:
        yield b"working\n"
        raise KeyboardInterrupt


def test_ctrl_c_on_run_stops_the_dyno(
    client: TestClient,
    deploy: Deploy,
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy("shop")
    run_dyno = client.post("/v1/apps/shop/dynos", json={"command": "work"}).json()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/attach"):
            headers = {"X-Paas-Api-Version": "1"}
            return httpx.Response(200, headers=headers, stream=Interrupted())
        found = client.request(
            request.method, request.url.path, params=dict(request.url.params)
        )
        return httpx.Response(
            found.status_code, headers=found.headers, content=found.content
        )

    transport = httpx.MockTransport(answer)
    code = dynos_cli._attach(Client(transport=transport), "shop", run_dyno["name"])
    assert (code, backend.get_dyno(run_dyno["id"])) == (130, None)
    assert capsys.readouterr().err == f"\nStopping {run_dyno['name']} on shop... done\n"


def test_config_of_an_app_without_vars_says_so() -> None:
    result = run("config", "-a", "shop")
    assert (result.exit_code, result.stdout) == (0, "shop has no config vars.\n")


def test_config_unset_of_an_unset_var_makes_no_release(client: TestClient) -> None:
    result = run("config:unset", "NOPE", "-a", "shop")
    assert (result.exit_code, result.stderr) == (
        0,
        "NOPE is not set on shop.\nNothing changed: no new release.\n",
    )
    assert client.get("/v1/apps/shop/releases").json() == []


def test_config_unset_names_the_vars_that_were_not_set(client: TestClient) -> None:
    client.patch("/v1/apps/shop/config-vars", json={"FOO": "1"})
    result = run("config:unset", "FOO", "NOPE", "-a", "shop")
    assert (result.exit_code, result.stderr) == (
        0,
        "NOPE is not set on shop.\n"
        "Unsetting FOO, NOPE and restarting shop... done, v2\n",
    )


@pytest.mark.parametrize("count", ["-5", "0", "1501"], ids=["negative", "zero", "over"])
def test_logs_line_count_out_of_range_is_refused(count: str) -> None:
    result = run("logs", "-a", "shop", "-n", count)
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: -n {count} is invalid: show 1 to 1500 lines (-n 0 only with -t, "
        "to follow new lines only).\n",
    )


def test_logs_dash_d_shows_one_dyno(platform: Platform) -> None:
    platform.event("shop", "Scaled to web=2", "api")
    platform.event("shop", "Starting process", "web.1")
    result = run("logs", "-a", "shop", "-d", "web.1")
    assert [line.split(" ", 1)[1] for line in result.stdout.splitlines()] == [
        "paas[web.1]: Starting process"
    ]


def test_releases_name_why_a_release_failed(platform: Platform) -> None:
    release = platform.store.create_release(
        "shop",
        description="Deploy c0ffee9",
        image="paas/shop:build9",
        commit="c0ffee9",
        build_id="build9",
        config_vars={},
        process_types={"web": "app"},
        created_by="git push",
    )
    failure = "web dynos failed to boot"
    platform.store.set_release_status("shop", release.version, "failed", failure)
    row = run("releases", "-a", "shop").stdout.splitlines()[2]
    assert row.startswith("v1  Deploy c0ffee9 web dynos failed to boot  git push  ")
