"""Per-dyno request counts are summed over live router processes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.testclient import TestClient

from paas.router.stats import read_app_stats


def write_stats(run_dir: Path, pid: int, dynos: dict[str, dict[str, int]]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    data = {"apps": {"shop": dynos}}
    (run_dir / f"router-stats-{pid}.json").write_text(json.dumps(data))


def dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_counts_are_summed_over_processes(tmp_path: Path) -> None:
    write_stats(tmp_path, os.getpid(), {"web.1": {"requests": 3, "in_flight": 1}})
    write_stats(tmp_path, os.getppid(), {"web.1": {"requests": 4, "in_flight": 0}})
    assert read_app_stats(tmp_path, "shop") == {
        "web.1": {"requests": 7, "in_flight": 1, "processes": 2}
    }


def test_files_of_gone_processes_are_skipped(tmp_path: Path) -> None:
    write_stats(tmp_path, dead_pid(), {"web.1": {"requests": 9, "in_flight": 0}})
    assert read_app_stats(tmp_path, "shop") == {}


def test_api_shows_counts_per_dyno(client: TestClient, tmp_path: Path) -> None:
    client.post("/v1/apps", json={"name": "shop"})
    run_dir = client.app.state.services.platform.settings.run_dir  # type: ignore[attr-defined]
    write_stats(run_dir, os.getpid(), {"web.2": {"requests": 5, "in_flight": 0}})
    answer = client.get("/v1/apps/shop/router-stats").json()
    assert answer == {
        "app": "shop",
        "dynos": {"web.2": {"requests": 5, "in_flight": 0, "processes": 1}},
    }
