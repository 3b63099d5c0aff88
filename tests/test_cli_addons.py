"""The add-on commands: output shapes, the streamed create, confirmations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from paas import API_VERSION
from paas.cli import addons as addons_cli
from paas.cli.addons import RESULT_PREFIX, addon_rows
from paas.cli.client import Client
from paas.cli.main import cli

POSTGRES = {
    "name": "postgres-swift-12345",
    "app": "shop",
    "service": "postgres",
    "plan": "postgres:17",
    "state": "created",
    "created_at": 0.0,
    "image": "library/postgres:17",
    "attachments": [
        {"addon": "postgres-swift-12345", "app": "shop", "name": "DATABASE"},
        {"addon": "postgres-swift-12345", "app": "admin", "name": "SHOP_DB"},
    ],
    "config_vars": ["DATABASE_URL", "SHOP_DB_URL"],
}
Answer = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the CLI away from the user's credentials and token file."""
    monkeypatch.setenv("PAAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PAAS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def serve(monkeypatch: pytest.MonkeyPatch, answer: Answer) -> list[httpx.Request]:
    """Make the add-on commands talk to ``answer``; return the requests seen."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        response = answer(request)
        response.headers["x-paas-api-version"] = str(API_VERSION)
        return response

    transport = httpx.MockTransport(record)
    monkeypatch.setattr(addons_cli, "Client", lambda: Client(transport=transport))
    return seen


def run(*args: str) -> Result:
    """Run the CLI with separate stdout and stderr."""
    return CliRunner().invoke(cli, list(args), prog_name="paas")


def test_rows_show_attachments_under_the_resource() -> None:
    assert addon_rows([POSTGRES], "shop") == [
        ["Add-on", "Plan", "State"],
        ["postgres-swift-12345", "postgres:17", "created"],
        [" └─ as DATABASE", "", ""],
        [" └─ as SHOP_DB on admin", "", ""],
    ]


def test_rows_name_the_owner_of_anothers_addon() -> None:
    rows = addon_rows([POSTGRES], "admin")
    assert rows[1][0] == "postgres-swift-12345 on shop"


def test_create_streams_progress_then_names_the_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = {"addon": POSTGRES | {"config_vars": ["DATABASE_URL"]}, "release": 4}
    body = f"-----> Pulling library/postgres:17\n{RESULT_PREFIX}{json.dumps(result)}\n"
    seen = serve(monkeypatch, lambda request: httpx.Response(200, text=body))
    done = run("addons:create", "postgres:17", "--as", "db", "-a", "shop")
    assert done.exit_code == 0, done.output
    assert done.stdout == "Created postgres-swift-12345 as DATABASE_URL\n"
    assert "-----> Pulling library/postgres:17\ndone, v4\n" in done.stderr
    assert json.loads(seen[0].content) == {
        "service": "postgres:17",
        "as": "db",
        "name": None,
        "image": None,
        "port": None,
    }


def test_create_failure_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = {"error": "Image 'x:1' is not in reach.", "status": 404}
    body = f"{RESULT_PREFIX}{json.dumps(failure)}\n"
    serve(monkeypatch, lambda request: httpx.Response(200, text=body))
    done = run("addons:create", "--image", "x:1", "--port", "1", "--as", "x", "-a", "a")
    assert done.exit_code == 1
    assert done.stderr.endswith("Error: Image 'x:1' is not in reach.\n")


def test_create_needs_a_service_or_image() -> None:
    done = run("addons:create", "-a", "shop")
    assert done.exit_code == 2


def test_destroy_without_confirm_names_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = serve(monkeypatch, lambda request: httpx.Response(200, json=POSTGRES))
    done = run("addons:destroy", "postgres-swift-12345")
    assert done.exit_code == 1
    assert (
        "run 'paas addons:destroy postgres-swift-12345 --confirm shop'" in done.stderr
    )
    assert [request.method for request in seen] == ["GET"]


def test_destroy_with_wrong_confirm_says_it_does_not_match(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = serve(monkeypatch, lambda request: httpx.Response(200, json=POSTGRES))
    done = run("addons:destroy", "postgres-swift-12345", "--confirm", "shpo")
    assert done.exit_code == 1
    assert done.stderr.endswith(
        "Error: --confirm shpo does not match shop, the app postgres-swift-12345 "
        "is on. Nothing was destroyed. To proceed, run 'paas addons:destroy "
        "postgres-swift-12345 --confirm shop'.\n"
    )
    assert [request.method for request in seen] == ["GET"]


def test_info_lists_attachments(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, lambda request: httpx.Response(200, json=POSTGRES))
    done = run("addons:info", "postgres-swift-12345")
    assert "Attachments:   shop::DATABASE, admin::SHOP_DB" in done.stdout


def answer_plans(request: httpx.Request) -> httpx.Response:
    """Answer the plans of postgres."""
    plans: list[dict[str, Any]] = [
        {
            "name": "17",
            "default": True,
            "image": "library/postgres:17",
            "memory_mb": 512,
        }
    ]
    return httpx.Response(200, json=plans)


def test_plans_mark_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, answer_plans)
    done = run("addons:plans", "postgres")
    assert done.stdout.splitlines()[1].split() == [
        "default",
        "postgres:17",
        "library/postgres:17",
        "512",
        "MB",
    ]
