"""What is in an image: its manifest, layers and config, read from a registry.

Media types handled (distribution spec/manifest-v2-2.md, OCI image-spec):
an index (OCI image index, Docker manifest list) names one manifest per
platform; a manifest (OCI or Docker v2 schema 2) names a config blob and the
layers. For an index the details shown are those of one platform's manifest,
linux/amd64 unless another is asked for.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from paas.errors import ImageNotFound, InvalidInput, RegistryError
from paas.registry.client import RegistryClient

PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
IMAGE_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
DEFAULT_PLATFORM = "linux/amd64"


@dataclass
class Layer:
    """One layer blob of an image."""

    digest: str
    size: int
    media_type: str


@dataclass
class Platform:
    """One entry of an index: a platform and its manifest."""

    platform: str
    digest: str
    size: int


@dataclass
class ImageInfo:
    """An image as a registry holds it."""

    name: str
    reference: str
    digest: str
    media_type: str
    manifest_digest: str
    platform: str | None
    config_digest: str
    layers: list[Layer]
    total_size: int
    created: str | None
    entrypoint: list[str] | None
    cmd: list[str] | None
    env: list[str]
    exposed_ports: list[str]
    labels: dict[str, str]
    platforms: list[Platform] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the info as plain JSON types."""
        return asdict(self)


def inspect_image(
    client: RegistryClient, name: str, reference: str, platform: str | None = None
) -> ImageInfo:
    """Read an image's manifest (through its index if any) and its config.

    Args:
        client: the registry holding the image.
        name: the repository, such as ``library/postgres``.
        reference: a tag or digest.
        platform: ``os/arch[/variant]`` to pick from an index.

    Raises:
        ImageNotFound: no such repository, tag, digest or platform.
        RegistryError: the registry failed, or served an unknown media type.
    """
    if platform is not None and not PLATFORM.match(platform):
        raise InvalidInput(
            f"Platform {platform!r} is not os/arch[/variant]: write it like "
            "linux/amd64 or linux/arm64/v8."
        )
    body, media_type, digest = client.manifest(name, reference)
    platforms: list[Platform] = []
    manifest, manifest_type, manifest_digest = body, media_type, digest
    if media_type in INDEX_TYPES:
        platforms = _platforms(body)
        chosen = _choose(platforms, platform or DEFAULT_PLATFORM, name, reference)
        manifest, manifest_type, manifest_digest = client.manifest(name, chosen.digest)
    if manifest_type not in IMAGE_TYPES:
        raise RegistryError(
            f"{name}:{reference} has media type {manifest_type!r}, which paas "
            f"does not read: it knows {', '.join(INDEX_TYPES + IMAGE_TYPES)}."
        )
    info = _info(
        client,
        name,
        reference,
        digest,
        media_type,
        manifest,
        manifest_digest,
        platforms,
    )
    single = info.platform
    if platform and not platforms and single and not _fits(single, platform):
        raise ImageNotFound(
            f"{name}:{reference} is an image for {single} only, not {platform!r}."
        )
    return info


def _fits(have: str, wanted: str) -> bool:
    return have == wanted or have.startswith(wanted + "/")


def _info(
    client: RegistryClient,
    name: str,
    reference: str,
    digest: str,
    media_type: str,
    manifest: dict[str, Any],
    manifest_digest: str,
    platforms: list[Platform],
) -> ImageInfo:
    config_ref = manifest.get("config") or {}
    layers = [_layer(entry) for entry in manifest.get("layers") or []]
    config = client.blob_json(name, str(config_ref.get("digest", "")))
    settings = config.get("config") or {}
    total = int(config_ref.get("size") or 0) + sum(layer.size for layer in layers)
    return ImageInfo(
        name=name,
        reference=reference,
        digest=digest,
        media_type=media_type,
        manifest_digest=manifest_digest,
        platform=_platform_of(config),
        config_digest=str(config_ref.get("digest", "")),
        layers=layers,
        total_size=total,
        created=config.get("created"),
        entrypoint=settings.get("Entrypoint"),
        cmd=settings.get("Cmd"),
        env=list(settings.get("Env") or []),
        exposed_ports=sorted(settings.get("ExposedPorts") or {}),
        labels=dict(settings.get("Labels") or {}),
        platforms=platforms,
    )


def _layer(entry: dict[str, Any]) -> Layer:
    return Layer(
        digest=str(entry.get("digest", "")),
        size=int(entry.get("size") or 0),
        media_type=str(entry.get("mediaType", "")),
    )


def _platforms(index: dict[str, Any]) -> list[Platform]:
    found = []
    for entry in index.get("manifests") or []:
        spec = entry.get("platform") or {}
        parts = [spec.get("os", "?"), spec.get("architecture", "?")]
        if spec.get("variant"):
            parts.append(spec["variant"])
        found.append(
            Platform(
                platform="/".join(parts),
                digest=str(entry.get("digest", "")),
                size=int(entry.get("size") or 0),
            )
        )
    return found


def _choose(
    platforms: list[Platform], wanted: str, name: str, reference: str
) -> Platform:
    for entry in platforms:
        if entry.platform == wanted or entry.platform.startswith(wanted + "/"):
            return entry
    # Attestation entries are 'unknown/unknown'; any real one beats none.
    real = [p for p in platforms if not p.platform.startswith("unknown")]
    if real and wanted == DEFAULT_PLATFORM:
        return real[0]
    names = ", ".join(p.platform for p in platforms) or "none"
    raise ImageNotFound(
        f"{name}:{reference} has no image for platform {wanted!r}: it has {names}."
    )


def _platform_of(config: dict[str, Any]) -> str | None:
    os_name, arch = config.get("os"), config.get("architecture")
    if not os_name or not arch:
        return None
    variant = config.get("variant")
    return f"{os_name}/{arch}/{variant}" if variant else f"{os_name}/{arch}"
