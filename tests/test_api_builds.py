"""The builds and buildpack endpoints, through the API and its store."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from paas.buildpacks import load_buildpacks
from paas.platform import Platform
from paas.store import Build


def record_build(
    platform: Platform, build_id: str, started: float, status: str = "succeeded"
) -> Build:
    build = Build(
        id=build_id,
        app="shop",
        status="building",
        commit="c0ffee1234",
        buildpack=None,
        image=None,
        started_at=started,
        finished_at=None,
    )
    platform.store.create_build(build)
    if status != "building":
        build.status, build.buildpack = status, "python"
        build.finished_at, build.output = started + 12.5, f"-----> {build_id}\n"
        platform.store.finish_build(build)
    return build


@pytest.fixture
def shop(client: TestClient) -> str:
    assert client.post("/v1/apps", json={"name": "shop"}).status_code == 201
    return "shop"


def test_builds_are_listed_newest_first(
    client: TestClient, platform: Platform, shop: str
) -> None:
    record_build(platform, "old", 100.0)
    record_build(platform, "new", 200.0, status="failed")
    found = client.get("/v1/apps/shop/builds").json()
    assert [(b["id"], b["status"], b["duration"]) for b in found] == [
        ("new", "failed", 12.5),
        ("old", "succeeded", 12.5),
    ]


def test_build_list_leaves_output_out(
    client: TestClient, platform: Platform, shop: str
) -> None:
    record_build(platform, "one", 100.0)
    assert "output" not in client.get("/v1/apps/shop/builds").json()[0]


def test_running_build_has_no_duration(
    client: TestClient, platform: Platform, shop: str
) -> None:
    record_build(platform, "running", 100.0, status="building")
    found = client.get("/v1/apps/shop/builds").json()
    assert (found[0]["status"], found[0]["duration"]) == ("building", None)


def test_build_list_honours_limit(
    client: TestClient, platform: Platform, shop: str
) -> None:
    for number in range(3):
        record_build(platform, f"b{number}", 100.0 + number)
    found = client.get("/v1/apps/shop/builds", params={"limit": 1}).json()
    assert [build["id"] for build in found] == ["b2"]


def test_one_build_carries_its_output(
    client: TestClient, platform: Platform, shop: str
) -> None:
    record_build(platform, "one", 100.0)
    found = client.get("/v1/apps/shop/builds/one").json()
    assert (found["id"], found["output"]) == ("one", "-----> one\n")


def test_unknown_build_is_404_with_a_hint(client: TestClient, shop: str) -> None:
    response = client.get("/v1/apps/shop/builds/nope")
    assert (response.status_code, response.json()["error"]) == (
        404,
        "No build 'nope' of 'shop'. Run 'paas builds -a shop' to list them.",
    )


def test_new_app_has_no_buildpack(client: TestClient, shop: str) -> None:
    found = client.get("/v1/apps/shop/buildpack").json()
    assert found == {"app": "shop", "buildpack": None}


def test_buildpack_is_pinned_and_cleared(
    client: TestClient, platform: Platform, shop: str
) -> None:
    client.put("/v1/apps/shop/buildpack", json={"buildpack": "python"})
    pinned = platform.store.get_app("shop").buildpack
    client.delete("/v1/apps/shop/buildpack")
    assert (pinned, platform.store.get_app("shop").buildpack) == ("python", None)


def test_unknown_buildpack_is_422_listing_known_ones(
    client: TestClient, shop: str
) -> None:
    known = ", ".join(buildpack.name for buildpack in load_buildpacks())
    response = client.put("/v1/apps/shop/buildpack", json={"buildpack": "ruby"})
    assert (response.status_code, response.json()["error"]) == (
        422,
        f"No buildpack named 'ruby'. Known buildpacks: {known}.",
    )


def test_buildpack_of_unknown_app_is_404(client: TestClient) -> None:
    response = client.put("/v1/apps/nope/buildpack", json={"buildpack": "python"})
    assert response.status_code == 404


def test_empty_buildpack_name_is_422_listing_known_ones(
    client: TestClient, shop: str
) -> None:
    known = ", ".join(buildpack.name for buildpack in load_buildpacks())
    response = client.put("/v1/apps/shop/buildpack", json={"buildpack": ""})
    assert (response.status_code, response.json()["error"]) == (
        422,
        f"No buildpack named ''. Known buildpacks: {known}.",
    )


def test_buildpack_body_without_a_name_is_422(client: TestClient, shop: str) -> None:
    response = client.put("/v1/apps/shop/buildpack", json={"name": "python"})
    assert (response.status_code, response.json()["error"]) == (
        422,
        'Send the buildpack\'s name as {"buildpack": "python"}.',
    )
