"""The add-on catalog: one YAML file per service in ``addons/``.

A service names its registry image, its plans (image tag and memory), the
port it listens on, its environment, the path of its data volume, how to
tell it is healthy, the credentials to generate per resource and the config
vars it hands to apps. Values are Jinja2 templates; see ``paas.addons.spec``
for what they can use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from paas.errors import InvalidInput, NotFound

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOG_DIR = ROOT / "addons"
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
ATTACHMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,29}$")
CUSTOM_PLAN = "custom"


@dataclass(frozen=True)
class Plan:
    """A size of a service: the image tag to run and the memory it gets."""

    name: str
    tag: str
    memory_mb: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the plan as the API shows it."""
        return {"name": self.name, "tag": self.tag, "memory_mb": self.memory_mb}


@dataclass(frozen=True)
class ServiceCheck:
    """How to tell a service is ready: a command, an HTTP GET or a TCP connect.

    ``command`` runs inside the container and must exit 0 (and print
    ``output`` when given). ``http`` is requested from the control plane at
    the container's address; the body must match ``http['body']`` if set.
    """

    command: list[str] | None = None
    output: str | None = None
    http: dict[str, str] | None = None
    tcp: bool = False
    timeout: float = 60.0


@dataclass(frozen=True)
class Service:
    """One catalog entry."""

    name: str
    description: str
    image: str
    port: int
    attach_as: str
    plans: list[Plan]
    default_plan: str
    healthcheck: ServiceCheck
    config_vars: dict[str, str]
    environment: dict[str, str] = field(default_factory=dict)
    command: str | None = None
    volume: str | None = None
    credentials: list[str] = field(default_factory=list)
    sysctls: dict[str, int] = field(default_factory=dict)

    def plan(self, name: str | None) -> Plan:
        """Return a plan by name, or the default plan.

        Raises:
            NotFound: the service has no such plan.
        """
        wanted = name or self.default_plan
        for plan in self.plans:
            if plan.name == wanted:
                return plan
        known = ", ".join(plan.name for plan in self.plans)
        raise NotFound(
            f"No plan {wanted!r} of {self.name!r}. Plans: {known}. "
            f"Run 'paas addons:plans {self.name}'."
        )

    def image_ref(self, plan: Plan) -> str:
        """Return the image reference a plan runs."""
        separator = "" if plan.tag.startswith("@") else ":"
        return f"{self.image}{separator}{plan.tag}"


def load_catalog(directory: Path = CATALOG_DIR) -> dict[str, Service]:
    """Read every service of the catalog, by name.

    Raises:
        InvalidInput: a catalog file is malformed; the message names it.
    """
    services: dict[str, Service] = {}
    for path in sorted(directory.glob("*.yaml")):
        service = load_service(path)
        services[service.name] = service
    return services


def load_service(path: Path) -> Service:
    """Read one catalog file.

    Raises:
        InvalidInput: the file is not a valid service definition.
    """
    try:
        data = yaml.safe_load(path.read_text())
        return _service(data)
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            f"Add-on catalog file {str(path)!r} is invalid ({exc!r}). "
            "Fix it and restart the platform."
        ) from exc


def _service(data: dict[str, Any]) -> Service:
    plans = [_plan(entry) for entry in data["plans"]]
    service = Service(
        name=str(data["service"]),
        description=str(data.get("description", "")),
        image=str(data["image"]),
        port=int(data["port"]),
        attach_as=str(data["attach_as"]),
        plans=plans,
        default_plan=str(data.get("default_plan", plans[0].name)),
        healthcheck=_check(data.get("healthcheck") or {"tcp": True}),
        config_vars={str(k): str(v) for k, v in data["config_vars"].items()},
        environment=_strings(data.get("environment")),
        command=data.get("command"),
        volume=data.get("volume"),
        credentials=[str(name) for name in data.get("credentials") or []],
        sysctls={str(k): int(v) for k, v in (data.get("sysctls") or {}).items()},
    )
    if not SERVICE_NAME.fullmatch(service.name):
        raise ValueError(f"service name {service.name!r} is not lowercase-dashed")
    if not ATTACHMENT_NAME.fullmatch(service.attach_as):
        raise ValueError(f"attach_as {service.attach_as!r} is not UPPER_CASE")
    service.plan(service.default_plan)
    return service


def _strings(mapping: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def _plan(entry: dict[str, Any]) -> Plan:
    known = {"name", "tag", "memory_mb"}
    extra = {k: v for k, v in entry.items() if k not in known}
    return Plan(str(entry["name"]), str(entry["tag"]), int(entry["memory_mb"]), extra)


def _check(data: dict[str, Any]) -> ServiceCheck:
    command = data.get("command")
    http = data.get("http")
    return ServiceCheck(
        command=[str(part) for part in command] if command else None,
        output=data.get("output"),
        http={str(k): str(v) for k, v in http.items()} if http else None,
        tcp=bool(data.get("tcp")),
        timeout=float(data.get("timeout", 60)),
    )


def find_service(name: str, directory: Path = CATALOG_DIR) -> Service:
    """Return a catalog service by name.

    Raises:
        NotFound: the catalog has no such service.
    """
    catalog = load_catalog(directory)
    if name not in catalog:
        known = ", ".join(sorted(catalog))
        raise NotFound(
            f"No add-on service {name!r}. Services: {known}. Run "
            "'paas addons:catalog', or use --image REF --port N --as NAME."
        )
    return catalog[name]


def custom_service(image: str, port: int, attach_as: str) -> Service:
    """Describe any registry image as a service reached at one TCP port.

    Raises:
        InvalidInput: the image, port or attachment name is malformed.
    """
    if not image or any(ch.isspace() for ch in image):
        raise InvalidInput(
            f"Image {image!r} is invalid: give a reference like nginx:1.27."
        )
    if not 0 < port < 65536:
        raise InvalidInput(f"Port {port!r} is invalid: use 1 to 65535.")
    repository, tag = split_image(image)
    name = repository.rsplit("/", 1)[-1]
    name = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:20] or "service"
    if not name[0].isalpha():
        name = f"svc-{name}"
    return Service(
        name=name,
        description=f"Image {image}",
        image=repository,
        port=port,
        attach_as=attach_as,
        plans=[Plan(CUSTOM_PLAN, tag, 512)],
        default_plan=CUSTOM_PLAN,
        healthcheck=ServiceCheck(tcp=True, timeout=60),
        config_vars={"URL": "tcp://{{ host }}:{{ port }}"},
    )


def split_image(image: str) -> tuple[str, str]:
    """Split ``repo[:tag]`` into repository and tag (``latest`` if none)."""
    name, _, digest = image.partition("@")
    if digest:
        return name, f"@{digest}"
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, _, tag = name.rpartition(":")
        return repository, tag
    return name, "latest"
