"""Host names in the route table: how a request's Host is matched."""

from __future__ import annotations

import pytest

from paas.router.table import AppRoute, Backend, RouteTable, normalize_host


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("Shop.Localhost", "shop.localhost"),
        ("shop.localhost:8080", "shop.localhost"),
        ("shop.localhost.", "shop.localhost"),
        ("www.example.com.:80", "www.example.com"),
        ("[::1]:8080", "[::1]"),
    ],
)
def test_host_is_normalized(given: str, name: str) -> None:
    assert normalize_host(given) == name


def test_fully_qualified_host_finds_its_app() -> None:
    route = AppRoute("up", [Backend("web.1", "127.0.0.1", 5000)])
    table = RouteTable({"shop": route}, {"shop.localhost": "shop"})
    assert table.lookup("shop.localhost.") == ("shop", route)
