"""The builder: a pushed source tree in, an image and its process types out.

Output goes to a callback line by line, in Heroku's shape: ``-----> Step``
banners and detail lines indented by seven spaces.
"""

from __future__ import annotations

import logging
import re
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from paas.buildpacks import (
    Buildpack,
    detect_buildpack,
    find_buildpack,
    render_dockerfile,
)
from paas.errors import BackendUnavailable, BuildFailed, InvalidInput
from paas.healthcheck import HealthCheck, load_app_config, parse_healthcheck
from paas.procfile import parse_procfile

logger = logging.getLogger(__name__)

Output = Callable[[str], None]
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
STEP = re.compile(r"^Step \d+/\d+ : (.*)$")


@dataclass
class BuildResult:
    """What a successful build produced."""

    image: str
    buildpack: str
    process_types: dict[str, str]
    reused_layers: int
    healthcheck: HealthCheck | None = None


def extract_source(archive: Path, destination: Path) -> None:
    """Unpack a ``git archive`` tarball, refusing paths that leave it.

    Raises:
        BuildFailed: the archive is not a tar or holds an unsafe path.
    """
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise BuildFailed(f"Could not unpack the pushed source: {exc}.") from exc


class Builder:
    """Turns source trees into images on a Docker engine."""

    def __init__(self, client: docker.DockerClient, platform_id: str, stack: str):
        self.client = client
        self.platform_id = platform_id
        self.stack = stack
        self._banners: dict[str, str] = {}

    def build(
        self,
        app: str,
        build_id: str,
        source: Path,
        out: Output,
        pinned_buildpack: str | None = None,
    ) -> BuildResult:
        """Build the image of one pushed commit.

        Raises:
            BuildFailed: no buildpack applies, the Procfile is bad, or the
                Dockerfile build failed.
        """
        buildpack = self._choose_buildpack(source, out, pinned_buildpack)
        process_types = discover_process_types(source, buildpack, out)
        healthcheck = read_healthcheck(source, out)
        image = f"paas/{app}:{build_id}"
        self._prepare_context(source, buildpack, app)
        out(f"-----> Building image {image} on the {self.stack} stack")
        reused = self._docker_build(source, image, app, build_id, out)
        if reused:
            out(f"       Reused {reused} cached layer(s)")
        return BuildResult(image, buildpack.name, process_types, reused, healthcheck)

    def _choose_buildpack(
        self, source: Path, out: Output, pinned: str | None
    ) -> Buildpack:
        if pinned:
            out(f"-----> Using buildpack: {pinned}")
            buildpack = find_buildpack(pinned)
        else:
            out("-----> Determining which buildpack to use for this app")
            buildpack, marker = detect_buildpack(source)
            out(f"       Found {marker}")
        out(f"-----> {buildpack.display_name} app detected")
        return buildpack

    def _prepare_context(self, source: Path, buildpack: Buildpack, app: str) -> None:
        meta = source / ".paas"
        if meta.exists():
            shutil.rmtree(meta)
        meta.mkdir()
        shutil.copyfile(CA_BUNDLE, meta / "ca-bundle.crt")
        dockerfile = render_dockerfile(buildpack, source, app=app, stack=self.stack)
        (meta / "Dockerfile").write_text(dockerfile)
        self._banners = step_banners(dockerfile)
        ignore = source / ".dockerignore"
        existing = ignore.read_text() if ignore.exists() else ""
        ignore.write_text(existing + "\n.git\n.paas/Dockerfile\n.dockerignore\n")

    def _docker_build(
        self, source: Path, image: str, app: str, build_id: str, out: Output
    ) -> int:
        labels = {
            "paas.platform": self.platform_id,
            "paas.app": app,
            "paas.build": build_id,
        }
        try:
            stream = self.client.api.build(
                path=str(source),
                dockerfile=".paas/Dockerfile",
                tag=image,
                labels=labels,
                rm=True,
                forcerm=True,
                decode=True,
            )
            return BuildRelay(out, self._banners).relay(stream)
        except docker.errors.APIError as exc:
            raise BuildFailed(f"The Docker build failed: {exc}.") from exc
        except docker.errors.DockerException as exc:
            raise BackendUnavailable(f"The Docker engine failed: {exc}.") from exc


NOISE = ("Removing intermediate container", "Successfully built", "Successfully tagged")


def step_banners(dockerfile: str) -> dict[str, str]:
    """Map instructions to the ``# ----->`` banner comment just above them."""
    banners: dict[str, str] = {}
    banner = None
    for line in dockerfile.splitlines():
        stripped = line.strip()
        if stripped.startswith("# ----->"):
            banner = stripped[2:]
        elif stripped and not stripped.startswith("#"):
            if banner:
                banners[" ".join(stripped.split())] = banner
            banner = None
    return banners


class BuildRelay:
    """Turns Docker's build stream into Heroku-style output lines."""

    def __init__(self, out: Output, banners: dict[str, str]) -> None:
        self.out = out
        self.banners = banners
        self.step = ""
        self.reused = 0

    def relay(self, stream: Any) -> int:
        """Print the build's output; return how many layers came from cache."""
        for chunk in stream:
            if "error" in chunk:
                raise BuildFailed(f"The build failed: {chunk['error'].strip()}")
            for line in str(chunk.get("stream", "")).splitlines():
                self._line(line.rstrip())
        return self.reused

    def _line(self, line: str) -> None:
        step = STEP.match(line)
        if step:
            self.step = " ".join(step.group(1).split())
            banner = self.banners.get(self.step)
            if banner:
                self.out(banner)
            return
        if line.strip() == "---> Using cache":
            self.reused += 1
            if self.step in self.banners:
                self.out("       Reused from the cache: nothing changed")
            return
        if not line.strip() or line.lstrip().startswith("--->"):
            return
        if line.startswith(NOISE):
            return
        self.out(f"       {line.strip()}")


def read_healthcheck(source: Path, out: Output) -> HealthCheck | None:
    """Read the web health check from ``paas.yaml``, if it declares one.

    Raises:
        BuildFailed: ``paas.yaml`` or its healthcheck section is invalid.
    """
    try:
        check = parse_healthcheck(load_app_config(source).get("healthcheck"))
    except InvalidInput as exc:
        raise BuildFailed(exc.message) from exc
    if check is not None:
        out(f"-----> Health check: GET {check.path} must answer {check.status}")
    return check


def discover_process_types(
    source: Path, buildpack: Buildpack, out: Output
) -> dict[str, str]:
    """Read the Procfile (or the buildpack's defaults) and report it.

    Raises:
        BuildFailed: the Procfile has a line that is not a declaration.
    """
    out("-----> Discovering process types")
    procfile = source / "Procfile"
    declared: dict[str, str] = {}
    if procfile.is_file():
        try:
            declared = parse_procfile(procfile.read_text(errors="replace"))
        except InvalidInput as exc:
            raise BuildFailed(exc.message) from exc
    elif any(path.name.lower() == "procfile" for path in source.iterdir()):
        out("       Mis-cased procfile detected; ignoring.")
        out("       Rename it to Procfile to have it honored.")
    out(f"       Procfile declares types -> {', '.join(sorted(declared)) or '(none)'}")
    defaults = buildpack.default_process_types
    if defaults:
        out(f"       Default types for buildpack -> {', '.join(sorted(defaults))}")
    return defaults | declared
