"""Pulling images through the operator's registries, and pushing release images.

The Docker engine does the transfer; the registry's v2 API is asked first
whether it has the image, so "not there" and "not reachable" read apart and
no pull is attempted where it cannot succeed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import docker
import docker.errors
import requests.exceptions

from paas.errors import BackendUnavailable, ImageNotFound, PaasError, RegistryError
from paas.registry.client import RegistryClient
from paas.registry.config import Registry, registries_from_env
from paas.registry.refs import ImageRef, parse_ref

logger = logging.getLogger(__name__)

Output = Callable[[str], None]
INDENT = "       "
MB = 1024 * 1024


def pull_image(
    ref: str,
    on_progress: Output,
    *,
    registries: list[Registry] | None = None,
    client: docker.DockerClient | None = None,
) -> str:
    """Pull an image from the first configured registry that has it.

    Args:
        ref: the image as a user names it, such as ``postgres:17``.
        on_progress: called with each line of progress, ready to show.
        registries: where to look, in order; None reads PAAS_REGISTRIES.
        client: the Docker engine; None connects to the local one.

    Returns:
        The reference to run: ``ref`` itself, which the pulled image is
        tagged with; for a digest reference, the image on the registry.
        When no registry has the image but the engine does, ``ref`` too.

    Raises:
        InvalidInput: ``ref`` or the settings are malformed.
        ImageNotFound: no registry has the image; the message says how to
            mirror it.
        RegistryError: a registry that has it failed during the pull.
        BackendUnavailable: the Docker engine did not answer.
    """
    image = parse_ref(ref)
    found = registries_from_env() if registries is None else registries
    misses = []
    for registry in _candidates(image, found):
        where = _locate(registry, image)
        if isinstance(where, str):
            misses.append(where)
            continue
        with _engine(client) as engine:
            _pull(engine, registry, image, on_progress)
            return _retag(engine, image.on(registry.host), ref)
    # Like 'docker run', an image the engine already has still runs when no
    # registry has it (or none answers), e.g. add-ons restarted offline.
    with _engine(client) as engine:
        if _present(engine, ref):
            on_progress(f"{INDENT}Using {ref} from the engine: no registry has it")
            return ref
    raise ImageNotFound(_not_found_message(ref, image, found, misses))


def push_image(
    image_ref: str,
    registry: Registry,
    on_progress: Output,
    *,
    client: docker.DockerClient | None = None,
) -> str:
    """Push a local image to a registry under the same path and tag.

    Returns:
        The reference of the pushed image on the registry.

    Raises:
        RegistryError: the registry refused or failed the push.
        BackendUnavailable: the Docker engine did not answer.
    """
    image = parse_ref(image_ref)
    with _engine(client) as engine:
        return _push(engine, image, image_ref, registry, on_progress)


def _push(
    engine: docker.DockerClient,
    image: ImageRef,
    image_ref: str,
    registry: Registry,
    on_progress: Output,
) -> str:
    target = f"{registry.host}/{image.path}:{image.reference}"
    try:
        engine.api.tag(image_ref, f"{registry.host}/{image.path}", image.reference)
        stream = engine.api.push(
            f"{registry.host}/{image.path}",
            tag=image.reference,
            stream=True,
            decode=True,
            auth_config=registry.auth_config,
        )
        _follow(stream, on_progress, target, "Pushing")
    except docker.errors.APIError as exc:
        raise RegistryError(f"Pushing {target!r} failed: {_reason(exc)}.") from exc
    except requests.exceptions.ConnectionError as exc:
        raise BackendUnavailable(f"The Docker engine did not answer: {exc}.") from exc
    finally:
        _untag(engine, target)
    return target


@contextmanager
def _engine(client: docker.DockerClient | None) -> Iterator[docker.DockerClient]:
    """Yield the given engine client, or one of our own closed afterwards."""
    if client is not None:
        yield client
        return
    try:
        own = docker.from_env(timeout=600)
    except docker.errors.DockerException as exc:
        raise BackendUnavailable(f"The Docker engine did not answer: {exc}.") from exc
    try:
        yield own
    finally:
        own.close()


def _candidates(image: ImageRef, registries: list[Registry]) -> Iterable[Registry]:
    # A reference naming one of our registries goes there first; otherwise
    # every registry is tried as a mirror of the image's own one.
    named = [r for r in registries if r.host == image.host]
    return named + [r for r in registries if r.host != image.host]


def _locate(registry: Registry, image: ImageRef) -> str | None:
    """Return None if the registry has the image, else why not."""
    try:
        with RegistryClient(registry) as client:
            digest = client.digest(image.repository, image.reference)
    except PaasError as exc:
        logger.info("Registry %s skipped for %s: %s", registry.host, image, exc)
        return f"{registry.host}: {exc.message}"
    if digest is None:
        return f"{registry.host}: no {image.repository}:{image.reference}"
    return None


def _pull(
    engine: docker.DockerClient, registry: Registry, image: ImageRef, out: Output
) -> None:
    source = image.on(registry.host)
    out(f"{INDENT}Pulling {image} from {registry.host}")
    try:
        stream = engine.api.pull(
            f"{registry.host}/{image.repository}",
            tag=image.reference,
            stream=True,
            decode=True,
            auth_config=registry.auth_config,
        )
        _follow(stream, out, source, "Pulling")
    except docker.errors.APIError as exc:
        raise RegistryError(f"Pulling {source!r} failed: {_reason(exc)}.") from exc
    except requests.exceptions.ConnectionError as exc:
        raise BackendUnavailable(f"The Docker engine did not answer: {exc}.") from exc


def _retag(engine: docker.DockerClient, source: str, ref: str) -> str:
    target = parse_ref(ref)
    # A digest cannot be a tag: such an image is run by its registry name.
    if source == ref or target.digest:
        return source
    name = f"{target.host}/{target.path}" if target.host else target.path
    try:
        engine.api.tag(source, name, target.reference)
    except docker.errors.APIError as exc:
        raise BackendUnavailable(
            f"Tagging {source!r} as {ref!r} failed: {exc}."
        ) from exc
    return ref


def _present(engine: docker.DockerClient, ref: str) -> bool:
    try:
        engine.api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        return False
    except (docker.errors.APIError, requests.exceptions.ConnectionError) as exc:
        raise BackendUnavailable(f"The Docker engine did not answer: {exc}.") from exc
    return True


def _untag(engine: docker.DockerClient, ref: str) -> None:
    try:
        engine.api.remove_image(ref, noprune=True)
    except docker.errors.APIError as exc:
        logger.warning("Could not remove the push tag %s: %s", ref, exc)


class Progress:
    """Condense the engine's per-layer progress events into a few lines.

    Each layer gets one line when it starts to download (with its size),
    one when its pull or push completes, and "Already exists" lines are
    counted into one summary.
    """

    def __init__(self, out: Output, ref: str, verb: str = "Pulling") -> None:
        self.out = out
        self.ref = ref
        self.verb = verb
        self.error: str | None = None
        self.started: set[str] = set()
        self.present = 0

    def event(self, event: dict[str, Any]) -> None:
        """Take one decoded event of a pull or push stream."""
        if "error" in event:
            detail = event.get("errorDetail", {}).get("message") or event["error"]
            self.error = self.error or str(detail).rstrip(".")
            return
        status = str(event.get("status", ""))
        layer = str(event.get("id", ""))
        if status in ("Already exists", "Layer already exists"):
            self.present += 1
        elif status in ("Downloading", "Pushing") and layer not in self.started:
            self.started.add(layer)
            total = (event.get("progressDetail") or {}).get("total")
            size = f" ({_size(total)})" if total else ""
            self.out(f"{INDENT}{layer}: {status}{size}")
        elif status in ("Pull complete", "Pushed"):
            self.out(f"{INDENT}{layer}: {status}")
        elif status.startswith(("Digest:", "Status:")) or "digest:" in status:
            self.out(f"{INDENT}{status}")

    def finish(self) -> None:
        """Say how many layers were present already.

        Raises:
            RegistryError: the engine reported an error on the way.
        """
        if self.error:
            raise RegistryError(f"{self.verb} {self.ref!r} failed: {self.error}.")
        if self.present:
            self.out(f"{INDENT}{self.present} layer(s) already present")


def _follow(stream: Iterable[dict[str, Any]], out: Output, ref: str, verb: str) -> None:
    progress = Progress(out, ref, verb)
    # Read to the end even after an error, so the engine's connection is
    # released rather than left open.
    for event in stream:
        progress.event(event)
    progress.finish()


def _size(total: object) -> str:
    if not isinstance(total, int | float):
        return "?"
    if total >= MB:
        return f"{total / MB:.1f} MB"
    return f"{total / 1024:.1f} KB"


def _reason(exc: docker.errors.APIError) -> str:
    return str(exc.explanation or exc).rstrip(".")


def _not_found_message(
    ref: str, image: ImageRef, registries: list[Registry], misses: list[str]
) -> str:
    if not registries:
        where = "no registry is configured (PAAS_REGISTRIES is empty)"
    else:
        where = "none of the registries has it (" + "; ".join(misses) + ")"
    first = registries[0].host if registries else "127.0.0.1:5000"
    mirror = image.on(first)
    return (
        f"Image {ref!r} is not in reach: {where}. Mirror it: run "
        f"'deploy/registry-fill' for postgres, redis and memcached, or on a "
        f"machine with the image run 'docker tag {ref} {mirror}' and "
        f"'docker push {mirror}'."
    )
