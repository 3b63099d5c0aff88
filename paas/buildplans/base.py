"""The shape every build plan has."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Output = Callable[[str], None]


@dataclass
class BuildPlan:
    """What a buildpack needs to know about one source tree."""

    variables: dict[str, Any] = field(default_factory=dict)
    process_types: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    # Dockerfile apps: build the app's own Dockerfile at this path, and read
    # the web process from the built image.
    own_dockerfile: str | None = None
