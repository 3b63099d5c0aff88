"""Runtime images: a buildpack's language runtime from Debian, built once.

A buildpack with ``runtime.packages`` builds on ``paas/runtime-<name>:<version>-
<stack>``, an image made from the stack by installing those packages. It is
built on the first push that needs it (its output goes to that push) and
reused by every later build. A label holds a digest of the rendered
Dockerfile and the stack image, so a changed definition or a rebuilt stack
builds the image again.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections.abc import Callable

import docker
import docker.errors
import jinja2

from paas.buildpacks import TEMPLATES_DIR, Buildpack
from paas.errors import BackendUnavailable, BuildFailed

logger = logging.getLogger(__name__)

Output = Callable[[str], None]
DIGEST_LABEL = "paas.runtime.digest"
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def runtime_tag(buildpack: Buildpack, stack: str) -> str:
    """Return the tag of a buildpack's runtime image on a stack."""
    if buildpack.runtime is None:
        raise BuildFailed(f"Buildpack {buildpack.name!r} has no runtime.")
    suite = stack.rpartition(":")[2] or "latest"
    return f"paas/runtime-{buildpack.name}:{buildpack.runtime.version}-{suite}"


def render_runtime_dockerfile(buildpack: Buildpack, stack: str) -> str:
    """Render the Dockerfile of a buildpack's runtime image."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    template = environment.get_template("runtimes/runtime.Dockerfile.j2")
    return template.render(buildpack=buildpack, runtime=buildpack.runtime, stack=stack)


def base_image(
    client: docker.DockerClient, buildpack: Buildpack, stack: str, out: Output
) -> str:
    """Return the image a buildpack's builds start from, building it if needed.

    The stack itself when the buildpack adds no packages.

    Raises:
        BuildFailed: the runtime image could not be built.
        BackendUnavailable: the Docker engine failed.
    """
    runtime = buildpack.runtime
    if runtime is None or not runtime.packages:
        return stack
    tag = runtime_tag(buildpack, stack)
    dockerfile = render_runtime_dockerfile(buildpack, stack)
    # A rebuilt stack image changes the digest too, so runtimes follow it.
    source = dockerfile + _image_id(client, stack)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    with _lock(tag):
        if _current(client, tag, digest):
            out(f"       Runtime image {tag}, built before: reused")
            return tag
        # TODO: check the installed version against runtime.version; engines
        # and go.mod checks trust the YAML, and a Debian point release can
        # move the patch level under it.
        out(f"-----> Building the {runtime.name} runtime image {tag}")
        out("       Once per machine; later builds reuse it")
        _build(client, tag, dockerfile, buildpack.name, digest, out)
    return tag


def _lock(tag: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(tag, threading.Lock())


def _image_id(client: docker.DockerClient, image: str) -> str:
    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound as exc:
        raise BuildFailed(
            f"The stack image {image!r} is missing: run 'deploy/setup' to build it."
        ) from exc
    except docker.errors.DockerException as exc:
        raise BackendUnavailable(f"The Docker engine failed: {exc}.") from exc


def _current(client: docker.DockerClient, tag: str, digest: str) -> bool:
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.DockerException as exc:
        raise BackendUnavailable(f"The Docker engine failed: {exc}.") from exc
    return bool(image.labels.get(DIGEST_LABEL) == digest)


def _build(
    client: docker.DockerClient,
    tag: str,
    dockerfile: str,
    name: str,
    digest: str,
    out: Output,
) -> None:
    # Imported here: the builder imports this module.
    from paas.builder import BuildRelay, step_banners

    labels = {"paas.runtime": name, DIGEST_LABEL: digest}
    try:
        stream = client.api.build(
            fileobj=io.BytesIO(dockerfile.encode()),
            tag=tag,
            labels=labels,
            rm=True,
            forcerm=True,
            decode=True,
        )
        BuildRelay(out, step_banners(dockerfile)).relay(stream)
    except docker.errors.APIError as exc:
        raise BuildFailed(f"The runtime image {tag} failed to build: {exc}.") from exc
    except docker.errors.DockerException as exc:
        raise BackendUnavailable(f"The Docker engine failed: {exc}.") from exc
    logger.info("Built runtime image %s", tag)
