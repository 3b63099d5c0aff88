"""Releases that do not come from a push: config changes and rollbacks."""

from __future__ import annotations

import re

from paas.errors import Conflict, InvalidInput
from paas.platform import Platform
from paas.rollout import roll_out
from paas.store import RELEASE_SUCCEEDED, Release

CONFIG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONFIG_LIMIT = 32 * 1024
RESERVED_KEYS = {"PORT", "DYNO"}


def validate_config_changes(changes: dict[str, str | None]) -> None:
    """Check config var keys and values.

    Raises:
        InvalidInput: a key breaks the rule or a value is not a string.
    """
    if not changes:
        raise InvalidInput("No config vars given. Use KEY=value.")
    for key, value in changes.items():
        if not CONFIG_KEY.fullmatch(key):
            raise InvalidInput(
                f"Config var key {key!r} is invalid: use letters, digits and "
                "underscores, not starting with a digit."
            )
        if key in RESERVED_KEYS:
            raise InvalidInput(f"Config var {key!r} is set by the platform.")
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"Config var {key!r} must be a string or null.")


def config_size(config_vars: dict[str, str]) -> int:
    """Return the size in bytes of keys and values together."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in config_vars.items())


def change_config_vars(
    platform: Platform, app: str, changes: dict[str, str | None]
) -> Release | None:
    """Set and unset config vars, then release and restart the app.

    Returns:
        The new release, or None when nothing changed (every key unset was
        not set, every value set was already so): no release is made then.

    Raises:
        InvalidInput: a bad key, or the total passes 32 KB.
    """
    validate_config_changes(changes)
    with platform.changing(app, "the config change"):
        current = platform.store.get_app(app).config_vars
        updated = {k: v for k, v in current.items() if changes.get(k, v) is not None}
        updated |= {k: v for k, v in changes.items() if v is not None}
        if updated == current:
            return None
        size = config_size(updated)
        if size > CONFIG_LIMIT:
            raise InvalidInput(
                f"Config vars would take {size} bytes, over the limit of "
                f"{CONFIG_LIMIT} bytes. Unset some or store large values elsewhere."
            )
        platform.store.set_config_vars(app, updated)
        return _release_config(platform, app, current, updated)


def _release_config(
    platform: Platform,
    app: str,
    before: dict[str, str],
    config_vars: dict[str, str],
) -> Release:
    # The description names only the keys that changed.
    set_keys = [k for k, v in config_vars.items() if before.get(k) != v]
    unset_keys = [k for k in before if k not in config_vars]
    parts = []
    if set_keys:
        parts.append(f"Set {', '.join(set_keys)} config vars")
    if unset_keys:
        parts.append(f"Remove {', '.join(unset_keys)} config vars")
    return release_and_roll_out(
        platform, app, "; ".join(parts), config_vars=config_vars
    )


def release_and_roll_out(
    platform: Platform,
    app: str,
    description: str,
    *,
    config_vars: dict[str, str],
    source: Release | None = None,
    release_phase: bool = True,
) -> Release:
    """Make a release from the current (or a given) one and roll it out."""
    base = source or platform.store.current_release(app)
    release = platform.store.create_release(
        app,
        description=description,
        image=base.image if base else None,
        commit=base.commit if base else None,
        build_id=base.build_id if base else None,
        config_vars=config_vars,
        process_types=base.process_types if base else {},
        created_by="paas",
        status=RELEASE_SUCCEEDED if base is None else "pending",
        healthcheck=base.healthcheck if base else None,
        start_first=base.start_first if base else [],
    )
    if base is not None and base.image is not None:
        roll_out(platform, release, release_phase=release_phase)
    else:
        platform.store.set_release_status(app, release.version, RELEASE_SUCCEEDED)
    platform.event(app, f"Release v{release.version} created: {description}")
    # The roll-out recorded the outcome in the store, not on this object.
    return platform.store.get_release(app, release.version)


def rollback(platform: Platform, app: str, version: int | None) -> Release:
    """Release an earlier release's image and config again.

    Raises:
        Conflict: there is no earlier release to go back to.
        ReleaseNotFound: the named version does not exist.
    """
    with platform.changing(app, "the rollback"):
        target = _rollback_target(platform, app, version)
        platform.store.set_config_vars(app, target.config_vars)
        return release_and_roll_out(
            platform,
            app,
            f"Rollback to v{target.version}",
            config_vars=target.config_vars,
            source=target,
        )


def _rollback_target(platform: Platform, app: str, version: int | None) -> Release:
    if version is not None:
        target = platform.store.get_release(app, version)
        if target.image is None:
            raise Conflict(f"Release v{version} has no image to roll back to.")
        return target
    current = platform.store.current_release(app)
    for release in platform.store.list_releases(app):
        eligible = release.status == RELEASE_SUCCEEDED and release.image
        if current and release.version < current.version and eligible:
            return release
    raise Conflict(f"No eligible release found for {app!r} to roll back to.")
