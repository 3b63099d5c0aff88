"""Config changes and rollbacks make new releases and roll them out."""

from __future__ import annotations

import re

import pytest

from paas.errors import Conflict, DeployFailed, InvalidInput, ReleaseNotFound
from paas.platform import Platform
from paas.releases import (
    change_config_vars,
    config_size,
    rollback,
    validate_config_changes,
)
from paas.scheduler.fake import FakeBackend
from tests.conftest import Deploy


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"FOO": "1"}, "Set FOO config vars"),
        ({"FOO": "1", "BAR": "2"}, "Set FOO, BAR config vars"),
        ({"OLD": None}, "Remove OLD config vars"),
        ({"FOO": "1", "OLD": None}, "Set FOO config vars; Remove OLD config vars"),
        ({"FOO": "1", "NOPE": None}, "Set FOO config vars"),
    ],
    ids=["set-one", "set-two", "remove", "set-and-remove", "unset-of-unset-unnamed"],
)
def test_config_change_release_describes_it(
    platform: Platform, deploy: Deploy, changes: dict[str, str | None], description: str
) -> None:
    deploy("shop", config_vars={"OLD": "x"})
    release = change_config_vars(platform, "shop", changes)
    assert (release.version, release.description) == (2, description)


@pytest.mark.parametrize(
    "changes",
    [{"NOPE": None}, {"OLD": "x"}, {"OLD": "x", "NOPE": None}],
    ids=["unset-of-unset", "same-value", "both"],
)
def test_config_change_that_changes_nothing_makes_no_release(
    platform: Platform,
    deploy: Deploy,
    backend: FakeBackend,
    changes: dict[str, str | None],
) -> None:
    deploy("shop", config_vars={"OLD": "x"})
    assert change_config_vars(platform, "shop", changes) is None
    assert [r.version for r in platform.store.list_releases("shop")] == [1]
    assert backend.stopped == []


def test_config_change_keeps_other_vars(platform: Platform, deploy: Deploy) -> None:
    deploy("shop", config_vars={"KEEP": "1", "OLD": "2"})
    release = change_config_vars(platform, "shop", {"NEW": "3", "OLD": None})
    assert release.config_vars == {"KEEP": "1", "NEW": "3"}
    assert platform.store.get_app("shop").config_vars == release.config_vars


def test_config_change_before_a_push_is_released_at_once(platform: Platform) -> None:
    platform.create_app("shop")
    release = change_config_vars(platform, "shop", {"FOO": "1"})
    assert (release.version, release.status, release.image) == (1, "succeeded", None)


def test_config_change_restarts_dynos_on_the_new_release(
    platform: Platform, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    platform.store.set_formation("shop", [])
    change_config_vars(platform, "shop", {"FOO": "1"})
    running = {(d.name, d.release) for d in backend.list_dynos("shop") if d.running}
    assert running == {("web.1", 2)}
    assert backend.stopped == ["web.1"]


def test_config_values_reach_the_dyno_byte_exact(
    platform: Platform, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    values = {
        "SPACES": "  a  b  ",
        "QUOTES": 'it\'s "quoted"',
        "EQUALS": "a=b==c",
        "DOLLAR": "$HOME ${PATH} `id`",
        "NEWLINES": "line1\nline2\r\n",
        "UNICODE": "żółć ✓ 日本",
    }
    change_config_vars(platform, "shop", values)
    web = backend.dyno_named("shop", "web.1")
    assert backend.specs[web.id].env == values | {"PORT": "5000", "DYNO": "web.1"}


def test_config_change_is_logged_for_the_app(platform: Platform) -> None:
    platform.create_app("shop")
    change_config_vars(platform, "shop", {"FOO": "secret-value"})
    assert platform.logs.tail("shop", 1)[0].message == (
        "Release v1 created: Set FOO config vars"
    )


def test_config_over_the_limit_is_refused_unchanged(platform: Platform) -> None:
    platform.create_app("shop")
    change_config_vars(platform, "shop", {"A": "x" * 30000})
    with pytest.raises(InvalidInput, match=r"over the limit of 32768 bytes"):
        change_config_vars(platform, "shop", {"B": "y" * 3000})
    assert list(platform.store.get_app("shop").config_vars) == ["A"]


@pytest.mark.parametrize(
    "key",
    ["FOO", "_FOO", "foo_2", "A"],
    ids=["upper", "leading-underscore", "lower-digit", "one-letter"],
)
def test_good_config_keys_are_accepted(key: str) -> None:
    validate_config_changes({key: "x"})


@pytest.mark.parametrize(
    "key",
    ["1FOO", "MY-KEY", "MY KEY", "FOO=", "", "FOO\n", "ÜBER"],
    ids=["digit-first", "dash", "space", "equals", "empty", "newline", "unicode"],
)
def test_bad_config_keys_are_refused(key: str) -> None:
    message = (
        f"Config var key {key!r} is invalid: use letters, digits and "
        "underscores, not starting with a digit."
    )
    with pytest.raises(InvalidInput) as caught:
        validate_config_changes({key: "x"})
    assert caught.value.message == message


def test_config_size_counts_bytes_not_characters() -> None:
    assert config_size({"KEY": "żółć"}) == 3 + 8


def test_failed_config_rollout_keeps_the_old_dyno(
    platform: Platform, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    old = backend.dyno_named("shop", "web.1")
    backend.bind_web = False
    platform.settings.boot_timeout = 0.3
    with pytest.raises(DeployFailed) as failed:
        change_config_vars(platform, "shop", {"FOO": "1"})
    assert re.fullmatch(
        r"Error R10 \(Boot timeout\) -> web\.1 failed to bind to \$PORT within "
        r"0\.3 seconds of launch\. Its server must listen on 0\.0\.0\.0 at the "
        r"port in \$PORT \(\d+ here\), not on 127\.0\.0\.1 or a fixed port\.",
        failed.value.message,
    )
    assert [d.id for d in backend.list_dynos("shop")] == [old.id]
    assert platform.store.get_release("shop", 2).status == "failed"


def test_rollback_goes_to_the_previous_succeeded_release(
    platform: Platform, deploy: Deploy
) -> None:
    deploy("shop")
    deploy("shop")
    platform.store.set_release_status("shop", 2, "failed")
    change_config_vars(platform, "shop", {"FOO": "1"})
    release = rollback(platform, "shop", None)
    assert (release.version, release.description) == (4, "Rollback to v1")


def test_rollback_restores_the_release_config(
    platform: Platform, deploy: Deploy
) -> None:
    deploy("shop", config_vars={"FOO": "old", "KEEP": "1"})
    change_config_vars(platform, "shop", {"FOO": "new", "EXTRA": "2"})
    release = rollback(platform, "shop", None)
    assert release.config_vars == {"FOO": "old", "KEEP": "1"}
    assert platform.store.get_app("shop").config_vars == {"FOO": "old", "KEEP": "1"}


def test_rollback_runs_the_earlier_image(
    platform: Platform, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    deploy("shop")
    rollback(platform, "shop", 1)
    web = backend.dyno_named("shop", "web.1")
    assert (web.release, backend.specs[web.id].image) == (3, "paas/shop:build1")


def test_rollback_without_an_earlier_release_is_refused(
    platform: Platform, deploy: Deploy
) -> None:
    deploy("shop")
    message = r"^No eligible release found for 'shop' to roll back to\.$"
    with pytest.raises(Conflict, match=message):
        rollback(platform, "shop", None)


def test_rollback_to_a_missing_version_is_not_found(
    platform: Platform, deploy: Deploy
) -> None:
    deploy("shop")
    with pytest.raises(ReleaseNotFound, match=r"^No release v9 of 'shop'\."):
        rollback(platform, "shop", 9)


def test_rollback_to_a_release_without_image_is_refused(platform: Platform) -> None:
    platform.create_app("shop")
    change_config_vars(platform, "shop", {"FOO": "1"})
    message = r"^Release v1 has no image to roll back to\.$"
    with pytest.raises(Conflict, match=message):
        rollback(platform, "shop", 1)
