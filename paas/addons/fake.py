"""An in-memory add-on engine for tests: no Docker, same interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from paas.addons.engine import AddonEngine, Output
from paas.addons.spec import AddonSpec
from paas.errors import DeployFailed, ImageNotFound


@dataclass
class FakeContainer:
    """What the fake remembers of one add-on container."""

    spec: AddonSpec
    owner: str
    status: str = "running"
    networks: dict[str, str] = field(default_factory=dict)


class FakeAddonEngine(AddonEngine):
    """Keeps add-on containers and volumes in dicts; tests steer failures."""

    def __init__(self, proc: Path = Path("/nonexistent")) -> None:
        super().__init__(client=None, platform_id="test", proc=proc)
        self.containers: dict[str, FakeContainer] = {}
        self.volumes: set[str] = set()
        self.images: set[str] = set()
        self.missing_images: set[str] = set()
        self.unhealthy: set[str] = set()
        self.pulled: list[str] = []
        self.on_start: Callable[[AddonSpec], None] | None = None

    def fetch_image(self, ref: str, out: Output) -> str:
        """Pretend to pull; refs in ``missing_images`` are in no registry."""
        if ref in self.missing_images:
            raise ImageNotFound("No configured registry has it.")
        out(f"Pulled {ref}")
        self.pulled.append(ref)
        return f"mirror/{ref}"

    def start(self, spec: AddonSpec, owner: str, networks: list[str]) -> None:
        """Record a running container and its volume."""
        if spec.volume_path:
            self.volumes.add(spec.resource)
        container = FakeContainer(spec, owner)
        container.networks = dict.fromkeys(networks, spec.alias)
        self.containers[spec.resource] = container
        if self.on_start is not None:
            self.on_start(spec)

    def connect(self, resource: str, network: str, alias: str) -> None:
        """Join a network under an alias."""
        self.containers[resource].networks[network] = alias

    def disconnect(self, resource: str, network: str) -> None:
        """Leave a network."""
        if resource in self.containers:
            self.containers[resource].networks.pop(network, None)

    def remove(self, resource: str, keep_volume: bool = False) -> None:
        """Forget the container and (unless kept) the volume."""
        self.containers.pop(resource, None)
        if not keep_volume:
            self.volumes.discard(resource)

    def has_volume(self, resource: str) -> bool:
        """Tell whether the volume is there."""
        return resource in self.volumes

    def state(self, resource: str) -> str:
        """Return the container's status or ``missing``."""
        container = self.containers.get(resource)
        return "missing" if container is None else container.status

    def restart(self, spec: AddonSpec, owner: str, networks: list[str]) -> None:
        """Start it again (or anew) on the given networks."""
        container = self.containers.get(spec.resource)
        if container is None:
            self.start(spec, owner, networks)
            return
        container.status = "running"

    def logs(self, resource: str, lines: int = 100) -> list[str]:
        """Return a fixed line."""
        return [f"{resource} log line"][-lines:]

    def wait_healthy(self, spec: AddonSpec, network: str, out: Output) -> None:
        """Pass unless the resource's service is in ``unhealthy``."""
        if spec.service in self.unhealthy:
            raise DeployFailed(f"Add-on {spec.resource!r} was not healthy.")
