"""The registry commands split image names and show an image readably."""

from __future__ import annotations

import pytest

from paas.cli.client import CliError
from paas.cli.output import human_size
from paas.cli.registry import inspect_lines, split_image


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("postgres", (None, "postgres", "latest")),
        ("postgres:17", (None, "postgres", "17")),
        ("library/redis:8", (None, "library/redis", "8")),
        ("127.0.0.1:5000/paas/shop:abc", ("127.0.0.1:5000", "paas/shop", "abc")),
        ("localhost/app", ("localhost", "app", "latest")),
        ("app@sha256:" + "a" * 64, (None, "app", "sha256:" + "a" * 64)),
    ],
)
def test_image_arguments_split_like_docker(
    text: str, parts: tuple[str | None, str, str]
) -> None:
    assert split_image(text) == parts


def test_an_empty_image_name_is_an_error() -> None:
    with pytest.raises(CliError, match="':17' names no image"):
        split_image(":17")


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (512, "512 B"),
        (2048, "2.0 KB"),
        (3 * 1024**2 + 1, "3.0 MB"),
        (5 * 1024**3, "5.0 GB"),
    ],
)
def test_sizes_are_shown_in_binary_units(size: int, text: str) -> None:
    assert human_size(size) == text


def test_inspect_of_an_index_lists_platforms_and_layers() -> None:
    info = {
        "registry": "127.0.0.1:5000",
        "name": "library/redis",
        "reference": "8",
        "digest": "sha256:idx",
        "media_type": "application/vnd.oci.image.index.v1+json",
        "platform": "linux/amd64",
        "created": "2026-12-04T10:00:00Z",
        "entrypoint": ["docker-entrypoint.sh"],
        "cmd": ["redis-server"],
        "exposed_ports": ["6379/tcp"],
        "total_size": 3 * 1024**2,
        "platforms": [
            {"platform": "linux/amd64", "digest": "sha256:amd"},
            {"platform": "linux/arm64/v8", "digest": "sha256:arm"},
        ],
        "layers": [
            {"digest": "sha256:l1", "size": 2 * 1024**2},
            {"digest": "sha256:l2", "size": 1024**2},
        ],
    }
    assert inspect_lines(info) == [
        "=== library/redis:8",
        "Registry:    127.0.0.1:5000\n"
        "Digest:      sha256:idx\n"
        "Media type:  application/vnd.oci.image.index.v1+json\n"
        "Platform:    linux/amd64\n"
        "Created:     2026-12-04T10:00:00Z\n"
        'Entrypoint:  ["docker-entrypoint.sh"]\n'
        'Command:     ["redis-server"]\n'
        "Ports:       6379/tcp\n"
        "Total size:  3.0 MB",
        "Platforms (2):",
        "  linux/amd64  sha256:amd",
        "  linux/arm64/v8  sha256:arm",
        "Layers (2):",
        "  sha256:l1  2.0 MB\n  sha256:l2  1.0 MB",
    ]
