"""Domains: host name rules, one app per host, and the route table."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from paas.domains import add_domain, list_domains, normalize_hostname, remove_domain
from paas.errors import Conflict, InvalidInput, NotFound
from paas.platform import Platform


@pytest.fixture
def shop(platform: Platform) -> str:
    platform.create_app("shop")
    return "shop"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("www.example.com", "www.example.com"),
        ("WWW.Example.COM", "www.example.com"),
        ("shop.example.com.", "shop.example.com"),
        ("a-b.c1.example.org", "a-b.c1.example.org"),
    ],
)
def test_hostname_is_normalized(given: str, kept: str) -> None:
    assert normalize_hostname(given) == kept


@pytest.mark.parametrize(
    "bad",
    [
        "localhost",
        "http://www.example.com",
        "www.example.com:8080",
        "www.example.com/path",
        "*.example.com",
        "-shop.example.com",
        "shop..example.com",
        "10.0.0.1",
        "x" * 64 + ".example.com",
        "",
    ],
    ids=repr,
)
def test_bad_hostname_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"is not a valid host name"):
        normalize_hostname(bad)


def test_app_lists_default_domain_first(platform: Platform, shop: str) -> None:
    add_domain(platform, shop, "a.example.com")
    shown = [(d.hostname, d.kind) for d in list_domains(platform, shop)]
    assert shown == [("shop.localhost", "default"), ("a.example.com", "custom")]


def test_added_domain_is_in_route_table(platform: Platform, shop: str) -> None:
    add_domain(platform, shop, "WWW.Example.com")
    table = json.loads(platform.settings.routes_path.read_text())
    assert table["hosts"]["www.example.com"] == "shop"


def test_removed_domain_leaves_route_table(platform: Platform, shop: str) -> None:
    add_domain(platform, shop, "www.example.com")
    remove_domain(platform, shop, "www.example.com")
    table = json.loads(platform.settings.routes_path.read_text())
    assert table["hosts"] == {"shop.localhost": "shop"}


def test_host_of_another_app_is_refused(platform: Platform, shop: str) -> None:
    platform.create_app("blog")
    add_domain(platform, "blog", "www.example.com")
    message = r"^Domain 'www.example.com' is already used by app 'blog'; .*-a blog'\.$"
    with pytest.raises(Conflict, match=message):
        add_domain(platform, shop, "www.example.com")


def test_default_domain_of_another_app_is_reserved(
    platform: Platform, shop: str
) -> None:
    with pytest.raises(InvalidInput, match=r"'blog.localhost' is reserved"):
        add_domain(platform, shop, "blog.localhost")


def test_default_domain_cannot_be_removed(platform: Platform, shop: str) -> None:
    with pytest.raises(InvalidInput, match=r"is the default domain of 'shop'"):
        remove_domain(platform, shop, "shop.localhost")


def test_removing_unknown_domain_is_not_found(platform: Platform, shop: str) -> None:
    with pytest.raises(NotFound, match=r"has no domain 'www.example.com'"):
        remove_domain(platform, shop, "www.example.com")


def test_api_adds_lists_and_removes(client: TestClient) -> None:
    assert client.post("/v1/apps", json={"name": "shop"}).status_code == 201
    added = client.post("/v1/apps/shop/domains", json={"hostname": "a.example.com"})
    removed = client.delete("/v1/apps/shop/domains/a.example.com")
    listed = client.get("/v1/apps/shop/domains").json()
    assert (added.status_code, removed.status_code) == (201, 200)
    assert listed == [{"hostname": "shop.localhost", "app": "shop", "kind": "default"}]


def test_api_refuses_claimed_host_with_409(client: TestClient) -> None:
    for name in ("shop", "blog"):
        client.post("/v1/apps", json={"name": name})
    client.post("/v1/apps/blog/domains", json={"hostname": "a.example.com"})
    answer = client.post("/v1/apps/shop/domains", json={"hostname": "a.example.com"})
    assert (answer.status_code, answer.json()["id"]) == (409, "Conflict")


def test_api_refuses_missing_hostname(client: TestClient) -> None:
    client.post("/v1/apps", json={"name": "shop"})
    answer = client.post("/v1/apps/shop/domains", json={"host": "a.example.com"})
    assert answer.status_code == 422


def test_destroyed_app_frees_its_domains(platform: Platform, shop: str) -> None:
    platform.create_app("blog")
    add_domain(platform, "blog", "www.example.com")
    platform.destroy_app("blog")
    assert add_domain(platform, shop, "www.example.com").app == "shop"
