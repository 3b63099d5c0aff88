"""Registries: reading them over the v2 HTTP API, pulling and pushing images.

The interface other parts call:

``pull_image(ref, on_progress) -> str``
    Pull ``ref`` (``postgres:17``, ``bitnami/redis:7``,
    ``host:5000/team/app:1``) from the first registry of PAAS_REGISTRIES
    that has it, streaming a few readable progress lines to ``on_progress``,
    and tag it as ``ref``. Returns the reference to run. Raises
    ``ImageNotFound`` (naming the image and how to mirror it:
    ``deploy/registry-fill`` or ``docker push`` to the registry) when no
    registry has it, ``RegistryError`` when one fails, ``InvalidInput`` for a
    malformed reference.

``push_image(image_ref, registry, on_progress) -> str``
    Push a local image to a registry under the same path and tag.

``RegistryClient(registry)``
    Catalog, tags (both paginated), manifests, blobs; Basic and Bearer auth.
    ``inspect_image(client, name, reference)`` reads a manifest or index
    and the image config into an ``ImageInfo``.

Settings (environment): ``PAAS_REGISTRIES`` (default ``127.0.0.1:5000``),
``PAAS_RELEASE_REGISTRY`` (unset: release images stay local) and
``PAAS_REGISTRY_AUTH_FILE`` (a ``docker login`` config.json; default
``~/.docker/config.json``). See paas/registry/config.py.
"""

from paas.registry.client import RegistryClient
from paas.registry.config import (
    Registry,
    registries_from_env,
    release_registry_from_env,
)
from paas.registry.images import pull_image, push_image
from paas.registry.manifests import ImageInfo, inspect_image
from paas.registry.refs import ImageRef, parse_ref

__all__ = [
    "ImageInfo",
    "ImageRef",
    "Registry",
    "RegistryClient",
    "inspect_image",
    "parse_ref",
    "pull_image",
    "push_image",
    "registries_from_env",
    "release_registry_from_env",
]
