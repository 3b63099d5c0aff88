"""Pruning leaves alone the layers of builds that may still be running."""

from __future__ import annotations

from typing import Any

from paas.disk import prune_dangling


class Images:
    """Stands in for ``client.images``: records what prune was asked."""

    def __init__(self) -> None:
        self.images = self
        self.filters: list[dict[str, Any]] = []

    def prune(self, filters: dict[str, Any]) -> dict[str, Any]:
        self.filters.append(filters)
        return {"SpaceReclaimed": 42}


def test_prune_spares_layers_of_builds_in_flight() -> None:
    client = Images()
    freed = prune_dangling(client)  # type: ignore[arg-type]
    assert (freed, client.filters) == (42, [{"dangling": True, "until": "3600s"}])
