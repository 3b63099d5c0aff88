"""Add-on verbs on a fake engine: create, attach, detach, destroy, app end."""

from __future__ import annotations

from pathlib import Path

import pytest

from paas.addons.fake import FakeAddonEngine
from paas.addons.keeper import AddonKeeper
from paas.addons.manager import (
    CreateRequest,
    attach_addon,
    create_addon,
    destroy_addon,
    detach_addon,
    remove_app_addons,
)
from paas.addons.records import (
    CREATING,
    DESTROYING,
    AddonNotFound,
    get_addon,
    list_addons,
    set_state,
)
from paas.errors import BackendUnavailable, Conflict, DeployFailed, InvalidInput
from paas.platform import Platform
from tests.conftest import Deploy

ES_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:8.17.0"


@pytest.fixture
def engine(tmp_path: Path) -> FakeAddonEngine:
    """A fake engine on a host whose vm.max_map_count is high enough."""
    (tmp_path / "vm").mkdir()
    (tmp_path / "vm" / "max_map_count").write_text("262144\n")
    return FakeAddonEngine(proc=tmp_path)


def create(
    platform: Platform, engine: FakeAddonEngine, app: str = "shop", **kwargs: str
) -> str:
    """Create an add-on and return its resource name."""
    request = CreateRequest(**kwargs)  # type: ignore[arg-type]
    addon, _ = create_addon(platform, engine, app, request, lambda line: None)
    return addon.name


def test_create_sets_url_and_releases(
    platform: Platform, engine: FakeAddonEngine, deploy: Deploy
) -> None:
    deploy("shop")
    name = create(platform, engine, service="postgres")
    config = platform.store.get_app("shop").config_vars
    assert config["DATABASE_URL"].startswith("postgres://app:")
    assert config["DATABASE_URL"].endswith(f"@{name}:5432/app")
    release = platform.store.current_release("shop")
    assert release is not None
    assert release.description == f"Attach DATABASE (@ref:{name})"


def test_create_runs_on_the_app_network(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    name = create(platform, engine, service="redis")
    assert engine.containers[name].networks == {"fake-shop": name}
    assert engine.volumes == {name}


def test_create_stores_the_pulled_image(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    name = create(platform, engine, service="redis")
    assert get_addon(platform.store, name).spec.image == "mirror/library/redis:8"


def test_create_with_plan_name_and_as(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    create(
        platform, engine, service="postgres", plan="17-large", name="main-db",
        attach_as="primary",
    )  # fmt: skip
    addon = get_addon(platform.store, "main-db")
    assert (addon.plan, addon.spec.memory_mb) == ("17-large", 1024)
    assert "PRIMARY_URL" in platform.store.get_app("shop").config_vars


def test_unhealthy_service_leaves_nothing(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    engine.unhealthy.add("postgres")
    with pytest.raises(DeployFailed, match="was not healthy"):
        create(platform, engine, service="postgres")
    assert_nothing_left(platform, engine)


def test_missing_image_fails_naming_it_and_mirroring(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    engine.missing_images.add(ES_IMAGE)
    with pytest.raises(BackendUnavailable) as raised:
        create(platform, engine, service="elasticsearch")
    message = raised.value.message
    assert message.startswith(f"Could not pull {ES_IMAGE!r}: No configured registry")
    assert f"docker save {ES_IMAGE} -o image.tar" in raised.value.message
    assert_nothing_left(platform, engine)


def test_low_max_map_count_refuses_elasticsearch(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    (engine.proc / "vm" / "max_map_count").write_text("65530\n")
    with pytest.raises(InvalidInput, match="vm.max_map_count is 65530, below"):
        create(platform, engine, service="elasticsearch")
    assert_nothing_left(platform, engine)


def test_failed_rollout_restores_config(
    platform: Platform, engine: FakeAddonEngine, deploy: Deploy
) -> None:
    deploy("shop", config_vars={"KEEP": "1"})
    # The release's new web dyno never binds $PORT: the roll-out fails.
    platform.backend.bind_web = False  # type: ignore[attr-defined]
    with pytest.raises(DeployFailed):
        create(platform, engine, service="redis")
    assert platform.store.get_app("shop").config_vars == {"KEEP": "1"}
    assert_nothing_left(platform, engine)


def assert_nothing_left(platform: Platform, engine: FakeAddonEngine) -> None:
    """Check no container, volume, record or config var of an add-on stays."""
    assert (engine.containers, engine.volumes) == ({}, set())
    assert list_addons(platform.store) == []
    config = platform.store.get_app("shop").config_vars
    assert [key for key in config if key.endswith("_URL")] == []


def test_taken_attachment_name_is_refused(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    create(platform, engine, service="redis")
    with pytest.raises(Conflict, match="already has an add-on attached as 'REDIS'"):
        create(platform, engine, service="redis")
    assert len(engine.containers) == 1


def test_config_var_set_by_hand_is_not_overwritten(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    platform.store.set_config_vars("shop", {"REDIS_URL": "redis://elsewhere"})
    with pytest.raises(Conflict, match="already has config var 'REDIS_URL'"):
        create(platform, engine, service="redis")


def test_image_needs_port_and_as(platform: Platform, engine: FakeAddonEngine) -> None:
    platform.create_app("shop")
    with pytest.raises(InvalidInput, match="also needs --port N and --as NAME"):
        create(platform, engine, image="nginx:1.27")


def test_attach_gives_other_app_same_url(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    platform.create_app("admin")
    name = create(platform, engine, service="postgres")
    attach_addon(platform, engine, name, "admin", None)
    shop, admin = (platform.store.get_app(a).config_vars for a in ("shop", "admin"))
    assert admin["DATABASE_URL"] == shop["DATABASE_URL"]
    assert engine.containers[name].networks == {"fake-shop": name, "fake-admin": name}


def test_detach_removes_var_and_network(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    platform.create_app("admin")
    name = create(platform, engine, service="postgres")
    attach_addon(platform, engine, name, "admin", "SHOP_DB")
    release = detach_addon(platform, engine, "admin", "SHOP_DB")
    assert platform.store.get_app("admin").config_vars == {}
    assert engine.containers[name].networks == {"fake-shop": name}
    assert release.description == f"Detach SHOP_DB (@ref:{name})"


def test_destroy_needs_the_owning_app(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    name = create(platform, engine, service="redis")
    with pytest.raises(InvalidInput, match="--confirm shop'"):
        destroy_addon(platform, engine, name, "other")
    assert name in engine.containers


def test_destroy_detaches_everywhere(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    platform.create_app("admin")
    name = create(platform, engine, service="postgres")
    attach_addon(platform, engine, name, "admin", None)
    destroy_addon(platform, engine, name, "shop")
    assert (engine.containers, engine.volumes) == ({}, set())
    assert platform.store.get_app("admin").config_vars == {}
    with pytest.raises(AddonNotFound):
        get_addon(platform.store, name)


def test_app_destroy_takes_its_addons(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    platform.create_app("admin")
    owned = create(platform, engine, service="redis")
    attach_addon(platform, engine, owned, "admin", None)
    removed = remove_app_addons(platform, engine, "shop")
    assert removed == [owned]
    assert platform.store.get_app("admin").config_vars == {}


def test_app_destroy_leaves_others_addons(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    platform.create_app("admin")
    theirs = create(platform, engine, app="admin", service="redis")
    attach_addon(platform, engine, theirs, "shop", None)
    remove_app_addons(platform, engine, "shop")
    assert engine.containers[theirs].networks == {"fake-admin": theirs}
    assert [a.app for a in get_addon(platform.store, theirs).attachments] == ["admin"]


def test_keeper_restarts_stopped_addon(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    name = create(platform, engine, service="redis")
    engine.containers[name].status = "exited"
    AddonKeeper(platform, engine)()
    assert engine.state(name) == "running"


def test_keeper_recreates_gone_addon_on_its_volume(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    name = create(platform, engine, service="redis")
    engine.remove(name, keep_volume=True)
    AddonKeeper(platform, engine)()
    assert engine.containers[name].networks == {"fake-shop": name}
    assert engine.volumes == {name}


def test_keeper_undoes_creation_cut_short(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    name = create(platform, engine, service="redis")
    set_state(platform.store, name, CREATING)
    AddonKeeper(platform, engine)()
    assert_nothing_left(platform, engine)


def test_keeper_finishes_removal_cut_short(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    name = create(platform, engine, service="redis")
    set_state(platform.store, name, DESTROYING)
    AddonKeeper(platform, engine)()
    assert_nothing_left(platform, engine)


def test_keeper_leaves_creation_in_progress(
    platform: Platform, engine: FakeAddonEngine
) -> None:
    platform.create_app("shop")
    keeper = AddonKeeper(platform, engine)
    name = create(platform, engine, service="redis")
    set_state(platform.store, name, CREATING)
    keeper()
    assert engine.state(name) == "running"


def test_addon_release_skips_the_release_phase(
    platform: Platform, engine: FakeAddonEngine, deploy: Deploy
) -> None:
    processes = {"web": "python app.py", "release": "python migrate.py"}
    codes = platform.backend.exit_codes  # type: ignore[attr-defined]
    codes["release"] = 0
    deploy("shop", processes)
    codes["release"] = 1  # a release phase now would fail the release
    create(platform, engine, service="redis")
    release = platform.store.current_release("shop")
    assert release is not None and release.description.startswith("Attach REDIS")
