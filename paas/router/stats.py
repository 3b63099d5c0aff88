"""Per-dyno request counts, summed over the router processes.

Each router process writes ``router-stats-<pid>.json`` in the run dir every
second (see ``Balancer.write_stats``): per app and dyno, the requests it sent
there since it started and those in flight. The control plane adds them up
for operators; files of processes that are gone are skipped.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PREFIX = "router-stats-"


def stats_files(run_dir: Path) -> list[Path]:
    """Return the stats files of router processes that are still running."""
    found = []
    for path in sorted(run_dir.glob(f"{PREFIX}*.json")):
        pid = path.stem.removeprefix(PREFIX)
        if pid.isdigit() and _alive(int(pid)):
            found.append(path)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_app_stats(run_dir: Path, app: str) -> dict[str, dict[str, int]]:
    """Return one app's counts by dyno name, summed over router processes.

    Returns:
        ``{"web.1": {"requests": 12, "in_flight": 0, "processes": 2}}``; a
        dyno no router process has seen yet is absent.
    """
    totals: dict[str, dict[str, int]] = {}
    for path in stats_files(run_dir):
        for name, counts in _read(path).get("apps", {}).get(app, {}).items():
            entry = totals.setdefault(
                name, {"requests": 0, "in_flight": 0, "processes": 0}
            )
            entry["requests"] += int(counts.get("requests", 0))
            entry["in_flight"] += int(counts.get("in_flight", 0))
            entry["processes"] += 1
    return dict(sorted(totals.items()))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("Skipped router stats %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}
