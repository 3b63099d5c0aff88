"""Dockerfile apps: the repo's own Dockerfile, built as it is."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from paas.buildpacks import Buildpack
from paas.buildplans.base import BuildPlan, Output
from paas.errors import BuildFailed

FROM = re.compile(r"^\s*FROM\s+(.*)$", re.I)
COPY_FROM = re.compile(r"^\s*(?:COPY|ADD)\s+(?:--\S+\s+)*?--from=(\S+)", re.I)


def plan(buildpack: Buildpack, source: Path, out: Output) -> BuildPlan:
    """Plan a build of the repo's own Dockerfile.

    Raises:
        BuildFailed: the Dockerfile starts from no image.
    """
    text = (source / "Dockerfile").read_text(errors="replace")
    bases = base_images(text)
    if not bases:
        raise BuildFailed("The Dockerfile has no FROM line: start it with one.")
    out(f"       Building the repo's Dockerfile as it is (FROM {', '.join(bases)})")
    return BuildPlan({"bases": bases}, {}, own_dockerfile="Dockerfile")


def base_images(dockerfile: str) -> list[str]:
    """Return the images a Dockerfile reads: what its stages start from and
    what ``COPY --from``/``ADD --from`` name, not its own stages."""
    stages: set[str] = set()
    images: list[str] = []

    def read(image: str) -> None:
        own = image.lower() in stages or image.isdigit() or image == "scratch"
        if not own and image not in images:
            images.append(image)

    for line in _instructions(dockerfile):
        copied = COPY_FROM.match(line)
        if copied is not None:
            read(copied.group(1))
            continue
        found = FROM.match(line)
        if found is None:
            continue
        words = [word for word in found.group(1).split() if not word.startswith("--")]
        if not words:
            continue
        read(words[0])
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
    return images


def _instructions(dockerfile: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in dockerfile.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


# The stack's own CMD: an image that only inherits it has no server to run.
SHELLS = (["/bin/bash"], ["bash"], ["/bin/sh"], ["sh"])


def web_command(config: dict[str, Any]) -> str | None:
    """Return the shell command that runs an image as Docker would.

    None when the image runs nothing but a shell.
    """
    argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    if not argv or argv in SHELLS:
        return None
    return "exec " + shlex.join(argv)


def wrap_command(entrypoint: list[str], command: str) -> str:
    """Return a Procfile command run through the image's ENTRYPOINT."""
    return f"exec {shlex.join(entrypoint)} /bin/bash -c {shlex.quote(command)}"
