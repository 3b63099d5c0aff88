"""Add-ons on a real engine, pulled from the local registry filled offline.

One app gets postgres and redis and writes and reads through DATABASE_URL
and REDIS_URL; a second app is attached to the same postgres, a third is
not and must not reach it. Elasticsearch is not in the local registry, so
creating it must fail cleanly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from tests.e2e.conftest import (
    APPS,
    Platform,
    Result,
    commit_all,
    deploy_app,
    make_repo,
    restart_platform,
    wait_for,
)

ES_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:8.17.0"


@dataclass
class Stack:
    """The apps of this module and their add-ons."""

    shop: str
    admin: str
    outsider: str
    postgres: str
    redis: str
    created: Result
    repo: Path


def deploy(platform: Platform, name: str, tmp: Path) -> None:
    """Push the add-ons test app as a new app."""
    repo = make_repo(tmp / name, APPS / "addons", platform.env)
    pushed = deploy_app(platform, name, repo)
    assert pushed.code == 0, pushed.remote


def create(platform: Platform, app: str, *args: str) -> Result:
    """Run addons:create for an app."""
    return platform.paas("addons:create", *args, "-a", app, timeout=600)


def resource(created: Result) -> str:
    """Return the resource name from 'Created NAME as VAR_URL'."""
    line = next(x for x in created.stdout.splitlines() if x.startswith("Created "))
    return line.split()[1]


def addons_of(platform: Platform, app: str) -> list[dict[str, Any]]:
    """Return ``paas addons --json`` of an app."""
    listed = platform.paas("addons", "-a", app, "--json")
    assert listed.code == 0, listed.output
    return list(json.loads(listed.stdout))


def config_of(platform: Platform, app: str) -> dict[str, str]:
    """Return an app's config vars."""
    return dict(platform.api("GET", f"/v1/apps/{app}/config-vars").json())


def get_text(platform: Platform, app: str, path: str) -> str:
    """Request a path of an app through the router; fail unless 200."""
    response = platform.get(app, path)
    assert response.status_code == 200, response.text
    return response.text


def answers(platform: Platform, app: str, path: str, text: str) -> bool:
    """Tell whether a path of an app answers 200 with a text in the body."""
    try:
        response = platform.get(app, path)
    except httpx.HTTPError:
        return False  # the router is not up yet after a platform restart
    return response.status_code == 200 and text in response.text


@pytest.fixture(scope="module")
def stack(
    platform: Platform, local_registry: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Deploy three apps; give the first postgres and redis."""
    tmp = tmp_path_factory.mktemp("addons")
    stamp = time.monotonic_ns() % 10**6
    names = [f"ad-{role}-{stamp}" for role in ("shop", "admin", "out")]
    for name in names:
        deploy(platform, name, tmp)
    shop = names[0]
    created = create(platform, shop, "postgres")
    assert created.code == 0, created.output
    cache = create(platform, shop, "redis:8")
    assert cache.code == 0, cache.output
    yield Stack(*names, resource(created), resource(cache), created, tmp / shop)
    for name in names:
        platform.paas("apps:destroy", name, "--confirm", name)


def container(platform: Platform, name: str) -> Any:
    """Return an add-on's container, found by label, or None."""
    client = docker.from_env()
    labels = [f"paas.platform={platform.platform_id}", f"paas.addon={name}"]
    found = client.containers.list(all=True, filters={"label": labels})
    return found[0] if found else None


def volumes(platform: Platform, name: str) -> list[str]:
    """Return the names of an add-on's volumes."""
    client = docker.from_env()
    labels = [f"paas.platform={platform.platform_id}", f"paas.addon={name}"]
    return [v.name for v in client.volumes.list(filters={"label": labels})]


def test_create_streams_the_pull_and_names_the_var(stack: Stack) -> None:
    assert "-----> Pulling library/postgres:17" in stack.created.stderr
    assert f"-----> Waiting for {stack.postgres} to be healthy" in stack.created.stderr
    assert stack.created.stdout.startswith(f"Created {stack.postgres} as DATABASE_URL")


def test_resource_names_follow_heroku(stack: Stack) -> None:
    assert stack.postgres.startswith("postgres-")
    assert stack.redis.startswith("redis-")


def test_addons_lists_plan_state_and_attachment(
    platform: Platform, stack: Stack
) -> None:
    listed = platform.paas("addons", "-a", stack.shop)
    assert f"{stack.postgres}  postgres:17  created" in listed.stdout
    assert " └─ as DATABASE" in listed.stdout


def test_app_writes_and_reads_postgres(platform: Platform, stack: Stack) -> None:
    assert get_text(platform, stack.shop, "/db/add/first") == "added"
    assert "first\n" in get_text(platform, stack.shop, "/db/notes")


def test_app_writes_and_reads_redis(platform: Platform, stack: Stack) -> None:
    assert get_text(platform, stack.shop, "/redis/set/cached") == "set"
    assert get_text(platform, stack.shop, "/redis/get") == "cached"


def test_addon_is_not_published_on_the_host(platform: Platform, stack: Stack) -> None:
    found = container(platform, stack.postgres)
    assert found.attrs["HostConfig"]["PortBindings"] in ({}, None)
    assert found.attrs["HostConfig"]["Links"] is None


def test_credentials_stay_out_of_logs(platform: Platform, stack: Stack) -> None:
    password = config_of(platform, stack.shop)["DATABASE_URL"].split(":")[2]
    password = password.split("@")[0]
    (stack.repo / "CHANGES").write_text("a push after the add-ons\n")
    commit_all(stack.repo, platform.env, "change")
    pushed = platform.git("push", "paas", "main", cwd=stack.repo)
    assert pushed.code == 0, pushed.remote
    logs = platform.paas("logs", "-a", stack.shop, "-n", "1500").stdout
    serve_log = (platform.home / "serve.log").read_text()
    assert password not in logs + serve_log + stack.created.output + pushed.output


def test_data_survives_a_stopped_addon(platform: Platform, stack: Stack) -> None:
    get_text(platform, stack.shop, "/db/add/before-stop")
    container(platform, stack.postgres).stop()
    wait_for(lambda: answers(platform, stack.shop, "/db/notes", "before-stop"), 60)


def test_data_survives_a_removed_addon(platform: Platform, stack: Stack) -> None:
    get_text(platform, stack.shop, "/redis/set/before-removal")
    container(platform, stack.redis).remove(force=True)
    wait_for(lambda: answers(platform, stack.shop, "/redis/get", "before-removal"), 60)


def test_data_survives_a_platform_restart(platform: Platform, stack: Stack) -> None:
    get_text(platform, stack.shop, "/db/add/before-restart")
    restart_platform(platform)
    wait_for(lambda: answers(platform, stack.shop, "/db/notes", "before-restart"), 60)


def test_attach_shares_the_data(platform: Platform, stack: Stack) -> None:
    get_text(platform, stack.shop, "/db/add/shared")
    attached = platform.paas("addons:attach", stack.postgres, "-a", stack.admin)
    assert attached.code == 0, attached.output
    wait_for(lambda: answers(platform, stack.admin, "/db/notes", "shared"), 60)


def test_unattached_app_cannot_reach_the_addon(
    platform: Platform, stack: Stack
) -> None:
    networks = container(platform, stack.postgres).attrs["NetworkSettings"]["Networks"]
    ip = next(iter(networks.values()))["IPAddress"]
    by_name = get_text(platform, stack.outsider, f"/probe/{stack.postgres}/5432")
    by_address = get_text(platform, stack.outsider, f"/probe/{ip}/5432")
    assert (by_name, by_address) == ("unresolved", "closed")


def test_elasticsearch_out_of_reach_fails_cleanly(
    platform: Platform, stack: Stack
) -> None:
    before = addons_of(platform, stack.shop)
    releases = platform.paas("releases", "-a", stack.shop, "--json").stdout
    failed = create(platform, stack.shop, "elasticsearch")
    assert failed.code == 1
    assert f"Image {ES_IMAGE!r} is not in reach" in failed.stderr
    assert "docker push 127.0.0.1:5000/elasticsearch/elasticsearch:8.17.0" in (
        failed.stderr
    )
    assert addons_of(platform, stack.shop) == before
    assert platform.paas("releases", "-a", stack.shop, "--json").stdout == releases
    assert "ELASTICSEARCH_URL" not in config_of(platform, stack.shop)
    assert leftovers(platform, "elasticsearch") == ([], [])


def test_service_that_exits_fails_with_its_log_lines(
    platform: Platform, stack: Stack
) -> None:
    # The postgres image refuses to start without POSTGRES_PASSWORD, which an
    # ad-hoc image add-on does not set.
    image = "127.0.0.1:5000/library/postgres:17"
    args = ("--image", image, "--port", "5432", "--as", "broken", "--name", "broken-db")
    failed = create(platform, stack.shop, *args)
    assert failed.code == 1
    assert "Add-on 'broken-db' (" in failed.stderr
    assert "exited before it was healthy" in failed.stderr
    assert "POSTGRES_PASSWORD is not set" in failed.stderr
    assert (container(platform, "broken-db"), volumes(platform, "broken-db")) == (
        None,
        [],
    )
    assert "BROKEN_URL" not in config_of(platform, stack.shop)


def leftovers(platform: Platform, service: str) -> tuple[list[str], list[str]]:
    """Return containers and volumes of a service's add-ons on the platform."""
    client = docker.from_env()
    labels = [f"paas.platform={platform.platform_id}", f"paas.addon.service={service}"]
    found = client.containers.list(all=True, filters={"label": labels})
    kept = client.volumes.list(filters={"label": labels})
    return [c.name for c in found], [v.name for v in kept]


def test_destroy_removes_container_volume_and_vars(
    platform: Platform, stack: Stack
) -> None:
    refused = platform.paas("addons:destroy", stack.postgres)
    assert refused.code == 1 and "--confirm" in refused.stderr
    done = platform.paas("addons:destroy", stack.postgres, "--confirm", stack.shop)
    assert done.code == 0, done.output
    assert (container(platform, stack.postgres), volumes(platform, stack.postgres)) == (
        None,
        [],
    )
    assert "DATABASE_URL" not in config_of(platform, stack.shop)
    assert "DATABASE_URL" not in config_of(platform, stack.admin)


def test_apps_destroy_takes_the_addons(platform: Platform, stack: Stack) -> None:
    created = create(platform, stack.outsider, "memcached")
    assert created.code == 0, created.output
    name = resource(created)
    destroyed = platform.paas(
        "apps:destroy", stack.outsider, "--confirm", stack.outsider
    )
    assert destroyed.code == 0, destroyed.output
    assert (container(platform, name), volumes(platform, name)) == (None, [])
