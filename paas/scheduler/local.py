"""Dynos as containers on the local Docker engine."""

from __future__ import annotations

import logging
import secrets
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import docker
import docker.errors
import requests
from docker.models.containers import Container
from docker.models.networks import Network

from paas.errors import BackendUnavailable, DeployFailed
from paas.scheduler.base import (
    DEFAULT_SIZE,
    DYNO_PORT,
    DYNO_SIZES,
    Dyno,
    DynoSpec,
    SchedulerBackend,
)

logger = logging.getLogger(__name__)


def connect_engine() -> docker.DockerClient:
    """Return a client of the local Docker engine.

    Raises:
        BackendUnavailable: no engine answers on the socket.
    """
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        raise BackendUnavailable(
            f"The Docker engine does not answer ({exc}). "
            "Run 'deploy/setup' to install and start it."
        ) from exc
    return client


class LocalBackend(SchedulerBackend):
    """Runs each dyno as a container on the app's own bridge network."""

    def __init__(self, client: docker.DockerClient, platform_id: str) -> None:
        self.client = client
        self.platform_id = platform_id

    def network_name(self, app: str) -> str:
        """Return the name of an app's private network."""
        return f"paas-{self.platform_id}-{app}"

    def prepare_app(self, app: str) -> str:
        """Create the app's private network if missing."""
        name = self.network_name(app)
        try:
            if not self._networks_named(name):
                self.client.networks.create(
                    name, driver="bridge", labels=self._labels(app)
                )
        except docker.errors.APIError as exc:
            raise BackendUnavailable(
                f"Could not create network {name!r}: {exc}"
            ) from exc
        return name

    def _networks_named(self, name: str) -> list[Network]:
        # The engine's name filter matches parts of names too: the network
        # of app "shop" must not be found as that of "shop-api".
        found = self.client.networks.list(names=[name])
        return [network for network in found if network.name == name]

    def _labels(self, app: str) -> dict[str, str]:
        return {"paas.platform": self.platform_id, "paas.app": app}

    def start_dyno(self, spec: DynoSpec) -> Dyno:
        """Start one dyno as a container with the size's limits."""
        size = DYNO_SIZES.get(spec.size, DYNO_SIZES[DEFAULT_SIZE])
        labels = self._labels(spec.app) | {
            "paas.release": str(spec.release),
            "paas.process_type": spec.process_type,
            "paas.dyno": spec.name,
            "paas.command": spec.command,
            "paas.size": size.name,
            "paas.image": spec.image,
            "paas.one_off": "1" if spec.one_off else "0",
            "paas.detached": "1" if spec.detached else "0",
        }
        suffix = secrets.token_hex(3)
        name = f"paas-{self.platform_id}-{spec.app}-{spec.name}-{suffix}"
        options: dict[str, Any] = {
            "name": name,
            "environment": spec.env,
            "labels": labels,
            "network": spec.network or self.network_name(spec.app),
            "init": True,
            "mem_limit": f"{size.memory_mb}m",
            "memswap_limit": f"{size.memory_mb}m",
            "cpu_shares": size.cpu_shares,
            "pids_limit": size.pids_limit,
            "hostname": spec.name.replace(".", "-"),
            "stop_signal": "SIGTERM",
            "tty": spec.tty,
            "stdin_open": spec.tty,
        }
        command = ["/bin/bash", "-c", spec.command]
        containers = self.client.containers
        try:
            if spec.tty:
                container = containers.create(spec.image, command, **options)
            else:
                container = containers.run(spec.image, command, detach=True, **options)
        except docker.errors.ImageNotFound as exc:
            raise DeployFailed(f"Image {spec.image!r} is missing: {exc}") from exc
        except docker.errors.APIError as exc:
            raise DeployFailed(f"Could not start {spec.name}: {exc}") from exc
        logger.info(
            "Started dyno %s of %s (release v%d)", spec.name, spec.app, spec.release
        )
        container.reload()
        return self._dyno(container)

    def stop_dyno(self, dyno_id: str, timeout: int) -> int | None:
        """Stop a dyno (SIGTERM, SIGKILL after the timeout) and remove it.

        A dyno already gone, or whose removal another caller started, counts
        as stopped: the engine answers 404 or 409 "already in progress".
        """
        try:
            container = self.client.containers.get(dyno_id)
            if container.status == "running":
                container.stop(timeout=timeout)
                container.reload()
            code = container.attrs.get("State", {}).get("ExitCode")
            # An image's VOLUME paths get anonymous volumes: they go too.
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            if _removal_in_progress(exc):
                self._wait_removed(dyno_id)
                return None
            raise BackendUnavailable(f"Could not stop dyno {dyno_id}: {exc}") from exc
        return int(code) if code is not None else None

    def _wait_removed(self, dyno_id: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get_dyno(dyno_id) is None:
                return
            time.sleep(0.1)
        raise BackendUnavailable(
            f"Dyno {dyno_id} is still being removed after {timeout:g} seconds."
        )

    def list_dynos(self, app: str | None = None) -> list[Dyno]:
        """Return dynos from the engine, found by label."""
        filters = {"label": [f"paas.platform={self.platform_id}", "paas.dyno"]}
        if app is not None:
            filters["label"].append(f"paas.app={app}")
        try:
            containers = self.client.containers.list(
                all=True, filters=filters, ignore_removed=True
            )
        except (docker.errors.APIError, requests.exceptions.ConnectionError) as exc:
            raise BackendUnavailable(f"Could not list dynos: {exc}") from exc
        return [self._dyno(container) for container in containers]

    def get_dyno(self, dyno_id: str) -> Dyno | None:
        """Return one dyno by container id, or None when it is gone."""
        try:
            return self._dyno(self.client.containers.get(dyno_id))
        except docker.errors.NotFound:
            return None

    def follow_logs(self, dyno_id: str, since: float | None) -> Iterator[str]:
        """Yield a dyno's output lines (stdout and stderr) until it exits."""
        try:
            container = self.client.containers.get(dyno_id)
            kwargs: dict[str, Any] = {"stream": True, "follow": True}
            if since is not None:
                kwargs["since"] = since
            stream = container.logs(**kwargs)
        except docker.errors.NotFound:
            return
        pending = b""
        for chunk in stream:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace")
        if pending:
            yield pending.decode("utf-8", "replace")

    def wait_dyno(self, dyno_id: str, timeout: float | None = None) -> int:
        """Wait for a dyno's process to exit and return its exit code."""
        try:
            container = self.client.containers.get(dyno_id)
            result = container.wait(timeout=timeout)
        except (
            requests.exceptions.ReadTimeout,
            requests.exceptions.ConnectionError,
        ) as exc:
            # docker-py reports a wait that outlived its timeout as either.
            raise TimeoutError(f"Dyno {dyno_id} still runs after {timeout}s") from exc
        except docker.errors.NotFound as exc:
            raise DeployFailed(f"Dyno {dyno_id} is gone.") from exc
        return int(result.get("StatusCode", -1))

    def open_terminal(self, dyno_id: str) -> socket.socket:
        """Attach to a created TTY dyno, start it, and return the raw socket."""
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        try:
            attached = self.client.api.attach_socket(dyno_id, params=params)
            self.client.api.start(dyno_id)
        except docker.errors.APIError as exc:
            raise BackendUnavailable(f"Could not attach to {dyno_id}: {exc}") from exc
        # docker-py hands back a SocketIO around the hijacked HTTP connection.
        raw: socket.socket = attached._sock
        raw.setblocking(False)
        return raw

    def resize_terminal(self, dyno_id: str, rows: int, cols: int) -> None:
        """Resize a TTY dyno's terminal."""
        try:
            self.client.api.resize(dyno_id, height=rows, width=cols)
        except docker.errors.APIError as exc:
            logger.debug("Could not resize %s: %s", dyno_id, exc)

    def memory_mb(self) -> int | None:
        """Return the engine host's memory in MB (``docker info`` MemTotal)."""
        try:
            total = self.client.info().get("MemTotal")
        except (docker.errors.APIError, requests.exceptions.ConnectionError) as exc:
            raise BackendUnavailable(
                f"Could not read the engine's memory: {exc}"
            ) from exc
        return int(total) // (1024 * 1024) if total else None

    def remove_app(self, app: str) -> int:
        """Remove an app's containers, network and images; return how many.

        Every step runs even when one fails; the failures are raised
        together at the end.

        Raises:
            BackendUnavailable: something could not be removed.
        """
        failures: list[str] = []
        found = self._remove_dynos(app, failures)
        found += self._remove_network(app, failures)
        found += self._remove_images(app, failures)
        if failures:
            raise BackendUnavailable(
                f"Could not remove {'; '.join(failures)} of {app!r}."
            )
        return found

    def _remove_dynos(self, app: str, failures: list[str]) -> int:
        dynos = self.list_dynos(app)
        for dyno in dynos:
            try:
                self.stop_dyno(dyno.id, timeout=5)
            except BackendUnavailable as exc:
                failures.append(f"dyno {dyno.name}: {exc.message}")
        return len(dynos)

    def _remove_network(self, app: str, failures: list[str]) -> int:
        name = self.network_name(app)
        try:
            networks = self._networks_named(name)
            for network in networks:
                network.remove()
        except docker.errors.NotFound:
            return 0
        except docker.errors.APIError as exc:
            failures.append(f"network {name}: {exc}")
            return 1
        return len(networks)

    def _remove_images(self, app: str, failures: list[str]) -> int:
        label = f"paas.app={app}"
        images = [
            image
            for image in self.client.images.list(filters={"label": label})
            if image.labels.get("paas.platform") == self.platform_id
        ]
        for image in images:
            try:
                self.client.images.remove(image.id, force=True)
            except docker.errors.NotFound:
                continue
            except docker.errors.APIError as exc:
                failures.append(f"image {image.short_id}: {exc}")
        return len(images)

    def _dyno(self, container: Container) -> Dyno:
        labels = container.labels
        state = container.attrs.get("State", {})
        return Dyno(
            id=container.id,
            app=labels.get("paas.app", ""),
            name=labels.get("paas.dyno", ""),
            process_type=labels.get("paas.process_type", ""),
            release=int(labels.get("paas.release", "0")),
            command=labels.get("paas.command", ""),
            size=labels.get("paas.size", DEFAULT_SIZE),
            running=bool(state.get("Running")),
            address=_address(container, self.network_name(labels.get("paas.app", ""))),
            port=DYNO_PORT,
            started_at=_timestamp(state.get("StartedAt")),
            finished_at=_timestamp(state.get("FinishedAt")),
            exit_code=state.get("ExitCode") if not state.get("Running") else None,
            oom_killed=bool(state.get("OOMKilled")),
            one_off=labels.get("paas.one_off") == "1",
            labels=dict(labels),
        )


def _removal_in_progress(exc: docker.errors.APIError) -> bool:
    # Two callers removing one container: the second gets 409 Conflict,
    # "removal of container ... is already in progress".
    return exc.status_code == 409 and "already in progress" in str(exc)


def _address(container: Container, network: str) -> str | None:
    networks = container.attrs.get("NetworkSettings", {}).get("Networks", {})
    address = networks.get(network, {}).get("IPAddress")
    return address or None


def _timestamp(value: str | None) -> float | None:
    # Docker reports times with nanoseconds and "0001-01-01..." for never.
    if not value or value.startswith("0001-"):
        return None
    head, _, rest = value.partition(".")
    zone = rest[rest.find("Z") :] if "Z" in rest else rest[-6:]
    fraction = "".join(ch for ch in rest if ch.isdigit())[:6]
    text = f"{head}.{fraction or '0'}{'+00:00' if zone == 'Z' else zone}"
    return datetime.fromisoformat(text).timestamp()
