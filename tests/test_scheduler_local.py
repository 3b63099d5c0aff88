"""LocalBackend's handling of the engine's answers, on a stand-in client."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest
import requests

from paas.errors import BackendUnavailable
from paas.scheduler.local import LocalBackend


def engine_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("engine", response, explanation)


class Container:
    """A running container whose removal fails with a given error."""

    status = "running"
    attrs: dict[str, Any] = {"State": {"ExitCode": 0}}

    def __init__(self, error: docker.errors.APIError, owner: Containers) -> None:
        self.error = error
        self.owner = owner

    def stop(self, timeout: int) -> None:
        # Another caller's removal finishes while this one is refused.
        self.owner.gone = True
        raise self.error

    def reload(self) -> None:
        """Nothing changes."""


class Containers:
    """The ``containers`` collection of a stand-in Docker client."""

    def __init__(self, error: docker.errors.APIError) -> None:
        self.error = error
        self.gone = False

    def get(self, container_id: str) -> Container:
        if self.gone:
            raise docker.errors.NotFound("gone")
        return Container(self.error, self)


class Client:
    def __init__(self, error: docker.errors.APIError) -> None:
        self.containers = Containers(error)


def test_removal_already_in_progress_counts_as_stopped() -> None:
    error = engine_error(409, "removal of container abc123 is already in progress")
    backend = LocalBackend(Client(error), "test")
    assert backend.stop_dyno("abc123", timeout=1) is None


def test_other_conflict_on_stop_is_reported() -> None:
    error = engine_error(409, "container abc123 is paused")
    backend = LocalBackend(Client(error), "test")
    with pytest.raises(BackendUnavailable, match=r"^Could not stop dyno abc123: "):
        backend.stop_dyno("abc123", timeout=1)


class Network:
    def __init__(self, name: str) -> None:
        self.name = name


class Networks:
    """Answers name filters the way the engine does: by part of the name."""

    def __init__(self, *names: str) -> None:
        self.names = list(names)

    def list(self, names: list[str]) -> list[Network]:
        return [Network(n) for n in self.names if any(f in n for f in names)]

    def create(self, name: str, driver: str, labels: dict[str, str]) -> None:
        self.names.append(name)


class NetworkClient:
    def __init__(self, networks: Networks) -> None:
        self.networks = networks


def test_app_network_is_made_beside_one_whose_name_contains_it() -> None:
    networks = Networks("paas-test-shop-api")
    backend = LocalBackend(NetworkClient(networks), "test")
    backend.prepare_app("shop")
    assert networks.names == ["paas-test-shop-api", "paas-test-shop"]
