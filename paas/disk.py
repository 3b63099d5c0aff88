"""Disk: prune old release images and dangling layers; report usage."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import docker
import docker.errors

from paas.platform import Platform
from paas.store import RELEASE_SUCCEEDED

logger = logging.getLogger(__name__)

KEEP_IMAGES = 5


def images_to_keep(platform: Platform, app: str, keep: int = KEEP_IMAGES) -> set[str]:
    """Return the images an app still needs: recent releases and running dynos."""
    kept: list[str] = []
    for release in platform.store.list_releases(app):
        image = release.image
        if image and release.status == RELEASE_SUCCEEDED and image not in kept:
            kept.append(image)
        if len(kept) >= keep:
            break
    newest = platform.store.list_releases(app, 1)
    if newest and newest[0].image:
        kept.append(newest[0].image)
    running = {d.labels.get("paas.image", "") for d in platform.backend.list_dynos(app)}
    return set(kept) | (running - {""})


def prune_app_images(
    platform: Platform, client: docker.DockerClient, app: str
) -> list[str]:
    """Remove an app's release images beyond the retention count."""
    keep = images_to_keep(platform, app)
    removed = []
    filters = {"label": [f"paas.platform={platform.platform_id}", f"paas.app={app}"]}
    for image in client.images.list(filters=filters):
        tags = [tag for tag in image.tags if tag.startswith(f"paas/{app}:")]
        if not tags or any(tag in keep for tag in tags):
            continue
        try:
            client.images.remove(image.id, force=False)
        except docker.errors.APIError as exc:
            logger.warning("Could not remove image %s: %s", tags[0], exc)
            continue
        removed += tags
    if removed:
        logger.info("Pruned %d old image(s) of %s", len(removed), app)
    return removed


def prune_dangling(client: docker.DockerClient, older_than: float = 3600) -> int:
    """Remove dangling layers left by builds; return the bytes freed.

    Only layers older than ``older_than`` seconds go: the newest layer of a
    build still running is dangling too, and removing it fails that build
    ("failed to get destination image"). Keep it above PAAS_BUILD_TIMEOUT.
    """
    filters = {"dangling": True, "until": f"{int(older_than)}s"}
    try:
        result = client.images.prune(filters=filters)
    except docker.errors.APIError as exc:
        logger.warning("Could not prune dangling images: %s", exc)
        return 0
    return int(result.get("SpaceReclaimed") or 0)


def directory_size(path: Path) -> int:
    """Return the bytes used by the files under a directory."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def disk_usage(platform: Platform, client: docker.DockerClient) -> dict[str, Any]:
    """Report what the platform uses: images per app, containers, data dir."""
    df = client.df()
    apps: dict[str, dict[str, int]] = {}
    for image in df.get("Images") or []:
        labels = image.get("Labels") or {}
        if labels.get("paas.platform") != platform.platform_id:
            continue
        entry = apps.setdefault(labels.get("paas.app", ""), {"images": 0, "bytes": 0})
        entry["images"] += 1
        # Layers shared with the stack or other images count once, there.
        shared = max(int(image.get("SharedSize") or 0), 0)
        entry["bytes"] += int(image.get("Size") or 0) - shared
    containers = sum(
        int(c.get("SizeRw") or 0)
        for c in df.get("Containers") or []
        if (c.get("Labels") or {}).get("paas.platform") == platform.platform_id
    )
    dangling = sum(
        int(i.get("Size") or 0)
        for i in df.get("Images") or []
        if not i.get("RepoTags") or i.get("RepoTags") == ["<none>:<none>"]
    )
    return {
        "apps": apps,
        "images_bytes": sum(entry["bytes"] for entry in apps.values()),
        "containers_bytes": containers,
        "dangling_bytes": dangling,
        "data_dir_bytes": directory_size(platform.settings.home),
    }
