"""The builder: a pushed source tree in, an image and its process types out.

Output goes to a callback line by line, in Heroku's shape: ``-----> Step``
banners and detail lines indented by seven spaces.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from paas.build_env import BuildSettings, write_env_files
from paas.buildpacks import (
    Buildpack,
    detect_all,
    detect_buildpack,
    find_buildpack,
    render_dockerfile,
)
from paas.buildplans import BuildPlan, make_plan
from paas.buildplans.dockerfile import web_command, wrap_command
from paas.errors import BackendUnavailable, BuildFailed, InvalidInput
from paas.healthcheck import HealthCheck, load_app_config, parse_healthcheck
from paas.procfile import parse_procfile
from paas.runtime_images import base_image

logger = logging.getLogger(__name__)

Output = Callable[[str], None]
BUILD_STAGE = re.compile(r"^FROM\s+\S+\s+AS\s+build\s*$", re.MULTILINE | re.IGNORECASE)
STEP = re.compile(r"^Step \d+/\d+ : (.*)$")
# The classic builder colours a step's stderr with ANSI escapes.
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOCAL_REGISTRIES = ("127.0.0.1", "localhost")
# Runtime images (paas/runtime_images.py): the only local images besides
# the stack that a Dockerfile app may start from.
RUNTIME_PREFIX = "paas/runtime-"


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
        BuildFailed: the archive is not a tar, holds no files or holds an
            unsafe path.
    """
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError) as exc:
        link = exc.tarinfo
        raise BuildFailed(
            f"The push has a symlink {link.name!r} -> {link.linkname!r} that "
            "points outside the repo, where builds cannot reach: commit the "
            "file itself instead."
        ) from exc
    except (tarfile.TarError, OSError) as exc:
        if holds_no_files(archive):
            raise BuildFailed(NO_FILES) from exc
        raise BuildFailed(f"Could not unpack the pushed source: {exc}.") from exc
    if not destination.is_dir() or not any(destination.iterdir()):
        raise BuildFailed(NO_FILES)


NO_FILES = "The pushed commit has no files: add your app's code and push again."


def holds_no_files(archive: Path) -> bool:
    """Tell whether a tarball is empty but for a pax global header.

    ``git archive`` of a commit without files writes just that header (the
    commit id) and end-of-archive blocks, which ``tarfile`` cannot open.
    """
    if archive.stat().st_size > 1 << 20:
        return False
    data = archive.read_bytes()
    if data[156:157] == b"g":
        try:
            size = int(data[124:136].strip(b"\0 ") or b"0", 8)
        except ValueError:
            return False
        data = data[512 + (size + 511) // 512 * 512 :]
    return not any(data)


class Builder:
    """Turns source trees into images on a Docker engine."""

    def __init__(
        self,
        client: docker.DockerClient,
        platform_id: str,
        stack: str,
        settings: BuildSettings | None = None,
    ):
        self.client = client
        self.platform_id = platform_id
        self.stack = stack
        self.settings = settings or BuildSettings()
        self._banners: dict[str, str] = {}

    def build(
        self,
        app: str,
        build_id: str,
        source: Path,
        out: Output,
        pinned_buildpack: str | None = None,
        config_vars: dict[str, str] | None = None,
    ) -> BuildResult:
        """Build the image of one pushed commit.

        ``config_vars`` reach the build as env files (see ``paas.build_env``).

        Raises:
            BuildFailed: no buildpack applies, the Procfile is bad, the
                Dockerfile build failed or ran past the build timeout.
        """
        buildpack = self._choose_buildpack(source, out, pinned_buildpack)
        plan = make_plan(buildpack, source, out)
        base = base_image(self.client, buildpack, self.stack, out)
        if plan.own_dockerfile:
            self._check_bases(plan.variables["bases"])
        process_types = discover_process_types(
            source, buildpack, out, plan.process_types
        )
        healthcheck = read_healthcheck(source, out)
        image = f"paas/{app}:{build_id}"
        self._prepare_context(source, buildpack, app, plan, base)
        self._write_build_env(source, config_vars or {})
        out(f"-----> Building image {image} on the {self.stack} stack")
        dockerfile = plan.own_dockerfile or ".paas/Dockerfile"
        labels = self._labels(app, build_id)
        reused = self._docker_build(source, image, labels, out, dockerfile)
        if plan.own_dockerfile:
            process_types = self._image_processes(image, labels, process_types, out)
        if reused:
            out(f"       Reused {reused} cached layer(s)")
        return BuildResult(image, buildpack.name, process_types, reused, healthcheck)

    def _choose_buildpack(
        self, source: Path, out: Output, pinned: str | None
    ) -> Buildpack:
        if pinned:
            out(f"-----> Using buildpack: {pinned}")
            buildpack = find_buildpack(pinned)
            if buildpack.detect(source) is None:
                raise BuildFailed(
                    f"This app builds with the {buildpack.name} buildpack (set "
                    "by 'paas buildpacks:set' or its first push), but this push "
                    f"has none of its files: {', '.join(buildpack.any_of)}. Add "
                    "one, or run 'paas buildpacks:clear' to detect the buildpack "
                    "again."
                )
        else:
            out("-----> Determining which buildpack to use for this app")
            buildpack, marker = detect_buildpack(source)
            out(f"       Found {marker}")
            for other, also in detect_all(source)[1:]:
                out(f"       Also found {also}: 'paas buildpacks:set {other.name}'")
                out(f"       builds it with the {other.display_name} buildpack instead")
        out(f"-----> {buildpack.display_name} app detected")
        return buildpack

    def _prepare_context(
        self,
        source: Path,
        buildpack: Buildpack,
        app: str,
        plan: BuildPlan | None = None,
        base: str | None = None,
    ) -> None:
        plan = plan or BuildPlan()
        meta = source / ".paas"
        if meta.exists():
            shutil.rmtree(meta)
        meta.mkdir()
        self._copy_ca_bundle(meta / "ca-bundle.crt")
        for name, text in plan.files.items():
            (meta / name).write_text(text)
        if plan.own_dockerfile:
            self._banners = {}
        else:
            dockerfile = render_dockerfile(
                buildpack,
                source,
                app=app,
                stack=self.stack,
                base=base,
                variables=plan.variables,
            )
            (meta / "Dockerfile").write_text(dockerfile)
            self._banners = step_banners(dockerfile)
        ignored = [".git", ".paas/Dockerfile", ".dockerignore", *buildpack.ignore]
        ignore = source / ".dockerignore"
        existing = ignore.read_text() if ignore.exists() else ""
        ignore.write_text(existing + "\n" + "\n".join(ignored) + "\n")

    def _copy_ca_bundle(self, target: Path) -> None:
        try:
            shutil.copyfile(self.settings.ca_bundle, target)
        except OSError as exc:
            raise BuildFailed(
                f"The build CA bundle {str(self.settings.ca_bundle)!r} cannot be "
                f"read ({exc.strerror}): set PAAS_BUILD_CA_BUNDLE to a PEM file."
            ) from exc

    def _write_build_env(self, source: Path, config_vars: dict[str, str]) -> None:
        dockerfile = source / ".paas" / "Dockerfile"
        if dockerfile.is_file():
            operator = self.settings.operator_env()
            write_env_files(source, dockerfile.read_text(), operator, config_vars)

    def _labels(self, app: str, build_id: str) -> dict[str, str]:
        return {
            "paas.platform": self.platform_id,
            "paas.app": app,
            "paas.build": build_id,
        }

    def _docker_build(
        self,
        source: Path,
        image: str,
        labels: dict[str, str],
        out: Output,
        dockerfile: str = ".paas/Dockerfile",
    ) -> int:
        show_steps = not self._banners
        with BuildDeadline(self.client, self.settings.timeout) as deadline:
            try:
                relay = BuildRelay(out, self._banners, show_steps, deadline)
                if BUILD_STAGE.search((source / dockerfile).read_text()):
                    # Kept under a tag of its own: untagged, the next prune
                    # of dangling images would drop this stage's cache.
                    cache = f"paas-cache/{labels['paas.app']}:build"
                    self._run_build(source, dockerfile, cache, labels, relay)
                    quiet = BuildRelay(lambda line: None, {}, False, deadline)
                    self._run_build(source, dockerfile, image, labels, quiet, None)
                else:
                    self._run_build(source, dockerfile, image, labels, relay, None)
                return relay.reused
            except BuildFailed:
                deadline.check()
                raise
            except docker.errors.APIError as exc:
                deadline.check()
                raise BuildFailed(f"The Docker build failed: {exc}.") from exc
            except docker.errors.DockerException as exc:
                raise BackendUnavailable(f"The Docker engine failed: {exc}.") from exc

    def _run_build(
        self,
        source: Path,
        dockerfile: str,
        tag: str,
        labels: dict[str, str],
        relay: BuildRelay,
        target: str | None = "build",
    ) -> int:
        stream = self.client.api.build(
            path=str(source),
            dockerfile=dockerfile,
            tag=tag,
            labels=labels,
            rm=True,
            forcerm=True,
            decode=True,
            target=target,
            # The engine's read timeout must not cut a quiet step short.
            timeout=int(self.settings.timeout) + 60,
        )
        return relay.relay(stream)

    def _check_bases(self, bases: list[str]) -> None:
        """Let a Dockerfile read only the stack, the runtime images and the
        operator's registries.

        Other images on this machine are other apps' releases and build
        caches, which hold their code and config vars. And a FROM of a public
        image would wait on a registry that cannot answer.

        Raises:
            BuildFailed: the Dockerfile names another image.
        """
        for base in bases:
            if "$" in base:
                raise BuildFailed(
                    f"The Dockerfile names the image {base!r} with a variable: "
                    "name the image itself."
                )
            if self._from_registry(base):
                continue
            allowed = base == self.stack or base.startswith(RUNTIME_PREFIX)
            try:
                self.client.images.get(base)
            except docker.errors.ImageNotFound:
                allowed = False
                why = (
                    "is not on this machine, and no public image registry is reachable"
                )
            except docker.errors.DockerException as exc:
                raise BackendUnavailable(f"The Docker engine failed: {exc}.") from exc
            else:
                why = "is not an image apps may build on"
            if not allowed:
                raise BuildFailed(
                    f"The Dockerfile starts FROM (or copies from) {base!r}, which "
                    f"{why}. Start FROM one of: {', '.join(self._local_bases())}, "
                    "or an image in the operator's registry."
                )

    @staticmethod
    def _from_registry(base: str) -> bool:
        # Images of the operator's registries are theirs to offer, except
        # the release images paas pushes there (other apps' code).
        host, _, path = base.partition("/")
        if host.split(":")[0] not in LOCAL_REGISTRIES or not path:
            return False
        return not path.startswith(("paas/", "paas-cache/"))

    def _local_bases(self) -> list[str]:
        runtimes = self.client.images.list(filters={"label": "paas.runtime"})
        tags = {tag for image in runtimes for tag in image.tags}
        return [self.stack, *sorted(t for t in tags if t.startswith(RUNTIME_PREFIX))]

    def _image_processes(
        self,
        image: str,
        labels: dict[str, str],
        declared: dict[str, str],
        out: Output,
    ) -> dict[str, str]:
        """Make the image's CMD the web process, unless the Procfile has one."""
        try:
            config = self.client.images.get(image).attrs.get("Config") or {}
        except docker.errors.DockerException as exc:
            raise BackendUnavailable(f"The Docker engine failed: {exc}.") from exc
        # TODO: an image without /bin/bash builds, but its dynos cannot start
        # (they run their command with bash -c); checking costs a container.
        entrypoint = list(config.get("Entrypoint") or [])
        processes = {
            name: wrap_command(entrypoint, command) if entrypoint else command
            for name, command in declared.items()
        }
        web = web_command(config)
        if "web" not in processes and web is not None:
            processes["web"] = web
            out(f"       Image CMD and ENTRYPOINT -> web: {web}")
        elif "web" not in processes:
            out(" !     The image runs no server (no CMD of its own): add a CMD")
            out("       to the Dockerfile or a 'web:' line to the Procfile.")
        if entrypoint:
            # Dynos run their command with /bin/bash -c; the ENTRYPOINT is
            # folded into each command above.
            reset = f"FROM {image}\nENTRYPOINT []\n"
            self._docker_build_file(reset, image, labels)
        return processes

    def _docker_build_file(
        self, dockerfile: str, image: str, labels: dict[str, str]
    ) -> None:
        try:
            stream = self.client.api.build(
                fileobj=io.BytesIO(dockerfile.encode()),
                tag=image,
                labels=labels,
                rm=True,
                forcerm=True,
                decode=True,
            )
            BuildRelay(lambda line: None, {}).relay(stream)
        except docker.errors.DockerException as exc:
            raise BuildFailed(f"The Docker build failed: {exc}.") from exc


NOISE = ("Removing intermediate container", "Successfully built", "Successfully tagged")
RUNNING = "---> Running in "


class BuildDeadline:
    """Stops a Docker build that runs past the build timeout.

    The classic builder has no timeout of its own: when time is up, the
    container of the running step is killed, which fails the build.
    """

    def __init__(self, client: docker.DockerClient, seconds: float) -> None:
        self.client = client
        self.seconds = seconds
        self.expired = False
        self.container: str | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> BuildDeadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def watch(self, container: str) -> None:
        """Note the container of the step now running; kill it if time is up."""
        with self._lock:
            self.container = container
            expired = self.expired
        if expired:
            self._kill(container)

    def check(self) -> None:
        """Raise if the build ran out of time.

        Raises:
            BuildFailed: the timeout passed.
        """
        if self.expired:
            raise BuildFailed(
                f"The build took longer than {self.seconds:g} s and was stopped "
                "(PAAS_BUILD_TIMEOUT); nothing was released. Make the build "
                "faster, or ask the operator to raise the timeout."
            )

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            container = self.container
        logger.warning("A build ran past %g s; stopping it", self.seconds)
        if container is not None:
            self._kill(container)

    def _kill(self, container: str) -> None:
        try:
            self.client.api.kill(container)
        except docker.errors.DockerException as exc:
            logger.debug("Could not kill build container %s: %s", container, exc)


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

    def __init__(
        self,
        out: Output,
        banners: dict[str, str],
        show_steps: bool = False,
        deadline: BuildDeadline | None = None,
    ) -> None:
        self.out = out
        self.banners = banners
        self.show_steps = show_steps
        self.deadline = deadline
        self.step = ""
        self.reused = 0

    def relay(self, stream: Any) -> int:
        """Print the build's output; return how many layers came from cache."""
        for chunk in stream:
            if self.deadline is not None:
                self.deadline.check()
            if "error" in chunk:
                error = chunk["error"].strip()
                banner = self.banners.get(self.step, "").removeprefix("-----> ")
                if banner:
                    raise BuildFailed(f"The build failed at '{banner}': {error}")
                raise BuildFailed(f"The build failed: {error}")
            for line in str(chunk.get("stream", "")).splitlines():
                self._line(ANSI.sub("", line).rstrip())
        return self.reused

    def _line(self, line: str) -> None:
        step = STEP.match(line)
        if step:
            self.step = " ".join(step.group(1).split())
            banner = self.banners.get(self.step)
            if banner:
                self.out(banner)
            elif self.show_steps:
                self.out(f"-----> {self.step}")
            return
        if line.strip() == "---> Using cache":
            self.reused += 1
            if self.step in self.banners or self.show_steps:
                self.out("       Reused from the cache: nothing changed")
            return
        if line.strip().startswith(RUNNING) and self.deadline is not None:
            self.deadline.watch(line.strip()[len(RUNNING) :])
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
    source: Path,
    buildpack: Buildpack,
    out: Output,
    defaults: dict[str, str] | None = None,
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
    if defaults is None:
        defaults = buildpack.default_process_types
    if defaults:
        out(f"       Default types for buildpack -> {', '.join(sorted(defaults))}")
    return defaults | declared
