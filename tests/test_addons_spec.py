"""The container an add-on would run and the config vars it would hand over.

Nothing here pulls or starts anything: the Docker client is never asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import pytest

from paas.addons.catalog import find_service
from paas.addons.engine import AddonEngine, mirror_hint, translate_pull_error
from paas.addons.spec import AddonSpec, generate_credentials, render_spec
from paas.errors import BackendUnavailable, ImageNotFound, InvalidInput

PASSWORD = "0123456789abcdef0123456789abcdef"
NETWORK = "paas-p1-shop"


def spec_of(service: str, plan: str | None = None) -> AddonSpec:
    """Render a catalog service for a resource with a known password."""
    found = find_service(service)
    resource = f"{service}-swift-12345"
    return render_spec(found, found.plan(plan), resource, {"password": PASSWORD})


@pytest.fixture
def engine(tmp_path: Path) -> AddonEngine:
    """An engine whose client points at no engine, with a fake /proc/sys."""
    client = docker.DockerClient(base_url="unix:///nonexistent.sock", version="1.44")
    return AddonEngine(client, "p1", proc=tmp_path)


def es_options(engine: AddonEngine) -> dict[str, Any]:
    """Return the containers.run arguments of an elasticsearch resource."""
    return engine.run_options(spec_of("elasticsearch"), "shop", [NETWORK])


def test_elasticsearch_image(engine: AddonEngine) -> None:
    image = "docker.elastic.co/elasticsearch/elasticsearch:8.17.0"
    assert es_options(engine)["image"] == image


def test_elasticsearch_runs_one_node_with_bounded_heap(engine: AddonEngine) -> None:
    env = es_options(engine)["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    assert es_options(engine)["mem_limit"] == "1024m"


def test_elasticsearch_security_uses_generated_password(engine: AddonEngine) -> None:
    env = es_options(engine)["environment"]
    assert env["xpack.security.enabled"] == "true"
    assert env["xpack.security.http.ssl.enabled"] == "false"
    assert env["ELASTIC_PASSWORD"] == PASSWORD


def test_elasticsearch_keeps_data_on_a_volume(engine: AddonEngine) -> None:
    volumes = es_options(engine)["volumes"]
    bind = {"bind": "/usr/share/elasticsearch/data", "mode": "rw"}
    assert volumes == {"paas-p1-addon-elasticsearch-swift-12345": bind}


def test_elasticsearch_is_reached_by_alias_only(engine: AddonEngine) -> None:
    options = es_options(engine)
    endpoint = options["networking_config"][NETWORK]
    assert options["network"] == NETWORK
    assert endpoint["Aliases"] == ["elasticsearch-swift-12345"]
    assert "ports" not in options and "links" not in options


def test_elasticsearch_health_is_cluster_health() -> None:
    check = spec_of("elasticsearch").healthcheck
    path = "/_cluster/health?wait_for_status=yellow&timeout=1s"
    assert check["http"]["path"] == path
    assert (check["http"]["user"], check["http"]["password"]) == ("elastic", PASSWORD)


def test_elasticsearch_url_carries_the_password() -> None:
    url = f"http://elastic:{PASSWORD}@elasticsearch-swift-12345:9200"
    assert spec_of("elasticsearch").attachment_vars("ELASTICSEARCH") == {
        "ELASTICSEARCH_URL": url
    }


def test_elasticsearch_large_plan_scales_heap() -> None:
    spec = spec_of("elasticsearch", "8-large")
    assert spec.environment["ES_JAVA_OPTS"] == "-Xms2048m -Xmx2048m"
    assert spec.memory_mb == 4096


def test_low_max_map_count_is_reported(engine: AddonEngine) -> None:
    (engine.proc / "vm").mkdir()
    (engine.proc / "vm" / "max_map_count").write_text("65530\n")
    problems = engine.check_host(spec_of("elasticsearch"))
    assert problems == [
        "The host's vm.max_map_count is 65530, below the 262144 elasticsearch "
        "needs: run 'sysctl -w vm.max_map_count=262144' as root (and add "
        "'vm.max_map_count = 262144' to /etc/sysctl.conf to keep it)."
    ]


def test_enough_max_map_count_passes(engine: AddonEngine) -> None:
    (engine.proc / "vm").mkdir()
    (engine.proc / "vm" / "max_map_count").write_text("262144\n")
    assert engine.check_host(spec_of("elasticsearch")) == []


@pytest.mark.parametrize(
    ("service", "var", "url"),
    [
        ("postgres", "DATABASE_URL", "postgres://app:{p}@{r}:5432/app"),
        ("redis", "REDIS_URL", "redis://:{p}@{r}:6379"),
        ("memcached", "MEMCACHED_URL", "memcached://{r}:11211"),
        ("rabbitmq", "RABBITMQ_URL", "amqp://app:{p}@{r}:5672/app"),
    ],
    ids=["postgres", "redis", "memcached", "rabbitmq"],
)
def test_service_url(service: str, var: str, url: str) -> None:
    found = find_service(service)
    spec = spec_of(service)
    expected = url.format(p=PASSWORD, r=f"{service}-swift-12345")
    assert spec.attachment_vars(found.attach_as) == {var: expected}


def test_postgres_gets_its_password_by_environment() -> None:
    assert spec_of("postgres").environment["POSTGRES_PASSWORD"] == PASSWORD


def test_redis_command_requires_the_password() -> None:
    command = spec_of("redis").command or ""
    assert f"--requirepass {PASSWORD}" in command


def test_credentials_are_fresh_hex() -> None:
    first = generate_credentials(["password"])
    assert first != generate_credentials(["password"])
    assert len(first["password"]) == 32 and int(first["password"], 16) >= 0


def test_bad_template_names_the_service() -> None:
    found = find_service("postgres")
    with pytest.raises(InvalidInput, match="Add-on service 'postgres' has a bad"):
        render_spec(found, found.plan(None), "postgres-a-12345", {})


def test_spec_round_trips_through_json() -> None:
    spec = spec_of("redis")
    assert AddonSpec.from_json(spec.to_json()) == spec


def test_pull_error_names_image_and_mirroring() -> None:
    ref = "docker.elastic.co/elasticsearch/elasticsearch:8.17.0"
    error = translate_pull_error(BackendUnavailable("No registry has it."), ref)
    assert error.message.startswith(f"Could not pull {ref!r}: No registry has it. ")
    assert error.message.endswith(mirror_hint(ref))
    assert "127.0.0.1:5000/elasticsearch/elasticsearch:8.17.0" in error.message


def test_pull_error_naming_the_image_stays() -> None:
    ref = "library/postgres:99"
    error = ImageNotFound(f"Image {ref!r} is not in reach. Mirror it: ...")
    assert translate_pull_error(error, ref) is error
