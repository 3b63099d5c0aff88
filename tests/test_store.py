"""The state store keeps apps, releases, builds, formation and domains."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from paas.errors import AppNotFound, Conflict, ReleaseNotFound
from paas.store import Build, FormationEntry, Release, Store


@pytest.fixture
def shop(store: Store) -> Store:
    """A store holding one app, ``shop``."""
    store.create_app("shop")
    return store


def add_release(store: Store, status: str = "succeeded", **config: str) -> Release:
    return store.create_release(
        "shop",
        description="Deploy abc1234",
        image="paas/shop:b1",
        commit="abc1234",
        build_id="b1",
        config_vars=config,
        process_types={"web": "python app.py"},
        status=status,
    )


def new_build(build_id: str, status: str = "building") -> Build:
    return Build(build_id, "shop", status, "abc1234", None, None, time.time(), None)


def test_created_app_is_listed_by_name(store: Store) -> None:
    store.create_app("zoo")
    store.create_app("abc")
    assert [app.name for app in store.list_apps()] == ["abc", "zoo"]


def test_creating_a_taken_name_is_a_conflict(shop: Store) -> None:
    with pytest.raises(Conflict, match=r"^Name 'shop' is already taken\.$"):
        shop.create_app("shop")


def test_unknown_app_is_not_found(store: Store) -> None:
    message = r"^No app named 'shop'\. Run 'paas apps' to list apps\.$"
    with pytest.raises(AppNotFound, match=message):
        store.get_app("shop")


def test_config_vars_are_stored_per_app(shop: Store) -> None:
    shop.set_config_vars("shop", {"A": "1", "B": "two words"})
    assert shop.get_app("shop").config_vars == {"A": "1", "B": "two words"}


def test_releases_are_numbered_from_one_per_app(shop: Store) -> None:
    shop.create_app("blog")
    versions = [add_release(shop).version for _ in range(3)]
    other = shop.create_release(
        "blog",
        description="First",
        image=None,
        commit=None,
        build_id=None,
        config_vars={},
        process_types={},
    )
    assert (versions, other.version) == ([1, 2, 3], 1)


def test_releases_are_listed_newest_first(shop: Store) -> None:
    for _ in range(3):
        add_release(shop)
    assert [r.version for r in shop.list_releases("shop")] == [3, 2, 1]


def test_release_list_limit_keeps_the_newest(shop: Store) -> None:
    for _ in range(3):
        add_release(shop)
    assert [r.version for r in shop.list_releases("shop", limit=2)] == [3, 2]


def test_release_round_trips_through_the_store(shop: Store) -> None:
    created = add_release(shop, FOO='a b=c $d\n"é"')
    assert shop.get_release("shop", created.version) == created


def test_current_release_skips_failed_and_pending(shop: Store) -> None:
    add_release(shop)
    add_release(shop, status="failed")
    add_release(shop, status="pending")
    current = shop.current_release("shop")
    assert current is not None and current.version == 1


def test_app_without_succeeded_release_has_no_current(shop: Store) -> None:
    add_release(shop, status="failed")
    assert shop.current_release("shop") is None


def test_release_status_can_be_changed(shop: Store) -> None:
    add_release(shop, status="pending")
    shop.set_release_status("shop", 1, "succeeded")
    assert shop.get_release("shop", 1).status == "succeeded"


def test_missing_release_is_not_found(shop: Store) -> None:
    message = r"^No release v7 of 'shop'\. Run 'paas releases'\.$"
    with pytest.raises(ReleaseNotFound, match=message):
        shop.get_release("shop", 7)


def test_release_json_shows_config_keys_not_values(shop: Store) -> None:
    data = add_release(shop, SECRET="hunter2", API_KEY="k").to_json()
    assert ("config_vars" in data, data["config_keys"]) == (
        False,
        ["API_KEY", "SECRET"],
    )


def test_formation_set_inserts_then_updates(shop: Store) -> None:
    shop.set_formation("shop", [FormationEntry("web", 1, "standard-1x")])
    shop.set_formation(
        "shop",
        [FormationEntry("web", 3, "standard-2x"), FormationEntry("worker", 1, "basic")],
    )
    assert shop.get_formation("shop") == {
        "web": FormationEntry("web", 3, "standard-2x"),
        "worker": FormationEntry("worker", 1, "basic"),
    }


def test_domain_of_another_app_is_a_conflict(shop: Store) -> None:
    shop.create_app("blog")
    shop.add_domain("shop", "www.example.com")
    message = r"^Domain 'www\.example\.com' is already used by 'shop'\.$"
    with pytest.raises(Conflict, match=message):
        shop.add_domain("blog", "www.example.com")


def test_domains_are_listed_per_app(shop: Store) -> None:
    shop.create_app("blog")
    shop.add_domain("shop", "b.example.com")
    shop.add_domain("blog", "blog.example.com")
    shop.add_domain("shop", "a.example.com")
    assert shop.list_domains("shop") == [
        ("a.example.com", "shop"),
        ("b.example.com", "shop"),
    ]


def test_removing_a_domain_of_another_app_does_nothing(shop: Store) -> None:
    shop.create_app("blog")
    shop.add_domain("shop", "www.example.com")
    assert shop.remove_domain("blog", "www.example.com") is False
    assert shop.list_domains() == [("www.example.com", "shop")]


def test_deleting_an_app_deletes_what_it_had(shop: Store) -> None:
    add_release(shop)
    shop.add_domain("shop", "shop.localhost")
    shop.set_formation("shop", [FormationEntry("web", 1, "standard-1x")])
    shop.delete_app("shop")
    shop.create_app("shop")
    assert (
        shop.list_releases("shop"),
        shop.list_domains(),
        shop.get_formation("shop"),
    ) == ([], [], {})


def test_finished_build_keeps_status_image_and_output(shop: Store) -> None:
    build = new_build("b1")
    shop.create_build(build)
    build.status, build.image, build.output = "succeeded", "paas/shop:b1", "ok\n"
    build.finished_at = time.time()
    shop.finish_build(build)
    assert shop.list_builds("shop") == [build]


def test_unfinished_builds_are_failed_at_start(shop: Store) -> None:
    shop.create_build(new_build("b1"))
    shop.create_build(new_build("b2", status="succeeded"))
    assert shop.fail_unfinished_builds() == 1
    statuses = {build.id: build.status for build in shop.list_builds("shop")}
    assert statuses == {"b1": "failed", "b2": "succeeded"}


def test_failed_unfinished_build_says_why(shop: Store) -> None:
    shop.create_build(new_build("b1"))
    shop.fail_unfinished_builds()
    assert shop.list_builds("shop")[0].output == (
        "\nThe platform stopped during this build.\n"
    )


def test_pending_releases_are_failed_at_start(shop: Store) -> None:
    add_release(shop, status="pending")
    shop.fail_unfinished_builds()
    assert shop.get_release("shop", 1).status == "failed"


def test_state_survives_a_new_store_on_the_same_file(tmp_path: Path) -> None:
    Store(tmp_path / "state.db").create_app("shop")
    assert [app.name for app in Store(tmp_path / "state.db").list_apps()] == ["shop"]
