"""The images deploy/registry-fill builds behave as the catalog expects.

Each runs as the official image would: postgres and redis take their
credentials from the environment, keep data on a volume across containers,
and answer other containers on their network.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator

import docker
import docker.errors
import pytest
from docker.models.containers import Container

RUN = secrets.token_hex(4)
LABEL = "paas.test-fill"


class Services:
    """Containers, volumes and a network of one test module, labelled."""

    def __init__(self, client: docker.DockerClient, registry: str) -> None:
        self.client = client
        self.registry = registry
        self.labels = {LABEL: RUN}
        self.network = client.networks.create(
            f"paas-test-fill-{RUN}", labels=self.labels
        )

    def image(self, name: str) -> str:
        return f"{self.registry}/library/{name}"

    def start(self, name: str, image: str, **kwargs: object) -> Container:
        """Start a service container on the network under ``name``."""
        return self.client.containers.run(
            self.image(image),
            name=f"{name}-{RUN}",
            network=self.network.name,
            labels=self.labels,
            detach=True,
            **kwargs,  # type: ignore[arg-type]
        )

    def run(self, image: str, command: list[str], **kwargs: object) -> str:
        """Run a client container on the network; return its output."""
        # Not remove=True: that leaves the anonymous volumes of the image's
        # VOLUME paths behind, run after run.
        container = self.client.containers.run(
            self.image(image),
            command,
            network=self.network.name,
            labels=self.labels,
            detach=True,
            **kwargs,  # type: ignore[arg-type]
        )
        try:
            status = container.wait(timeout=120)["StatusCode"]
            output = container.logs(stdout=True, stderr=True)
        finally:
            container.remove(force=True, v=True)
        if status != 0:
            raise docker.errors.ContainerError(
                container, status, command, self.image(image), output
            )
        return bytes(output).decode()

    def volume(self, name: str) -> str:
        """Create a labelled volume; return its name."""
        return str(self.client.volumes.create(f"{name}-{RUN}", labels=self.labels).name)

    def remove(self) -> None:
        """Remove everything this module labelled."""
        found = {"label": f"{LABEL}={RUN}"}
        for container in self.client.containers.list(all=True, filters=found):
            container.remove(force=True, v=True)
        for volume in self.client.volumes.list(filters=found):
            volume.remove(force=True)
        self.network.remove()


@pytest.fixture(scope="module")
def services(local_registry: str) -> Iterator[Services]:
    """Services from the filled local registry; removed afterwards."""
    client = docker.from_env()
    found = Services(client, local_registry)
    try:
        yield found
    finally:
        found.remove()
        client.close()


def wait_until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"not ready within {timeout:g} s")


def exec_ok(container: Container, command: list[str]) -> bool:
    return bool(container.exec_run(command).exit_code == 0)


def start_postgres(services: Services, volume: str, password: str) -> Container:
    container = services.start(
        "pg",
        "postgres:17",
        environment={
            "POSTGRES_USER": "shop",
            "POSTGRES_PASSWORD": password,
            "POSTGRES_DB": "orders",
        },
        volumes={volume: {"bind": "/var/lib/postgresql/data", "mode": "rw"}},
    )
    # Ready on TCP, not only on the init server's Unix socket.
    wait_until(lambda: exec_ok(container, ["pg_isready", "-h", "127.0.0.1", "-q"]))
    return container


def psql(services: Services, password: str, sql: str) -> str:
    url = f"postgresql://shop:{password}@pg-{RUN}:5432/orders"
    return services.run("postgres:17", ["psql", url, "-tAc", sql])


def test_postgres_takes_its_credentials_and_keeps_its_data(services: Services) -> None:
    password = secrets.token_hex(16)
    volume = services.volume("pgdata")
    first = start_postgres(services, volume, password)
    psql(services, password, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)")

    with pytest.raises(docker.errors.ContainerError, match="password authentication"):
        url = f"postgresql://shop:wrong@pg-{RUN}:5432/orders"
        services.run("postgres:17", ["psql", url, "-c", "SELECT 1"])

    first.remove(force=True, v=True)
    second = start_postgres(services, volume, password)
    assert psql(services, password, "SELECT x FROM t").strip() == "42"
    # The second start found the cluster and did not initialise it again.
    assert "init process complete" not in second.logs().decode()
    second.remove(force=True, v=True)


def test_postgres_without_a_password_says_what_to_set(services: Services) -> None:
    container = services.start("pg-nopass", "postgres:17")
    assert container.wait(timeout=60)["StatusCode"] == 1
    assert "POSTGRES_PASSWORD is not set" in container.logs().decode()


def test_redis_wants_its_password_and_keeps_data_in_data(services: Services) -> None:
    password = secrets.token_hex(16)
    volume = services.volume("redisdata")
    mount = {volume: {"bind": "/data", "mode": "rw"}}
    env = {"REDIS_PASSWORD": password}
    first = services.start("redis", "redis:8", environment=env, volumes=mount)
    host = f"redis-{RUN}"
    cli = ["redis-cli", "-h", host, "--no-auth-warning"]
    wait_until(lambda: exec_ok(first, ["redis-cli", "-a", password, "ping"]))

    assert "NOAUTH" in services.run("redis:8", [*cli, "get", "k"])
    assert (
        services.run("redis:8", [*cli, "-a", password, "set", "k", "v"]).strip() == "OK"
    )
    # The password is in no process's command line.
    assert password not in first.exec_run(["cat", "/proc/1/cmdline"]).output.decode()

    first.remove(force=True, v=True)
    second = services.start("redis", "redis:8", environment=env, volumes=mount)
    wait_until(lambda: exec_ok(second, ["redis-cli", "-a", password, "ping"]))
    assert services.run("redis:8", [*cli, "-a", password, "get", "k"]).strip() == "v"
    second.remove(force=True, v=True)


def test_memcached_answers_on_11211(services: Services) -> None:
    container = services.start("mc", "memcached:1.6")
    script = (
        f"exec 3<>/dev/tcp/mc-{RUN}/11211; "
        'printf "set a 0 0 2\\r\\nhi\\r\\nget a\\r\\nquit\\r\\n" >&3; cat <&3'
    )

    def answers() -> bool:
        try:
            return "VALUE a 0 2" in services.run(
                "memcached:1.6", ["bash", "-c", script]
            )
        except docker.errors.ContainerError:
            return False

    wait_until(answers)
    container.remove(force=True, v=True)
