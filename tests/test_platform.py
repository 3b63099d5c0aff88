"""The platform checks app names, creates and destroys apps, publishes routes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from paas.errors import AppNotFound, BackendUnavailable, InvalidInput
from paas.logs import LogStore
from paas.platform import (
    Platform,
    error_page_url,
    load_platform_id,
    validate_app_name,
)
from paas.router.table import AppRoute, Backend, read_route_table
from paas.scheduler.fake import FakeBackend
from paas.settings import Settings
from paas.store import Store
from tests.conftest import Deploy


@pytest.mark.parametrize(
    "name",
    ["shop", "abc", "my-app-2", "a1b", "a" * 30, "x--y"],
    ids=["word", "shortest", "dashes-digits", "digit-inside", "longest", "two-dashes"],
)
def test_good_app_names_are_accepted(name: str) -> None:
    validate_app_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 31,
        "My_App",
        "Shop",
        "1shop",
        "-shop",
        "shop-",
        "my app",
        "shop.io",
        "",
        "shop\n",
    ],
    ids=[
        "too-short",
        "too-long",
        "underscore-upper",
        "upper",
        "starts-with-digit",
        "starts-with-dash",
        "ends-with-dash",
        "space",
        "dot",
        "empty",
        "trailing-newline",
    ],
)
def test_bad_app_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidInput, match=r"^App name .* is invalid: use 3 to 30"):
        validate_app_name(name)


def test_bad_app_name_message_names_the_rule() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_app_name("My_App")
    assert caught.value.message == (
        "App name 'My_App' is invalid: use 3 to 30 lowercase letters, digits "
        "and dashes, starting with a letter and ending with a letter or digit."
    )


def test_created_app_gets_its_default_domain(platform: Platform) -> None:
    platform.create_app("shop")
    assert platform.store.list_domains("shop") == [("shop.localhost", "shop")]


def test_app_creation_is_logged(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="paas.platform")
    platform.create_app("shop")
    assert caplog.messages == ["shop: App created"]


def test_event_lands_in_the_app_log(platform: Platform) -> None:
    platform.create_app("shop")
    platform.event("shop", "Scaled to web=2", "api")
    last = platform.logs.tail("shop", 1)[0]
    assert (last.source, last.process, last.message) == (
        "paas",
        "api",
        "Scaled to web=2",
    )


def test_destroyed_app_leaves_no_dynos(
    platform: Platform, backend: FakeBackend, deploy: Deploy
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    platform.destroy_app("shop")
    assert backend.list_dynos("shop") == []


def test_destroyed_app_leaves_no_state(platform: Platform, deploy: Deploy) -> None:
    deploy("shop")
    platform.destroy_app("shop")
    with pytest.raises(AppNotFound):
        platform.store.get_app("shop")
    assert platform.logs.tail("shop") == []


def test_destroying_an_unknown_app_is_not_found(platform: Platform) -> None:
    with pytest.raises(AppNotFound, match=r"^No app named 'shop'\."):
        platform.destroy_app("shop")


def test_route_table_sends_hosts_to_up_web_dynos(
    platform: Platform, backend: FakeBackend, deploy: Deploy
) -> None:
    deploy("shop")
    web = backend.dyno_named("shop", "web.1")
    table = read_route_table(platform.settings.routes_path)
    assert table.hosts == {"shop.localhost": "shop"}
    assert table.apps["shop"] == AppRoute(
        "up", [Backend("web.1", "127.0.0.1", web.port)]
    )


def test_app_without_release_routes_as_not_deployed(platform: Platform) -> None:
    platform.create_app("shop")
    assert platform.build_route_table().apps["shop"] == AppRoute("not_deployed")


def test_app_without_web_process_routes_as_no_web(
    platform: Platform, deploy: Deploy
) -> None:
    deploy("shop", {"worker": "python work.py"})
    assert platform.build_route_table().apps["shop"] == AppRoute("no_web")


def test_app_with_crashed_web_dyno_routes_as_crashed(
    platform: Platform, backend: FakeBackend, deploy: Deploy
) -> None:
    deploy("shop")
    web = backend.dyno_named("shop", "web.1")
    platform.routable.discard(web.id)
    backend.crash(web.id, 1)
    assert platform.build_route_table().apps["shop"] == AppRoute("crashed")


def test_booting_web_dyno_routes_as_starting(
    platform: Platform, backend: FakeBackend, deploy: Deploy
) -> None:
    deploy("shop")
    platform.routable.clear()
    assert platform.build_route_table().apps["shop"] == AppRoute("starting")


def test_error_page_url_config_var_reaches_the_route(
    platform: Platform, deploy: Deploy
) -> None:
    deploy("shop", {"worker": "w"})
    platform.store.set_config_vars("shop", {"ERROR_PAGE_URL": "http://e.test/"})
    route = platform.build_route_table().apps["shop"]
    assert route == AppRoute("no_web", error_page_url="http://e.test/")


def test_route_table_file_is_json_for_routers(
    platform: Platform, deploy: Deploy
) -> None:
    deploy("shop", {"worker": "w"})
    data = json.loads(platform.settings.routes_path.read_text())
    assert data["apps"]["shop"]["state"] == "no_web"


def test_platform_id_is_kept_across_starts(settings: Settings) -> None:
    first = load_platform_id(settings)
    assert load_platform_id(settings) == first
    assert len(first) == 8


@pytest.mark.parametrize(
    ("value", "used"),
    [
        ("https://e.test/oops.html", "https://e.test/oops.html"),
        ("HTTP://e.test/", "HTTP://e.test/"),
        ("javascript:alert(1)", None),
        ("data:text/html,hi", None),
        ("/relative/page.html", None),
        ("https://", None),
    ],
)
def test_error_page_url_must_be_http(value: str, used: str | None) -> None:
    assert error_page_url({"ERROR_PAGE_URL": value}) == used


class FailingRemoval(FakeBackend):
    """A backend whose first removal of an app fails half-way."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def remove_app(self, app: str) -> int:
        found = super().remove_app(app)
        if self.failures:
            self.failures -= 1
            raise BackendUnavailable("Could not stop dyno web.1: 409 Conflict.")
        return found


@pytest.fixture
def failing(settings: Settings, store: Store) -> Iterator[Platform]:
    backend = FailingRemoval()
    yield Platform(settings, store, backend, LogStore(settings.home / "logs"), "t")
    backend.close()


def test_failed_destroy_keeps_the_app_to_retry(failing: Platform) -> None:
    failing.create_app("shop")
    message = (
        r"^Could not remove all of app 'shop': Could not stop dyno web\.1: 409 "
        r"Conflict\. The app is kept: run 'paas apps:destroy shop --confirm "
        r"shop' again\.$"
    )
    with pytest.raises(BackendUnavailable, match=message):
        failing.destroy_app("shop")
    assert failing.store.get_app("shop").name == "shop"


def test_retried_destroy_removes_the_app(failing: Platform) -> None:
    failing.create_app("shop")
    (failing.settings.repos_dir / "shop.git").mkdir(parents=True)
    with pytest.raises(BackendUnavailable):
        failing.destroy_app("shop")
    failing.destroy_app("shop")
    assert [a.name for a in failing.store.list_apps()] == []
    assert not (failing.settings.repos_dir / "shop.git").exists()
    assert not (failing.settings.home / "logs" / "shop.log").exists()


def test_destroy_removes_repo_and_log_even_when_dynos_fail(
    failing: Platform,
) -> None:
    failing.create_app("shop")
    (failing.settings.repos_dir / "shop.git").mkdir(parents=True)
    with pytest.raises(BackendUnavailable):
        failing.destroy_app("shop")
    assert not (failing.settings.repos_dir / "shop.git").exists()
    assert not (failing.settings.home / "logs" / "shop.log").exists()


def test_app_being_destroyed_leaves_the_route_table(
    platform: Platform, deploy: Deploy
) -> None:
    deploy("shop")
    platform.destroying.add("shop")
    assert "shop" not in platform.build_route_table().apps


def test_leftovers_of_a_half_destroyed_app_are_removed(
    platform: Platform, backend: FakeBackend, deploy: Deploy
) -> None:
    # An earlier destroy deleted the record first, then failed.
    deploy("shop")
    (platform.settings.repos_dir / "shop.git").mkdir(parents=True)
    platform.store.delete_app("shop")
    platform.remove_leftovers("shop")
    assert backend.list_dynos("shop") == []
    assert not (platform.settings.repos_dir / "shop.git").exists()
    assert not (platform.logs.directory / "shop.log").exists()


def test_no_leftovers_is_not_found(platform: Platform) -> None:
    with pytest.raises(AppNotFound, match=r"^No app named 'shop'\."):
        platform.remove_leftovers("shop")
