"""Add-on containers on the local Docker engine.

Each resource runs as one container with a named volume for its data. It
joins the private network of every app it is attached to under a network
alias (its resource name), so apps reach it by name and nothing is
published on the host. Containers and volumes carry the labels
``paas.platform`` and ``paas.addon``; they are found by label.
"""

from __future__ import annotations

import base64
import http.client
import logging
import re
import shlex
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import docker
import docker.errors
import requests
from docker.models.containers import Container

from paas.addons.spec import AddonSpec
from paas.errors import BackendUnavailable, DeployFailed, PaasError
from paas.registry import pull_image

logger = logging.getLogger(__name__)

Output = Callable[[str], None]
Puller = Callable[[str, Output], str]
STOP_TIMEOUT = 10
LOG_LINES = 15


class AddonEngine:
    """Runs add-on containers and checks their health."""

    def __init__(
        self,
        client: docker.DockerClient,
        platform_id: str,
        pull: Puller | None = None,
        proc: Path = Path("/proc/sys"),
    ) -> None:
        self.client = client
        self.platform_id = platform_id
        self._pull = pull
        self.proc = proc

    def container_name(self, resource: str) -> str:
        """Return the name of a resource's container."""
        return f"paas-{self.platform_id}-addon-{resource}"

    def volume_name(self, resource: str) -> str:
        """Return the name of a resource's data volume."""
        return f"paas-{self.platform_id}-addon-{resource}"

    def labels(self, spec: AddonSpec, owner: str) -> dict[str, str]:
        """Return the labels of a resource's container and volume."""
        return {
            "paas.platform": self.platform_id,
            "paas.addon": spec.resource,
            "paas.addon.service": spec.service,
            "paas.addon.owner": owner,
        }

    # before starting

    def check_host(self, spec: AddonSpec) -> list[str]:
        """Return what the host lacks for a service (kernel settings)."""
        problems = []
        for key, minimum in spec.sysctls.items():
            path = self.proc / key.replace(".", "/")
            try:
                value = int(path.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if value < minimum:
                problems.append(
                    f"The host's {key} is {value}, below the {minimum} "
                    f"{spec.service} needs: run 'sysctl -w {key}={minimum}' as "
                    f"root (and add '{key} = {minimum}' to /etc/sysctl.conf "
                    "to keep it)."
                )
        return problems

    def fetch_image(self, ref: str, out: Output) -> str:
        """Pull an image through the configured registries.

        Returns:
            The reference to run.

        Raises:
            PaasError: no registry has the image.
        """
        if self._pull is not None:
            return self._pull(ref, out)
        return pull_image(ref, out, client=self.client)

    # containers

    def start(self, spec: AddonSpec, owner: str, networks: list[str]) -> None:
        """Create the volume (kept if it exists) and start the container.

        Args:
            spec: what to run.
            owner: the app the resource belongs to.
            networks: the app networks to join; the first is joined at start.

        Raises:
            DeployFailed: the engine refused the container.
        """
        if spec.volume_path:
            self._ensure_volume(spec.resource, self.labels(spec, owner))
        options = self.run_options(spec, owner, networks)
        try:
            self.client.containers.run(**options)
        except docker.errors.DockerException as exc:
            raise DeployFailed(
                f"Could not start add-on {spec.resource!r}: {_reason(exc)}"
            ) from exc
        for network in networks[1:]:
            self.connect(spec.resource, network, spec.alias)
        logger.info("Started add-on %s (%s)", spec.resource, spec.service)

    def run_options(
        self, spec: AddonSpec, owner: str, networks: list[str]
    ) -> dict[str, Any]:
        """Return the arguments of ``containers.run`` for a resource."""
        volumes = {}
        if spec.volume_path:
            bind = {"bind": spec.volume_path, "mode": "rw"}
            volumes[self.volume_name(spec.resource)] = bind
        # A resource attached nowhere still runs, on no network at all.
        first = networks[0] if networks else "none"
        endpoints = {}
        if networks:
            aliases = [spec.alias]
            endpoints[first] = self.client.api.create_endpoint_config(aliases=aliases)
        return {
            "image": spec.image,
            "command": shlex.split(spec.command) if spec.command else None,
            "detach": True,
            "name": self.container_name(spec.resource),
            "hostname": spec.alias,
            "environment": spec.environment,
            "labels": self.labels(spec, owner),
            "volumes": volumes,
            "network": first,
            "networking_config": endpoints or None,
            "mem_limit": f"{spec.memory_mb}m",
            "memswap_limit": f"{spec.memory_mb}m",
        }

    def _ensure_volume(self, resource: str, labels: dict[str, str]) -> str:
        name = self.volume_name(resource)
        try:
            self.client.volumes.get(name)
        except docker.errors.NotFound:
            self.client.volumes.create(name=name, labels=labels)
        return name

    def connect(self, resource: str, network: str, alias: str) -> None:
        """Join a resource's container to an app network under an alias.

        Raises:
            BackendUnavailable: the engine refused.
        """
        try:
            found = self.client.networks.get(network)
            container = self._container(resource)
            if container is None:
                raise BackendUnavailable(f"Add-on {resource!r} has no container.")
            if network in _networks(container):
                return
            found.connect(container, aliases=[alias])
        except docker.errors.DockerException as exc:
            raise BackendUnavailable(
                f"Could not connect {resource!r} to {network!r}: {_reason(exc)}"
            ) from exc

    def disconnect(self, resource: str, network: str) -> None:
        """Take a resource's container off an app network, if it is on it."""
        container = self._container(resource)
        if container is None or network not in _networks(container):
            return
        try:
            self.client.networks.get(network).disconnect(container, force=True)
        except docker.errors.NotFound:
            return
        except docker.errors.DockerException as exc:
            raise BackendUnavailable(
                f"Could not disconnect {resource!r} from {network!r}: {_reason(exc)}"
            ) from exc

    def remove(self, resource: str, keep_volume: bool = False) -> None:
        """Stop and remove a resource's container and (unless kept) its volume."""
        container = self._container(resource)
        try:
            if container is not None:
                # v=True removes anonymous volumes of the image's other VOLUME
                # paths; the named data volume stays until removed below.
                container.remove(force=True, v=True)
            if not keep_volume:
                self._remove_volume(resource)
        except docker.errors.DockerException as exc:
            raise BackendUnavailable(
                f"Could not remove add-on {resource!r}: {_reason(exc)}"
            ) from exc
        logger.info("Removed add-on %s", resource)

    def _remove_volume(self, resource: str) -> None:
        try:
            self.client.volumes.get(self.volume_name(resource)).remove(force=True)
        except docker.errors.NotFound:
            return

    def has_volume(self, resource: str) -> bool:
        """Tell whether a resource's data volume exists."""
        try:
            self.client.volumes.get(self.volume_name(resource))
        except docker.errors.NotFound:
            return False
        return True

    def state(self, resource: str) -> str:
        """Return ``running``, ``exited`` (or another engine state) or ``missing``."""
        container = self._container(resource)
        return "missing" if container is None else str(container.status)

    def restart(self, spec: AddonSpec, owner: str, networks: list[str]) -> None:
        """Start a stopped container again, or recreate a missing one."""
        container = self._container(spec.resource)
        if container is None:
            self.start(spec, owner, networks)
            return
        try:
            container.start()
        except docker.errors.DockerException as exc:
            raise BackendUnavailable(
                f"Could not start add-on {spec.resource!r}: {_reason(exc)}"
            ) from exc
        for network in networks:
            self.connect(spec.resource, network, spec.alias)

    def logs(self, resource: str, lines: int = 100) -> list[str]:
        """Return the last lines a resource's container printed."""
        container = self._container(resource)
        if container is None:
            return []
        raw: bytes = container.logs(tail=lines)
        return raw.decode("utf-8", "replace").splitlines()

    def _container(self, resource: str) -> Container | None:
        try:
            return self.client.containers.get(self.container_name(resource))
        except docker.errors.NotFound:
            return None
        except (docker.errors.APIError, requests.exceptions.ConnectionError) as exc:
            message = f"The Docker engine did not answer: {exc}"
            raise BackendUnavailable(message) from exc

    # health

    def wait_healthy(self, spec: AddonSpec, network: str, out: Output) -> None:
        """Wait until a resource passes its health check.

        Raises:
            DeployFailed: it exited or did not pass in time; the message
                carries its last log lines.
        """
        timeout = float(spec.healthcheck.get("timeout") or 60)
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            container = self._container(spec.resource)
            if container is None or container.status not in ("created", "running"):
                self._fail(spec, "exited before it was healthy")
            last = self._probe(spec, container, network)
            if not last:
                return
            time.sleep(1)
        self._fail(spec, f"was not healthy within {timeout:g} seconds ({last})")

    def _fail(self, spec: AddonSpec, what: str) -> NoReturn:
        tail = self.logs(spec.resource, LOG_LINES)
        shown = "\n".join(f"       {line}" for line in tail) or "       (no output)"
        raise DeployFailed(
            f"Add-on {spec.resource!r} ({spec.image}) {what}. Its last log "
            f"lines:\n{shown}"
        )

    def _probe(self, spec: AddonSpec, container: Container, network: str) -> str:
        """Run one check; return what failed, or '' when healthy."""
        check = spec.healthcheck
        try:
            if check.get("command"):
                return _probe_command(container, check["command"], check.get("output"))
            address = _networks(container).get(network)
            if not address:
                return "no address yet"
            if check.get("http"):
                return _probe_http(address, spec.port, check["http"])
            return _probe_tcp(address, spec.port)
        except docker.errors.DockerException as exc:
            return _reason(exc)


def _probe_command(container: Container, command: list[str], output: str | None) -> str:
    code, printed = container.exec_run(command)
    text = (printed or b"").decode("utf-8", "replace").strip()
    if code != 0:
        return f"{shlex.join(command)} exited with {code}"
    if output and output not in text:
        return f"{shlex.join(command)} did not print {output!r}"
    return ""


def _probe_http(address: str, port: int, check: dict[str, str]) -> str:
    headers = {}
    if check.get("user"):
        pair = f"{check['user']}:{check.get('password', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    connection = http.client.HTTPConnection(address, port, timeout=5)
    try:
        connection.request("GET", check.get("path", "/"), headers=headers)
        response = connection.getresponse()
        body = response.read(65536).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        return f"GET {check.get('path', '/')}: {exc}"
    finally:
        connection.close()
    if response.status != 200:
        return f"GET {check.get('path', '/')} answered {response.status}"
    if check.get("body") and not re.search(check["body"], body):
        return f"GET {check.get('path', '/')} did not match {check['body']!r}"
    return ""


def _probe_tcp(address: str, port: int) -> str:
    try:
        with socket.create_connection((address, port), timeout=2):
            return ""
    except OSError as exc:
        return f"port {port}: {exc}"


def _networks(container: Container) -> dict[str, str]:
    container.reload()
    found = container.attrs.get("NetworkSettings", {}).get("Networks", {}) or {}
    return {name: (data or {}).get("IPAddress", "") for name, data in found.items()}


def _reason(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


def mirror_hint(ref: str) -> str:
    """Tell an operator how to bring an image into reach of the platform."""
    return (
        f"To use it, mirror {ref!r} into a registry the platform pulls from: "
        f"on a machine that reaches it run 'docker pull {ref}' and "
        f"'docker save {ref} -o image.tar', copy image.tar here, then "
        f"'docker load -i image.tar', 'docker tag {ref} 127.0.0.1:5000/"
        f"{_path(ref)}' and 'docker push 127.0.0.1:5000/{_path(ref)}'."
    )


def _path(ref: str) -> str:
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return rest
    return ref if "/" in ref else f"library/{ref}"


def translate_pull_error(exc: Exception, ref: str) -> PaasError:
    """Return an error that names the image and how to mirror it.

    The registry module's own error already does when it names the image.
    """
    if isinstance(exc, PaasError) and ref in exc.message:
        return exc
    message = exc.message if isinstance(exc, PaasError) else _reason(exc)
    error = BackendUnavailable(
        f"Could not pull {ref!r}: {message.rstrip('.')}. {mirror_hint(ref)}"
    )
    if isinstance(exc, PaasError):
        error.status_code = exc.status_code
    return error
