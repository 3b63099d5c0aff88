"""The add-on catalog: the shipped services, plans, and ad-hoc images."""

from __future__ import annotations

from pathlib import Path

import pytest

from paas.addons.catalog import (
    CUSTOM_PLAN,
    custom_service,
    find_service,
    load_catalog,
    load_service,
    split_image,
)
from paas.errors import InvalidInput, NotFound


def test_catalog_has_the_required_services() -> None:
    names = sorted(load_catalog())
    assert names == ["elasticsearch", "memcached", "postgres", "rabbitmq", "redis"]


@pytest.mark.parametrize(
    ("service", "attach_as", "image"),
    [
        ("postgres", "DATABASE", "library/postgres:17"),
        ("redis", "REDIS", "library/redis:8"),
        ("memcached", "MEMCACHED", "library/memcached:1.6"),
        ("rabbitmq", "RABBITMQ", "library/rabbitmq:4"),
        (
            "elasticsearch",
            "ELASTICSEARCH",
            "docker.elastic.co/elasticsearch/elasticsearch:8.17.0",
        ),
    ],
    ids=["postgres", "redis", "memcached", "rabbitmq", "elasticsearch"],
)
def test_service_default_plan_image(service: str, attach_as: str, image: str) -> None:
    found = find_service(service)
    assert (found.attach_as, found.image_ref(found.plan(None))) == (attach_as, image)


def test_every_service_hands_over_a_url() -> None:
    for service in load_catalog().values():
        assert "URL" in service.config_vars, service.name


def test_unknown_service_names_the_known_ones() -> None:
    with pytest.raises(NotFound, match="No add-on service 'mysql'. Services: "):
        find_service("mysql")


def test_unknown_plan_names_the_known_ones() -> None:
    with pytest.raises(NotFound, match="No plan 'huge' of 'postgres'. Plans: 17, "):
        find_service("postgres").plan("huge")


def test_bad_catalog_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("service: broken\nimage: x\n")
    with pytest.raises(InvalidInput, match="broken.yaml' is invalid"):
        load_service(path)


def test_custom_image_becomes_a_tcp_service() -> None:
    service = custom_service("registry.example/team/search-api:2.1", 8080, "SEARCH")
    plan = service.plan(None)
    assert (service.name, plan.name, plan.tag) == ("search-api", CUSTOM_PLAN, "2.1")
    assert service.image_ref(plan) == "registry.example/team/search-api:2.1"
    assert service.healthcheck.tcp


def test_custom_image_needs_a_valid_port() -> None:
    with pytest.raises(InvalidInput, match="Port 0 is invalid"):
        custom_service("nginx", 0, "WEB")


@pytest.mark.parametrize(
    ("image", "split"),
    [
        ("nginx", ("nginx", "latest")),
        ("nginx:1.27", ("nginx", "1.27")),
        ("127.0.0.1:5000/library/redis:8", ("127.0.0.1:5000/library/redis", "8")),
        ("127.0.0.1:5000/x", ("127.0.0.1:5000/x", "latest")),
        ("x@sha256:ab", ("x", "@sha256:ab")),
    ],
    ids=["bare", "tag", "registry-port-tag", "registry-port-no-tag", "digest"],
)
def test_split_image(image: str, split: tuple[str, str]) -> None:
    assert split_image(image) == split
