"""The /v1/registry endpoints: what images and tags a registry holds.

Also the layers of a release's image (``/v1/apps/APP/releases/N/layers``),
read from the engine that built it.

The platform holds the registry credentials, so the CLI asks here rather
than the registry itself. Only registries the operator configured
(PAAS_REGISTRIES, PAAS_RELEASE_REGISTRY) are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paas.api.deps import run_sync, services
from paas.errors import ImageNotFound, InvalidInput
from paas.registry import (
    Registry,
    RegistryClient,
    inspect_image,
    registries_from_env,
    release_registry_from_env,
)
from paas.registry.refs import DIGEST, PATH, TAG
from paas.release_layers import release_layers

T = TypeVar("T")


def configured_registries() -> list[Registry]:
    """Return every registry the operator named, pull ones first."""
    found = registries_from_env()
    release = release_registry_from_env()
    if release and release.host not in [r.host for r in found]:
        found.append(release)
    return found


def choose_registry(host: str | None) -> Registry:
    """Return the configured registry named ``host``, or the first one.

    Raises:
        InvalidInput: no registry is configured, or ``host`` is not one.
    """
    found = configured_registries()
    if not found:
        raise InvalidInput("No registry is configured: set PAAS_REGISTRIES.")
    if not host:
        return found[0]
    for registry in found:
        if registry.host == host:
            return registry
    hosts = ", ".join(r.host for r in found)
    raise InvalidInput(
        f"Registry {host!r} is not configured: use one of {hosts} "
        "(PAAS_REGISTRIES, PAAS_RELEASE_REGISTRY)."
    )


def page_size(request: Request) -> int | None:
    """Return the ``n`` query parameter (page size), if given.

    Raises:
        InvalidInput: ``n`` is not a positive number.
    """
    text = request.query_params.get("n")
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"Page size {text!r} is invalid: use a number from 1.")
    return int(text)


def check_name(name: str) -> str:
    """Return a repository name, checked against the registry's grammar.

    Raises:
        InvalidInput: the name breaks the grammar.
    """
    if not PATH.match(name):
        raise InvalidInput(
            f"Image name {name!r} is invalid: use lowercase path components "
            "such as 'library/postgres'."
        )
    return name


def with_library(name: str, read: Callable[[str], T]) -> T:
    """Call ``read(name)``; for a one-word name the registry lacks, try ``library/``.

    Docker reads ``postgres`` as ``library/postgres``; a private registry may
    still hold one-word repositories, so the name as given comes first.
    """
    try:
        return read(name)
    except ImageNotFound:
        if "/" in name:
            raise
        return read(f"library/{name}")


def list_images(host: str | None, size: int | None) -> dict[str, object]:
    """Describe a registry's repositories."""
    registry = choose_registry(host)
    with RegistryClient(registry) as client:
        names = client.repositories(page_size=size)
    return {"registry": registry.host, "repositories": names}


def list_tags(host: str | None, name: str, size: int | None) -> dict[str, object]:
    """Describe a repository's tags."""
    registry = choose_registry(host)
    with RegistryClient(registry) as client:

        def read(path: str) -> dict[str, object]:
            # Sorted: some registries (distribution 2.8) send tags unsorted.
            return {"name": path, "tags": sorted(client.tags(path, page_size=size))}

        found = with_library(check_name(name), read)
    return {"registry": registry.host, **found}


def describe_image(
    host: str | None, name: str, reference: str, platform: str | None
) -> dict[str, object]:
    """Describe one image: digest, layers, sizes and config.

    Raises:
        InvalidInput: the reference is neither a tag nor a digest.
    """
    if not (TAG.match(reference) or DIGEST.match(reference)):
        raise InvalidInput(
            f"{reference!r} is neither a tag nor a digest: use a tag such as "
            "'17' or a digest 'sha256:<64 hex digits>'."
        )
    registry = choose_registry(host)
    with RegistryClient(registry) as client:

        def read(path: str) -> dict[str, object]:
            return inspect_image(client, path, reference, platform).to_json()

        found = with_library(check_name(name), read)
    return {"registry": registry.host, **found}


async def images(request: Request) -> Response:
    """List the repositories of a registry."""
    host = request.query_params.get("registry")
    body = await run_sync(list_images, host, page_size(request))
    return JSONResponse(body)


async def tags(request: Request) -> Response:
    """List the tags of one repository."""
    host = request.query_params.get("registry")
    name = request.path_params["name"]
    body = await run_sync(list_tags, host, name, page_size(request))
    return JSONResponse(body)


async def manifest(request: Request) -> Response:
    """Describe one image by tag or digest."""
    host = request.query_params.get("registry")
    platform = request.query_params.get("platform")
    name, reference = request.path_params["name"], request.path_params["reference"]
    body = await run_sync(describe_image, host, name, reference, platform)
    return JSONResponse(body)


async def layers(request: Request) -> Response:
    """Describe a release image's layers and those shared with the release before."""
    found = services(request)
    app, version = request.path_params["app"], request.path_params["version"]
    await run_sync(found.platform.store.get_app, app)
    body = await run_sync(
        release_layers, found.platform, found.builder.client, app, version
    )
    return JSONResponse(body)


routes = [
    Route("/v1/registry/images", images),
    Route("/v1/registry/images/{name:path}/tags", tags),
    Route("/v1/registry/images/{name:path}/manifests/{reference}", manifest),
    Route("/v1/apps/{app}/releases/{version:int}/layers", layers),
]
