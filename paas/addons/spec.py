"""The container an add-on resource runs as, rendered from its catalog entry.

Catalog values are Jinja2 templates. They can use ``host`` (the network
alias apps reach the service by: the resource name), ``port``, ``plan``
(the plan's fields, such as ``plan.heap_mb``), ``resource`` and each
generated credential by name (``password``). Credentials are hex, so they
sit in URLs without escaping.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

import jinja2

from paas.addons.catalog import Plan, Service
from paas.errors import InvalidInput

CREDENTIAL_BYTES = 16


@dataclass
class AddonSpec:
    """Everything needed to (re)create an add-on's container.

    It holds the resource's credentials, so it is stored but never logged.
    """

    resource: str
    service: str
    plan: str
    image: str
    port: int
    alias: str
    memory_mb: int
    environment: dict[str, str]
    command: str | None
    volume_path: str | None
    healthcheck: dict[str, Any]
    config_vars: dict[str, str]
    sysctls: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the spec as stored."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AddonSpec:
        """Read a stored spec."""
        return cls(**data)

    def attachment_vars(self, attachment: str) -> dict[str, str]:
        """Return the config vars one attachment sets: ``DATABASE_URL=...``."""
        return {f"{attachment}_{k}": v for k, v in self.config_vars.items()}


def generate_credentials(names: list[str]) -> dict[str, str]:
    """Return a fresh random value for each credential name."""
    return {name: secrets.token_hex(CREDENTIAL_BYTES) for name in names}


def render_spec(
    service: Service,
    plan: Plan,
    resource: str,
    credentials: dict[str, str],
    image: str | None = None,
) -> AddonSpec:
    """Render a service's templates for one resource.

    Args:
        service: the catalog entry.
        plan: the chosen plan of it.
        resource: the resource name, also the host name apps use.
        credentials: generated values, by the names the service lists.
        image: the image to run; default the plan's reference.

    Raises:
        InvalidInput: a template uses an unknown name or is malformed.
    """
    context = {
        "host": resource,
        "port": service.port,
        "resource": resource,
        "plan": {"name": plan.name, "tag": plan.tag, **plan.extra},
        **credentials,
    }
    check = asdict(service.healthcheck)
    render = _Renderer(service.name, context)
    return AddonSpec(
        resource=resource,
        service=service.name,
        plan=plan.name,
        image=image or service.image_ref(plan),
        port=service.port,
        alias=resource,
        memory_mb=plan.memory_mb,
        environment={k: render(v) for k, v in service.environment.items()},
        command=render(service.command) if service.command else None,
        volume_path=service.volume,
        healthcheck=render.tree(check),
        config_vars={k: render(v) for k, v in service.config_vars.items()},
        sysctls=dict(service.sysctls),
    )


class _Renderer:
    def __init__(self, service: str, context: dict[str, Any]) -> None:
        self.service = service
        self.context = context
        self.env = jinja2.Environment(undefined=jinja2.StrictUndefined)

    def __call__(self, template: str) -> str:
        try:
            return self.env.from_string(template).render(self.context).strip()
        except jinja2.TemplateError as exc:
            raise InvalidInput(
                f"Add-on service {self.service!r} has a bad template "
                f"{template!r}: {exc}. Fix its catalog file."
            ) from exc

    def tree(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list):
            return [self.tree(item) for item in value]
        if isinstance(value, dict):
            return {k: self.tree(v) for k, v in value.items()}
        return value
