"""The add-on endpoints, on a fake engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from paas.addons.fake import FakeAddonEngine
from paas.api.addons import RESULT_PREFIX
from paas.api.app import build_app
from paas.api.deps import Services
from paas.platform import Platform
from tests.conftest import TOKEN


@pytest.fixture
def engine(tmp_path: Path) -> FakeAddonEngine:
    """A fake add-on engine."""
    return FakeAddonEngine(proc=tmp_path)


@pytest.fixture
def addons_client(api: Services, engine: FakeAddonEngine) -> Iterator[TestClient]:
    """A client of an API whose platform has the fake add-on engine."""
    api.addons = engine
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(build_app(api), headers=headers) as test_client:
        yield test_client


def create(
    client: TestClient, app: str, **body: Any
) -> tuple[list[str], dict[str, Any]]:
    """Create an add-on; return the streamed lines and the result."""
    response = client.post(f"/v1/apps/{app}/addons", json=body)
    lines = response.text.splitlines()
    return lines[:-1], json.loads(lines[-1].removeprefix(RESULT_PREFIX))


def test_catalog_lists_services(addons_client: TestClient) -> None:
    services = addons_client.get("/v1/addon-services").json()
    postgres = next(s for s in services if s["name"] == "postgres")
    assert postgres["config_vars"] == ["DATABASE_URL"]


def test_plans_of_unknown_service_is_404(addons_client: TestClient) -> None:
    response = addons_client.get("/v1/addon-services/mysql/plans")
    assert response.status_code == 404


def test_create_streams_progress_then_result(
    addons_client: TestClient, platform: Platform
) -> None:
    platform.create_app("shop")
    lines, result = create(addons_client, "shop", service="redis:8")
    assert lines[0] == "-----> Pulling library/redis:8"
    assert result["addon"]["config_vars"] == ["REDIS_URL"]
    assert result["addon"]["plan"] == "redis:8"


def test_create_error_is_the_last_line(
    addons_client: TestClient, platform: Platform
) -> None:
    platform.create_app("shop")
    _, result = create(addons_client, "shop", service="mysql")
    assert result["status"] == 404
    assert result["error"].startswith("No add-on service 'mysql'.")


def test_listing_hides_credentials(
    addons_client: TestClient, platform: Platform
) -> None:
    platform.create_app("shop")
    create(addons_client, "shop", service="postgres")
    text = addons_client.get("/v1/apps/shop/addons").text
    password = platform.store.get_app("shop").config_vars["DATABASE_URL"][15:47]
    assert password not in text


def test_destroy_without_confirm_is_422(
    addons_client: TestClient, platform: Platform
) -> None:
    platform.create_app("shop")
    _, result = create(addons_client, "shop", service="redis")
    name = result["addon"]["name"]
    response = addons_client.delete(f"/v1/addons/{name}")
    assert response.status_code == 422


def test_app_destroy_removes_its_addons(
    addons_client: TestClient, platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    create(addons_client, "shop", service="redis")
    assert addons_client.delete("/v1/apps/shop").status_code == 200
    assert (engine.containers, addons_client.get("/v1/addons").json()) == ({}, [])


def test_attach_and_detach(addons_client: TestClient, platform: Platform) -> None:
    platform.create_app("shop")
    platform.create_app("admin")
    _, result = create(addons_client, "shop", service="redis")
    body = {"addon": result["addon"]["name"], "as": "cache"}
    attached = addons_client.post("/v1/apps/admin/addon-attachments", json=body)
    detached = addons_client.delete("/v1/apps/admin/addon-attachments/CACHE")
    assert (attached.status_code, attached.json()["name"]) == (201, "CACHE")
    assert detached.status_code == 200


@pytest.mark.parametrize("query", ["", "?app="])
def test_unknown_addon_is_named_without_an_app(
    addons_client: TestClient, query: str
) -> None:
    response = addons_client.get(f"/v1/addons/nosuch{query}")
    assert (response.status_code, response.json()["error"]) == (
        404,
        "No add-on named 'nosuch'. Run 'paas addons' to list them.",
    )


def test_var_shared_by_two_attachments_is_listed_once(
    addons_client: TestClient, platform: Platform
) -> None:
    platform.create_app("shop")
    platform.create_app("admin")
    _, result = create(addons_client, "shop", service="redis")
    name = result["addon"]["name"]
    body = {"addon": name, "as": "redis"}
    addons_client.post("/v1/apps/admin/addon-attachments", json=body)
    shown = addons_client.get(f"/v1/addons/{name}").json()
    assert shown["config_vars"] == ["REDIS_URL"]
    assert sorted(a["app"] for a in shown["attachments"]) == ["admin", "shop"]
