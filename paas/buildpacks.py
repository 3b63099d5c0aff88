"""Buildpacks: detect rules and defaults (YAML) plus a Dockerfile template.

Each buildpack is a folder ``buildpacks/<name>/buildpack.yaml``. Detection
tries them in their ``order`` and the first match wins.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from paas.errors import BuildFailed, InvalidInput

ROOT = Path(__file__).resolve().parent.parent
BUILDPACKS_DIR = ROOT / "buildpacks"
TEMPLATES_DIR = ROOT / "templates"


@dataclass
class Runtime:
    """The language runtime a buildpack builds on, from Debian packages."""

    name: str
    version: str
    packages: list[str] = field(default_factory=list)
    check: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Buildpack:
    """Detect rules and a Dockerfile template that turn source into an image."""

    name: str
    display_name: str
    order: int
    template: str | None
    any_of: list[str]
    default_process_types: dict[str, str] = field(default_factory=dict)
    build_env: dict[str, str] = field(default_factory=dict)
    runtime: Runtime | None = None
    ignore: list[str] = field(default_factory=list)

    def detect(self, source: Path) -> str | None:
        """Return the marker file that makes this buildpack apply, if any."""
        for marker in self.any_of:
            if (source / marker).is_file():
                return marker
        return None


def load_buildpacks(directory: Path = BUILDPACKS_DIR) -> list[Buildpack]:
    """Read every buildpack definition, in detection order."""
    buildpacks = [_load(path) for path in sorted(directory.glob("*/buildpack.yaml"))]
    return sorted(buildpacks, key=lambda buildpack: (buildpack.order, buildpack.name))


def _load(path: Path) -> Buildpack:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return Buildpack(
        name=data["name"],
        display_name=data["display_name"],
        order=int(data.get("order", 100)),
        template=data.get("template"),
        any_of=list(data.get("detect", {}).get("any_of", [])),
        default_process_types=dict(data.get("default_process_types") or {}),
        build_env=_strings(data.get("build_env")),
        runtime=_runtime(data.get("runtime")),
        ignore=list(data.get("ignore") or []),
    )


def _strings(mapping: dict[str, Any] | None) -> dict[str, str]:
    return {key: str(value) for key, value in (mapping or {}).items()}


def _runtime(data: dict[str, Any] | None) -> Runtime | None:
    if not data:
        return None
    return Runtime(
        name=data["name"],
        version=str(data["version"]),
        packages=list(data.get("packages") or []),
        check=data.get("check"),
        env=_strings(data.get("env")),
    )


def find_buildpack(name: str) -> Buildpack:
    """Return the buildpack of a name.

    Raises:
        InvalidInput: no buildpack has that name.
    """
    buildpacks = load_buildpacks()
    for buildpack in buildpacks:
        if buildpack.name == name:
            return buildpack
    known = ", ".join(buildpack.name for buildpack in buildpacks)
    raise InvalidInput(f"No buildpack named {name!r}. Known buildpacks: {known}.")


def detect_buildpack(source: Path) -> tuple[Buildpack, str]:
    """Return the first buildpack that applies to a source tree, and why.

    Raises:
        BuildFailed: no buildpack applies.
    """
    found = detect_all(source)
    if found:
        return found[0]
    markers = sorted({marker for bp in load_buildpacks() for marker in bp.any_of})
    message = (
        "No default language could be detected for this app. "
        f"Add one of these files at the root of the repo: {', '.join(markers)}."
    )
    hint = _near_miss(source, markers)
    raise BuildFailed(f"{message} {hint}" if hint else message)


def detect_all(source: Path) -> list[tuple[Buildpack, str]]:
    """Return every buildpack that applies to a source tree, in order."""
    found = []
    for buildpack in load_buildpacks():
        marker = buildpack.detect(source)
        if marker is not None:
            found.append((buildpack, marker))
    return found


def _near_miss(source: Path, markers: list[str]) -> str | None:
    """Name a file that is almost a marker: mis-cased, a folder, or nested."""
    by_lower = {marker.lower(): marker for marker in markers}
    for path in sorted(source.iterdir()):
        marker = by_lower.get(path.name.lower())
        if marker is not None and path.name != marker:
            shown = f"Found {path.name!r}"
            return f"{shown}: names are case-sensitive, rename it to {marker!r}."
        if marker is not None and not path.is_file():
            return f"Found {path.name!r}, but it is a folder, not a file."
    for path in sorted(source.glob("*/*")):
        if path.name in markers and not path.parent.name.startswith("."):
            nested = path.relative_to(source).as_posix()
            return (
                f"Found {nested!r} in a subfolder: only files at the root of the "
                "repo are detected, so move it there."
            )
    return None


def render_dockerfile(
    buildpack: Buildpack,
    source: Path,
    *,
    app: str,
    stack: str,
    base: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> str:
    """Render a buildpack's Dockerfile for a source tree.

    ``base`` is the image it starts from (the stack unless the buildpack has a
    runtime image); ``variables`` are the buildpack's own template values.
    """
    if buildpack.template is None:
        raise BuildFailed(f"Buildpack {buildpack.name!r} has no Dockerfile template.")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    template = environment.get_template(f"buildpacks/{buildpack.template}")
    env_prefix = " ".join(
        f"{key}={shlex.quote(value)}" for key, value in buildpack.build_env.items()
    )
    return template.render(
        app=app,
        stack=stack,
        buildpack=buildpack,
        env_prefix=env_prefix,
        base=base or stack,
        **(variables or {}),
    )
