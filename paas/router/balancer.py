"""Which dyno gets a request: the route table, per-dyno counts, idle pools."""

from __future__ import annotations

import json
import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paas.router.table import AppRoute, RouteTable, normalize_host, read_route_table

if TYPE_CHECKING:
    from paas.router.upstream import UpstreamConnection

logger = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Upstream:
    """One web dyno as this router process sees it: counts and idle connections."""

    app: str
    name: str
    address: str
    port: int
    requests: int = 0
    in_flight: int = 0
    idle: list[UpstreamConnection] = field(default_factory=list)
    retired: bool = False
    label: bytes = b""  # the name as access lines show it, encoded once

    def close_idle(self) -> None:
        """Close the pooled connections, as when the dyno leaves the table."""
        for conn in self.idle[:]:
            conn.close()
        self.idle.clear()


@dataclass(slots=True)
class Destination:
    """What a Host header resolves to."""

    app: str
    route: AppRoute
    upstreams: list[Upstream]
    label: bytes = b""  # the app's name as access lines show it, encoded once


class Balancer:
    """Resolve hosts to apps and pick the dyno with least outstanding requests."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._hosts: dict[bytes, Destination] = {}
        self._upstreams: dict[tuple[str, str, str, int], Upstream] = {}
        self._stamp: tuple[int, int, int] | None = None
        # The serial of the loaded table, and dynos that left the table with
        # requests still in flight: both go in the stats file, which is how
        # the control plane knows when a dyno it removed is drained.
        self.serial = 0
        self.draining: list[Upstream] = []
        self.loads = 0

    def lookup(self, host: bytes) -> Destination | None:
        """Return where a request for a Host header value goes, if anywhere."""
        found = self._hosts.get(host)
        if found is None:
            found = self._hosts.get(normalize_host(host.decode("latin-1")).encode())
        return found

    def pick(self, upstreams: list[Upstream]) -> Upstream:
        """Return the dyno with the fewest requests in flight, ties at random."""
        if len(upstreams) == 1:
            return upstreams[0]
        fewest = min(u.in_flight for u in upstreams)
        return random.choice([u for u in upstreams if u.in_flight == fewest])

    def reload_if_changed(self) -> bool:
        """Reload the route table when its file changed; say whether it did."""
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return False
        try:
            table = read_route_table(self.path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning(
                "Kept the old route table: cannot read %s: %s", self.path, exc
            )
            return False
        self._stamp = stamp
        self.load(table)
        return True

    def load(self, table: RouteTable) -> None:
        """Take a new route table, keeping counts and pools of dynos still in it."""
        old = self._upstreams
        self._upstreams = {}
        apps: dict[str, Destination] = {}
        for app, route in table.apps.items():
            ups = [self._keep(old, app, b.name, b.address, b.port) for b in route.dynos]
            apps[app] = Destination(app, route, ups, app.encode())
        self._hosts = {
            normalize_host(host).encode(): apps[app]
            for host, app in table.hosts.items()
            if app in apps
        }
        for key, upstream in old.items():
            if key not in self._upstreams:
                upstream.retired = True
                upstream.close_idle()
                if upstream.in_flight > 0:
                    self.draining.append(upstream)
        self.serial = table.serial
        self.loads += 1
        logger.info(
            "Loaded the route table: %d apps, %d hosts", len(apps), len(self._hosts)
        )

    def _keep(
        self,
        old: dict[tuple[str, str, str, int], Upstream],
        app: str,
        name: str,
        address: str,
        port: int,
    ) -> Upstream:
        key = (app, name, address, port)
        upstream = old.get(key) or Upstream(app, name, address, port)
        upstream.label = name.encode()
        self._upstreams[key] = upstream
        return upstream

    def stats(self) -> dict[str, Any]:
        """Return per-dyno counts as the stats file shows them.

        ``in_flight`` counts the requests in flight by dyno address, those
        to dynos that already left the table included; ``serial`` is the
        serial of the route table this process has loaded.
        """
        apps: dict[str, dict[str, dict[str, int]]] = {}
        for upstream in self._upstreams.values():
            dynos = apps.setdefault(upstream.app, {})
            dynos[upstream.name] = {
                "requests": upstream.requests,
                "in_flight": upstream.in_flight,
            }
        by_address: dict[str, int] = {}
        for upstream in [*self._upstreams.values(), *self.draining]:
            if upstream.in_flight > 0:
                address = f"{upstream.address}:{upstream.port}"
                by_address[address] = by_address.get(address, 0) + upstream.in_flight
        return {"apps": apps, "serial": self.serial, "in_flight": by_address}

    def forget_drained(self) -> bool:
        """Drop retired dynos whose last request ended; say whether any did."""
        if not self.draining:
            return False
        left = [u for u in self.draining if u.in_flight > 0]
        drained = len(left) < len(self.draining)
        self.draining = left
        return drained

    def write_stats(self, path: Path) -> None:
        """Write the counts atomically for operators and the control plane."""
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.stats()))
        os.replace(tmp, path)

    def close(self) -> None:
        """Close every pooled connection."""
        for upstream in self._upstreams.values():
            upstream.close_idle()
