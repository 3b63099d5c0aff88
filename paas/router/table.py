"""The route table: the one thing the control plane tells the router.

The control plane writes it as JSON to ``$PAAS_HOME/run/routes.json``
(write to a temporary file, then rename, so a reader never sees half of it).
Router processes poll the file's mtime and reload it, so they keep routing
while the control plane is down and every process sees a change within the
poll interval. The file looks like::

    {
      "version": 1,
      "serial": 1764860000123456789,
      "apps": {
        "shop": {
          "state": "up",
          "error_page_url": null,
          "dynos": [{"name": "web.1", "address": "172.18.0.5", "port": 5000}]
        }
      },
      "hosts": {"shop.localhost": "shop"}
    }

``state`` says why an app has no dynos to offer: ``up`` (dynos listed),
``starting`` (web dynos booting: hold the request a while), ``crashed``
(H10), ``no_web`` (web scaled to 0 or no web process: H14) and
``not_deployed`` (no release yet: H81). ``serial`` grows with every table
written; each router process reports the serial it has loaded in its stats
file, so the control plane can tell when every router has stopped sending
requests to a dyno that left the table.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
APP_STATES = ("up", "starting", "crashed", "no_web", "not_deployed")


@dataclass(frozen=True)
class Backend:
    """One web dyno the router may send requests to."""

    name: str
    address: str
    port: int


@dataclass
class AppRoute:
    """Where the requests for one app go, or why they cannot."""

    state: str
    dynos: list[Backend] = field(default_factory=list)
    error_page_url: str | None = None


@dataclass
class RouteTable:
    """Host names to apps, and apps to their web dynos."""

    apps: dict[str, AppRoute] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    # Not part of equality: two tables that route alike are the same table.
    serial: int = field(default=0, compare=False)

    def lookup(self, host: str) -> tuple[str, AppRoute] | None:
        """Return the app name and route for a Host header value, if any."""
        name = self.hosts.get(normalize_host(host))
        if name is None:
            return None
        route = self.apps.get(name)
        if route is None:
            return None
        return name, route

    def to_json(self) -> dict[str, Any]:
        """Return the table as the JSON document routers read."""
        apps = {
            name: {
                "state": route.state,
                "error_page_url": route.error_page_url,
                "dynos": [vars(dyno) for dyno in route.dynos],
            }
            for name, route in sorted(self.apps.items())
        }
        return {
            "version": FORMAT_VERSION,
            "serial": self.serial,
            "apps": apps,
            "hosts": dict(self.hosts),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RouteTable:
        """Build a table from the JSON document the control plane wrote."""
        apps = {
            name: AppRoute(
                state=entry["state"],
                error_page_url=entry.get("error_page_url"),
                dynos=[Backend(**dyno) for dyno in entry.get("dynos", [])],
            )
            for name, entry in data.get("apps", {}).items()
        }
        hosts = dict(data.get("hosts", {}))
        return cls(apps=apps, hosts=hosts, serial=int(data.get("serial", 0)))


def normalize_host(host: str) -> str:
    """Lower-case a Host header value, drop its port and a trailing dot
    (``shop.example.com.`` is the same name, fully qualified)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    host = host.rsplit(":", 1)[0] if ":" in host else host
    return host.removesuffix(".")


def write_route_table(path: Path, table: RouteTable) -> None:
    """Write the table atomically so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(table.to_json(), indent=1))
    os.replace(tmp, path)


def read_route_table(path: Path) -> RouteTable:
    """Read the table; a missing file is an empty table."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return RouteTable()
    return RouteTable.from_json(data)
