"""The layers of a release's image, and which it shares with the release before.

Layers are read from the Docker engine, where release images are built and
kept (see paas/disk.py for how many). A layer is named by its diff id, the
digest of its uncompressed content, which is what two images share.
"""

from __future__ import annotations

import logging
from typing import Any

import docker
import docker.errors

from paas.errors import BackendUnavailable, NotFound, ReleaseNotFound
from paas.platform import Platform

logger = logging.getLogger(__name__)


def image_layers(client: docker.DockerClient, image: str) -> list[dict[str, Any]]:
    """Return an image's layers, base first, with size and the step that made it.

    Raises:
        NotFound: the engine no longer has the image.
        BackendUnavailable: the engine did not answer.
    """
    try:
        attrs = client.api.inspect_image(image)
        history = list(reversed(client.api.history(image)))
    except docker.errors.ImageNotFound as exc:
        raise NotFound(
            f"Image {image!r} is no longer on the Docker engine (pruned): its "
            "layers cannot be shown."
        ) from exc
    except docker.errors.APIError as exc:
        raise BackendUnavailable(f"Could not read image {image!r}: {exc}.") from exc
    diff_ids = list(attrs.get("RootFS", {}).get("Layers") or [])
    steps = _layer_steps(history, len(diff_ids))
    return [
        {"digest": digest, **step} for digest, step in zip(diff_ids, steps, strict=True)
    ]


def _layer_steps(history: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    # The engine's history has one entry per build step, layer or not
    # (ENV, CMD, ...), without saying which made a layer. Steps with a size
    # did; when their number does not match the layers, sizes are unknown.
    sized = [entry for entry in history if entry.get("Size")]
    if len(sized) != count:
        return [{"size": None, "created_by": None} for _ in range(count)]
    return [
        {"size": int(entry["Size"]), "created_by": _step(entry.get("CreatedBy"))}
        for entry in sized
    ]


def _step(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    # The classic builder writes '/bin/sh -c #(nop) COPY ...' for non-RUN steps.
    return text.replace("/bin/sh -c #(nop) ", "").strip()[:120]


def release_layers(
    platform: Platform, client: docker.DockerClient, app: str, version: int
) -> dict[str, Any]:
    """Describe the layers of release ``version`` against the release before it.

    Raises:
        ReleaseNotFound: no such release, or it has no image.
        NotFound: the engine no longer has its image.
        BackendUnavailable: the engine did not answer.
    """
    release = platform.store.get_release(app, version)
    if not release.image:
        raise ReleaseNotFound(f"Release v{version} of {app!r} has no image.")
    layers = image_layers(client, release.image)
    previous = _previous(platform, client, app, version)
    before = {layer["digest"] for layer in previous["layers"]} if previous else set()
    for layer in layers:
        layer["shared"] = layer["digest"] in before
    return {
        "version": version,
        "image": release.image,
        "previous": {k: previous[k] for k in ("version", "image")}
        if previous
        else None,
        "layers": layers,
        "total_size": _sum(layers),
        "shared_size": _sum([layer for layer in layers if layer["shared"]]),
    }


def _previous(
    platform: Platform, client: docker.DockerClient, app: str, version: int
) -> dict[str, Any] | None:
    if version <= 1:
        return None
    try:
        release = platform.store.get_release(app, version - 1)
    except ReleaseNotFound:
        return None
    if not release.image:
        return None
    try:
        layers = image_layers(client, release.image)
    except NotFound:
        logger.info("Image of %s v%d is gone; no layers to compare", app, version - 1)
        return None
    return {"version": version - 1, "image": release.image, "layers": layers}


def _sum(layers: list[dict[str, Any]]) -> int | None:
    sizes: list[int | None] = [layer["size"] for layer in layers]
    known = [size for size in sizes if size is not None]
    return sum(known) if len(known) == len(sizes) else None
