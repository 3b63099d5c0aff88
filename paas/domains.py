"""Domains: the host names an app answers to through the router.

Every app has one default domain, ``<app>.<platform domain>``, added when the
app is created and kept until it is destroyed. Custom domains are added and
removed by the app's owner; a host name belongs to one app at most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paas.errors import Conflict, InvalidInput, NotFound
from paas.platform import Platform

LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_HOSTNAME = 253


@dataclass(frozen=True)
class Domain:
    """A host name routed to an app."""

    hostname: str
    app: str
    kind: str

    def to_json(self) -> dict[str, str]:
        """Describe the domain for the API."""
        return {"hostname": self.hostname, "app": self.app, "kind": self.kind}


def default_domain(platform: Platform, app: str) -> str:
    """Return the host name every app gets: ``<app>.<platform domain>``."""
    return f"{app}.{platform.settings.domain}"


def normalize_hostname(hostname: str) -> str:
    """Return a host name in the form the route table keys it by.

    Raises:
        InvalidInput: the value is not a host name a client can send.
    """
    host = hostname.strip().lower().rstrip(".")
    labels = host.split(".")
    if (
        len(host) > MAX_HOSTNAME
        or len(labels) < 2
        or not all(LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidInput(
            f"Domain {hostname!r} is not a valid host name: use two or more "
            "dot-separated labels of letters, digits and dashes, without a "
            "scheme, port, path or wildcard (www.example.com)."
        )
    return host


def list_domains(platform: Platform, app: str) -> list[Domain]:
    """Return an app's domains, the default one first."""
    platform.store.get_app(app)
    default = default_domain(platform, app)
    found = [
        Domain(host, app, "default" if host == default else "custom")
        for host, _ in platform.store.list_domains(app)
    ]
    return sorted(found, key=lambda d: (d.kind != "default", d.hostname))


def add_domain(platform: Platform, app: str, hostname: str) -> Domain:
    """Route a custom host name to an app.

    Raises:
        AppNotFound: no such app.
        InvalidInput: the host name is malformed or reserved for apps.
        Conflict: another app (or this one) already has the host name.
    """
    platform.store.get_app(app)
    host = normalize_hostname(hostname)
    _check_not_reserved(platform, host)
    _check_unclaimed(platform, app, host)
    platform.store.add_domain(app, host)
    platform.event(app, f"Add {host} domain")
    platform.publish_routes()
    return Domain(host, app, "custom")


def _check_not_reserved(platform: Platform, host: str) -> None:
    # <name>.<platform domain> is the default domain of an app named <name>,
    # now or later; letting another app take it would block that app.
    suffix = "." + platform.settings.domain
    if host.endswith(suffix) and "." not in host.removesuffix(suffix):
        raise InvalidInput(
            f"Domain {host!r} is reserved: names of the form <app>{suffix} "
            "are the default domains of apps. Choose another host name."
        )


def _check_unclaimed(platform: Platform, app: str, host: str) -> None:
    owner = dict(platform.store.list_domains()).get(host)
    if owner == app:
        raise Conflict(f"App {app!r} already has domain {host!r}.")
    if owner is not None:
        raise Conflict(
            f"Domain {host!r} is already used by app {owner!r}; a host name "
            f"routes to one app only. Remove it there first: 'paas "
            f"domains:remove {host} -a {owner}'."
        )


def remove_domain(platform: Platform, app: str, hostname: str) -> None:
    """Stop routing a custom host name to an app.

    Raises:
        AppNotFound: no such app.
        InvalidInput: the host name is the app's default domain.
        NotFound: the app has no such domain.
    """
    platform.store.get_app(app)
    host = hostname.strip().lower().rstrip(".")
    if host == default_domain(platform, app):
        raise InvalidInput(
            f"Domain {host!r} is the default domain of {app!r} and stays "
            "while the app exists."
        )
    if not platform.store.remove_domain(app, host):
        raise NotFound(
            f"App {app!r} has no domain {hostname!r}. Run 'paas domains -a "
            f"{app}' to list its domains."
        )
    platform.event(app, f"Remove {host} domain")
    platform.publish_routes()
