"""CLI commands of routing: domains and router:stats, as Heroku shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from paas.cli import routing
from paas.cli.client import Client
from paas.cli.main import cli

DOMAINS = [
    {"hostname": "shop.localhost", "app": "shop", "kind": "default"},
    {"hostname": "www.example.com", "app": "shop", "kind": "custom"},
]


@pytest.fixture(autouse=True)
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the CLI away from the user's credentials and token file."""
    monkeypatch.setenv("PAAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PAAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PAAS_URL", raising=False)


def answering(
    monkeypatch: pytest.MonkeyPatch, body: Any, seen: list[httpx.Request]
) -> None:
    """Make the commands' API client answer every request with body."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body, headers={"X-Paas-Api-Version": "1"})

    transport = httpx.MockTransport(answer)
    monkeypatch.setattr(routing, "Client", lambda: Client(transport=transport))


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="paas")


def test_domains_lists_default_then_custom(monkeypatch: pytest.MonkeyPatch) -> None:
    answering(monkeypatch, DOMAINS, [])
    result = run("domains", "-a", "shop")
    assert result.stdout.splitlines() == [
        "=== shop Default Domain",
        "",
        "shop.localhost",
        "",
        "=== shop Custom Domains",
        "",
        "Domain Name      DNS Record Type  DNS Target",
        "www.example.com  CNAME            shop.localhost",
    ]


def test_domains_add_posts_the_hostname(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    answering(monkeypatch, DOMAINS[1], seen)
    result = run("domains:add", "www.example.com", "-a", "shop")
    assert (seen[0].method, seen[0].url.path, seen[0].content) == (
        "POST",
        "/v1/apps/shop/domains",
        b'{"hostname":"www.example.com"}',
    )
    assert result.stderr == "Adding www.example.com to shop... done\n"


def test_domains_remove_quotes_the_hostname(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    answering(monkeypatch, {}, seen)
    result = run("domains:remove", "a/b", "-a", "shop")
    assert (seen[0].method, seen[0].url.raw_path) == (
        "DELETE",
        b"/v1/apps/shop/domains/a%2Fb",
    )
    assert result.stderr == "Removing a/b from shop... done\n"


def test_router_stats_shows_counts_per_dyno(monkeypatch: pytest.MonkeyPatch) -> None:
    dynos = {
        "web.1": {"requests": 120, "in_flight": 1, "processes": 2},
        "web.2": {"requests": 98, "in_flight": 0, "processes": 2},
    }
    answering(monkeypatch, {"app": "shop", "dynos": dynos}, [])
    result = run("router:stats", "-a", "shop")
    assert result.stdout.splitlines()[2:] == [
        "Dyno   Requests  In flight",
        "web.1  120       1",
        "web.2  98        0",
    ]
