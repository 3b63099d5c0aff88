"""Draining web dynos: wait until no router sends them anything, then stop.

A dyno leaves the route table first. Each router process writes, in
``router-stats-<pid>.json`` in the run dir, the serial of the route table it
has loaded and its requests in flight by dyno address, those to dynos that
already left its table included. A dyno is drained once every live router
process has loaded a table at least as new as the one without it and has
nothing in flight to its address; only then does it get SIGTERM.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paas.router.stats import PREFIX, stats_files

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.05


@dataclass
class DrainState:
    """What the router processes report about some dynos' addresses."""

    behind: list[int] = field(default_factory=list)
    in_flight: int = 0

    @property
    def drained(self) -> bool:
        """Tell whether every router saw the table and nothing is in flight."""
        return not self.behind and self.in_flight == 0


def read_drain_state(run_dir: Path, serial: int, addresses: set[str]) -> DrainState:
    """Sum what the live router processes report for some dyno addresses.

    Args:
        run_dir: the dir the router processes write their stats files in.
        serial: the serial of the route table without the dynos.
        addresses: the dynos as ``"address:port"``.

    Returns:
        The PIDs of routers that have not loaded that table yet, and the
        requests in flight to the addresses.
    """
    state = DrainState()
    for pid, stats in _router_stats(run_dir):
        if "serial" not in stats:
            # A router from before drain reporting: nothing to wait on.
            continue
        if int(stats["serial"]) < serial:
            state.behind.append(pid)
        counts = stats.get("in_flight", {})
        state.in_flight += sum(int(counts.get(a, 0)) for a in addresses)
    return state


def wait_drained(
    run_dir: Path, serial: int, addresses: set[str], timeout: float
) -> DrainState:
    """Wait until the dynos at the addresses are drained, or the timeout passes.

    Returns:
        The last state read: ``drained`` is false when the timeout passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        state = read_drain_state(run_dir, serial, addresses)
        if state.drained or time.monotonic() >= deadline:
            return state
        time.sleep(POLL_INTERVAL)


def _router_stats(run_dir: Path) -> list[tuple[int, dict[str, Any]]]:
    found = []
    for path in stats_files(run_dir):
        stats = _read(path)
        if stats is not None:
            found.append((int(path.stem.removeprefix(PREFIX)), stats))
    return found


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("Skipped router stats %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None
