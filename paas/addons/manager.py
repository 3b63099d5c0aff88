"""Add-on verbs: create, attach, detach, destroy, and the app's end.

Creating pulls the image, starts the container on the app's network,
waits for its health check, then (under the app's lock) attaches it, sets
the config vars and rolls out a release. Any failure undoes every step
taken: container, volume, attachment, config vars, name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from paas.addons.catalog import Plan, Service, custom_service, find_service
from paas.addons.engine import AddonEngine, translate_pull_error
from paas.addons.naming import (
    attachment_name,
    generate_resource_name,
    validate_resource_name,
)
from paas.addons.records import (
    CREATED,
    CREATING,
    DESTROYING,
    Addon,
    AddonNotFound,
    Attachment,
    add_attachment,
    delete_addon,
    find_attachment,
    get_addon,
    insert_addon,
    list_addons,
    list_attachments,
    remove_attachment,
    save_spec,
    set_state,
)
from paas.addons.spec import AddonSpec, generate_credentials, render_spec
from paas.errors import Conflict, InvalidInput, PaasError
from paas.platform import Platform
from paas.releases import CONFIG_LIMIT, config_size, release_and_roll_out
from paas.store import Release

logger = logging.getLogger(__name__)

Output = Callable[[str], None]


@dataclass
class CreateRequest:
    """What ``addons:create`` asks for."""

    service: str | None = None
    plan: str | None = None
    attach_as: str | None = None
    name: str | None = None
    image: str | None = None
    port: int | None = None


def parse_service_arg(text: str) -> tuple[str, str | None]:
    """Split ``SERVICE[:PLAN]``."""
    service, _, plan = text.partition(":")
    return service, plan or None


def resolve_service(request: CreateRequest) -> tuple[Service, Plan]:
    """Return the catalog entry (or an image's ad-hoc entry) and its plan.

    Raises:
        InvalidInput: neither a service nor an image with a port and name.
        NotFound: an unknown service or plan.
    """
    if request.image:
        if request.service:
            raise InvalidInput("Give a SERVICE or --image, not both.")
        if request.port is None or not request.attach_as:
            raise InvalidInput(
                f"--image {request.image!r} also needs --port N and --as NAME: "
                "the port it listens on and the config var prefix."
            )
        service = custom_service(
            request.image, request.port, attachment_name(request.attach_as)
        )
        return service, service.plan(None)
    if not request.service:
        raise InvalidInput("Name a service (paas addons:catalog) or use --image.")
    service = find_service(request.service)
    return service, service.plan(request.plan)


def prepare_spec(
    platform: Platform, app: str, request: CreateRequest
) -> tuple[AddonSpec, str]:
    """Render the container spec and attachment name of a new resource.

    Raises:
        InvalidInput, NotFound, Conflict: the request cannot be met.
    """
    platform.store.get_app(app)
    service, plan = resolve_service(request)
    attach_as = attachment_name(request.attach_as or service.attach_as)
    if request.name:
        validate_resource_name(request.name)
    resource = request.name or _free_name(platform, service.name)
    credentials = generate_credentials(service.credentials)
    spec = render_spec(service, plan, resource, credentials)
    _check_attachable(platform, app, attach_as, spec)
    return spec, attach_as


def _free_name(platform: Platform, service: str) -> str:
    taken = {addon.name for addon in list_addons(platform.store)}
    while (name := generate_resource_name(service)) in taken:
        continue
    return name


def _check_attachable(
    platform: Platform, app: str, attach_as: str, spec: AddonSpec
) -> None:
    names = {a.name for a in list_attachments(platform.store, app=app)}
    if attach_as in names:
        raise Conflict(
            f"{app!r} already has an add-on attached as {attach_as!r}. Use "
            "--as to choose another name."
        )
    current = platform.store.get_app(app).config_vars
    clash = sorted(set(spec.attachment_vars(attach_as)) & set(current))
    if clash:
        raise Conflict(
            f"{app!r} already has config var {clash[0]!r}. Unset it, or use "
            "--as to choose another name."
        )


# create


def create_addon(
    platform: Platform,
    engine: AddonEngine,
    app: str,
    request: CreateRequest,
    out: Output,
) -> tuple[Addon, Release]:
    """Provision a resource for an app and attach it.

    Raises:
        PaasError: a step failed; nothing of the resource is left.
    """
    spec, attach_as = prepare_spec(platform, app, request)
    addon = Addon(
        spec.resource, app, spec.service, spec.plan, CREATING, time.time(), spec
    )
    insert_addon(platform.store, addon)
    platform.event(app, f"Creating add-on {spec.resource} ({spec.service}:{spec.plan})")
    try:
        release = _provision(platform, engine, app, spec, attach_as, out)
    except BaseException:
        _undo_create(platform, engine, app, spec.resource)
        raise
    set_state(platform.store, spec.resource, CREATED)
    return get_addon(platform.store, spec.resource), release


def _provision(
    platform: Platform,
    engine: AddonEngine,
    app: str,
    spec: AddonSpec,
    attach_as: str,
    out: Output,
) -> Release:
    _fetch(engine, spec, out)
    save_spec(platform.store, spec.resource, spec)
    network = platform.backend.prepare_app(app)
    out(f"-----> Starting {spec.resource} on {app}'s private network")
    engine.start(spec, app, [network])
    out(f"-----> Waiting for {spec.resource} to be healthy")
    engine.wait_healthy(spec, network, out)
    out(f"       {spec.resource} is up")
    with platform.changing(app, "the add-on attachment"):
        _check_attachable(platform, app, attach_as, spec)
        add_attachment(platform.store, spec.resource, app, attach_as)
        return _change_vars(
            platform,
            app,
            dict(spec.attachment_vars(attach_as)),
            f"Attach {attach_as} (@ref:{spec.resource})",
        )


def _fetch(engine: AddonEngine, spec: AddonSpec, out: Output) -> None:
    # The host check comes first and its findings travel with the pull's
    # outcome, so one attempt names everything the operator must fix.
    problems = engine.check_host(spec)
    out(f"-----> Pulling {spec.image}")
    try:
        spec.image = engine.fetch_image(spec.image, out)
    except PaasError as exc:
        error = translate_pull_error(exc, spec.image)
        if problems:
            error.message = f"{error.message} Also: {' '.join(problems)}"
            error.args = (error.message,)
        raise error from exc
    if problems:
        raise InvalidInput(" ".join(problems))


def _undo_create(
    platform: Platform, engine: AddonEngine, app: str, resource: str
) -> None:
    try:
        engine.remove(resource)
    except PaasError as exc:
        logger.error("Could not remove add-on %s after a failure: %s", resource, exc)
    delete_addon(platform.store, resource)
    platform.event(app, f"Add-on {resource} was not created")


# config vars


def _change_vars(
    platform: Platform, app: str, changes: dict[str, str | None], description: str
) -> Release:
    """Set or unset config vars and roll out a release; hold the app's lock.

    On a failed roll-out the config vars go back to what they were.
    """
    before = platform.store.get_app(app).config_vars
    updated = {k: v for k, v in before.items() if k not in changes}
    updated |= {k: v for k, v in changes.items() if v is not None}
    if config_size(updated) > CONFIG_LIMIT:
        raise InvalidInput(
            f"Config vars of {app!r} would pass the limit of {CONFIG_LIMIT} "
            "bytes. Unset some first."
        )
    platform.store.set_config_vars(app, updated)
    try:
        # As on Heroku, add-on config changes skip the release phase.
        release = release_and_roll_out(
            platform, app, description, config_vars=updated, release_phase=False
        )
    except BaseException:
        platform.store.set_config_vars(app, before)
        raise
    if release.status == "failed":
        platform.store.set_config_vars(app, before)
    return release


# attach and detach


def attach_addon(
    platform: Platform,
    engine: AddonEngine,
    name: str,
    app: str,
    attach_as: str | None,
) -> tuple[Attachment, Release]:
    """Attach an existing resource to another app: network, config vars, release.

    Raises:
        Conflict: the name is taken on the app, or the resource is not ready.
    """
    addon = get_addon(platform.store, name)
    platform.store.get_app(app)
    if addon.state != CREATED:
        raise Conflict(f"Add-on {name!r} is {addon.state}; try again when created.")
    label = attachment_name(attach_as or _default_attachment(addon))
    with platform.changing(app, "the add-on attachment"):
        _check_attachable(platform, app, label, addon.spec)
        engine.connect(name, platform.backend.prepare_app(app), addon.spec.alias)
        attachment = add_attachment(platform.store, name, app, label)
        try:
            release = _change_vars(
                platform,
                app,
                dict(addon.spec.attachment_vars(label)),
                f"Attach {label} (@ref:{name})",
            )
        except BaseException:
            remove_attachment(platform.store, app, label)
            _disconnect_if_unattached(platform, engine, name, app)
            raise
    return attachment, release


def _default_attachment(addon: Addon) -> str:
    try:
        return find_service(addon.service).attach_as
    except PaasError:
        return addon.attachments[0].name if addon.attachments else addon.service


def detach_addon(
    platform: Platform, engine: AddonEngine, app: str, name: str
) -> Release:
    """Detach an attachment from an app: config vars, release, network.

    Raises:
        AddonNotFound: the app has no such attachment.
    """
    with platform.changing(app, "the add-on detachment"):
        attachment = find_attachment(platform.store, app, name)
        return _detach(platform, engine, attachment)


def _detach(platform: Platform, engine: AddonEngine, attachment: Attachment) -> Release:
    addon = get_addon(platform.store, attachment.addon)
    keys = addon.spec.attachment_vars(attachment.name)
    remove_attachment(platform.store, attachment.app, attachment.name)
    release = _change_vars(
        platform,
        attachment.app,
        dict.fromkeys(keys),
        f"Detach {attachment.name} (@ref:{addon.name})",
    )
    _disconnect_if_unattached(platform, engine, addon.name, attachment.app)
    return release


def _disconnect_if_unattached(
    platform: Platform, engine: AddonEngine, name: str, app: str
) -> None:
    still = [a for a in list_attachments(platform.store, addon=name) if a.app == app]
    if not still:
        engine.disconnect(name, platform.backend.prepare_app(app))


# destroy


def destroy_addon(
    platform: Platform, engine: AddonEngine, name: str, confirm: str | None
) -> Addon:
    """Detach a resource everywhere, then remove its container and data.

    Raises:
        InvalidInput: ``confirm`` is not the owning app's name.
    """
    addon = get_addon(platform.store, name)
    if confirm != addon.app:
        raise InvalidInput(
            f"This destroys {name!r} and its data on {addon.app!r}. To proceed, "
            f"run 'paas addons:destroy {name} --confirm {addon.app}'."
        )
    _destroy(platform, engine, addon, skip_app=None)
    return addon


def _destroy(
    platform: Platform, engine: AddonEngine, addon: Addon, skip_app: str | None
) -> None:
    with platform.changing(addon.app, "the add-on removal"):
        set_state(platform.store, addon.name, DESTROYING)
    for attachment in list_attachments(platform.store, addon=addon.name):
        if attachment.app == skip_app:
            remove_attachment(platform.store, attachment.app, attachment.name)
            continue
        with platform.changing(attachment.app, "the add-on removal"):
            _detach(platform, engine, attachment)
    engine.remove(addon.name)
    delete_addon(platform.store, addon.name)
    platform.event(addon.app, f"Destroyed add-on {addon.name}")


def finish_interrupted(
    platform: Platform, engine: AddonEngine, before: float
) -> list[str]:
    """Undo creations and finish removals that a platform stop cut short.

    Args:
        before: only resources whose change began before this time count;
            later ones are in progress now.

    Returns:
        The names of the resources undone or removed.
    """
    done = []
    for addon in list_addons(platform.store):
        if addon.created_at >= before or addon.state == CREATED:
            continue
        if addon.state == CREATING:
            # A creation attaches last: a stop during its release left vars.
            for attachment in addon.attachments:
                with platform.changing(attachment.app, "the add-on undo"):
                    _detach(platform, engine, attachment)
            _undo_create(platform, engine, addon.app, addon.name)
        else:
            _destroy(platform, engine, addon, skip_app=None)
        done.append(addon.name)
    return done


def remove_app_addons(platform: Platform, engine: AddonEngine, app: str) -> list[str]:
    """Before an app goes: destroy its add-ons, detach it from others'.

    Returns:
        The names of the destroyed resources.
    """
    destroyed = []
    for addon in list_addons(platform.store, app):
        if addon.app == app:
            _destroy(platform, engine, addon, skip_app=app)
            destroyed.append(addon.name)
    for attachment in list_attachments(platform.store, app=app):
        remove_attachment(platform.store, app, attachment.name)
        engine.disconnect(attachment.addon, platform.backend.prepare_app(app))
    return destroyed


def addon_for_app(platform: Platform, name: str, app: str | None) -> Addon:
    """Return a resource by its name, or by an app's attachment name.

    Raises:
        AddonNotFound: neither names one.
    """
    try:
        return get_addon(platform.store, name)
    except AddonNotFound:
        if not app:
            raise
    return get_addon(platform.store, find_attachment(platform.store, app, name).addon)
