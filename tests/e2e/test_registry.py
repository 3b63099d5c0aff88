"""The registry client, pulls, pushes and registry:* commands on a real registry.

A registry of our own (deploy/registry, Debian's docker-registry) runs on a
free port with its storage in a temporary dir, so the catalog holds exactly
the tiny images these tests push, more than one page of them.
"""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from paas.api.app import build_app
from paas.api.deps import Services
from paas.builder import Builder
from paas.cli.client import Client
from paas.cli.main import cli
from paas.deploys import push_release_image
from paas.errors import DeployFailed, ImageNotFound, RegistryError
from paas.logs import LogStore
from paas.platform import Platform
from paas.reconciler import Reconciler
from paas.registry import (
    Registry,
    RegistryClient,
    inspect_image,
    pull_image,
    push_image,
)
from paas.scheduler.fake import FakeBackend
from paas.settings import Settings
from paas.store import Store
from tests.conftest import TOKEN
from tests.e2e.conftest import (
    APPS,
    ROOT,
    Result,
    commit_all,
    deploy_app,
    free_port,
    make_repo,
    remove_docker_objects,
    start_platform,
    stop_platform,
)
from tests.e2e.conftest import Platform as E2EPlatform

RUN = secrets.token_hex(4)
LABEL = "paas.test-registry"
IMAGES = [f"paas-test/img-{i}" for i in range(5)]


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    """A registry of our own on a free loopback port, removed afterwards."""
    if os.getuid() != 0:
        pytest.skip("deploy/registry installs and starts a registry: run as root")
    home = tempfile.mkdtemp(prefix="paas-test-registry-", dir="/var/tmp")
    port = free_port()
    env = {**os.environ, "PAAS_REGISTRY_DIR": home, "PAAS_REGISTRY_PORT": str(port)}
    script = str(ROOT / "deploy" / "registry")
    subprocess.run([script], env=env, check=True, capture_output=True)
    try:
        yield Registry(f"127.0.0.1:{port}", "http")
    finally:
        subprocess.run([script, "stop"], env=env, check=True, capture_output=True)
        shutil.rmtree(home)


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    """The Docker engine; every image this module labelled is removed after."""
    client = docker.from_env()
    yield client
    for image in client.images.list(filters={"label": f"{LABEL}={RUN}"}):
        client.images.remove(image.id, force=True)
    client.close()


def build_tiny(engine: docker.DockerClient, name: str, tag: str) -> str:
    """Import an image of one small random file; return its reference.

    One import, not a build: a build's intermediate images can be pruned
    by a concurrent 'docker image prune' before the build finishes.
    """
    payload = secrets.token_bytes(2048)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        entry = tarfile.TarInfo("payload")
        entry.size, entry.mode = len(payload), 0o755
        tar.addfile(entry, io.BytesIO(payload))
    changes = [
        f"LABEL {LABEL}={RUN}",
        "EXPOSE 8080/tcp",
        'ENTRYPOINT ["/payload"]',
        'CMD ["--serve"]',
    ]
    engine.api.import_image_from_data(
        archive.getvalue(), repository=name, tag=tag, changes=changes
    )
    return f"{name}:{tag}"


@pytest.fixture(scope="module")
def pushed(
    registry: Registry,
    engine: docker.DockerClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, list[str]]:
    """Push five one-layer images, the first under three tags; return the lines."""
    lines: dict[str, list[str]] = {}
    for name in IMAGES:
        tags = ["1", "2", "3"] if name == IMAGES[0] else ["1"]
        for tag in tags:
            ref = build_tiny(engine, name, tag)
            lines[ref] = []
            push_image(ref, registry, lines[ref].append, client=engine)
    return lines


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The API of a platform on a fake backend (the e2e platform is not needed)."""
    settings = Settings(home=tmp_path / "home")
    backend = FakeBackend()
    logs = LogStore(settings.home / "logs")
    platform = Platform(settings, Store(settings.database_path), backend, logs, "test")
    builder = Builder(object(), "test", settings.stack)  # type: ignore[arg-type]
    found = Services(platform, builder, Reconciler(platform), TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(build_app(found), headers=headers) as test_client:
        yield test_client
    backend.close()


@pytest.fixture
def api_env(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the platform's registry settings at the test registry."""
    monkeypatch.setenv("PAAS_REGISTRIES", registry.host)
    monkeypatch.setenv("PAAS_REGISTRY_AUTH_FILE", "/nonexistent")
    monkeypatch.delenv("PAAS_RELEASE_REGISTRY", raising=False)


# the client


def test_push_streams_condensed_progress(pushed: dict[str, list[str]]) -> None:
    lines = pushed["paas-test/img-1:1"]
    assert any(line.endswith(": Pushed") for line in lines), lines
    assert any("digest: sha256:" in line for line in lines), lines


def test_catalog_is_read_page_by_page(registry: Registry, pushed: object) -> None:
    first = httpx.get(f"{registry.url}/v2/_catalog", params={"n": 2})
    assert first.json() == {"repositories": IMAGES[:2]}
    assert first.links["next"]["url"] == "/v2/_catalog?last=paas-test%2Fimg-1&n=2"
    with RegistryClient(registry) as client:
        assert client.repositories(page_size=2) == IMAGES
        assert client.repositories() == IMAGES


def test_tags_are_read_page_by_page(registry: Registry, pushed: object) -> None:
    with RegistryClient(registry) as client:
        # Debian's docker-registry (distribution 2.8) sends every tag in one
        # unsorted page whatever n says; paged tags are tested with a mock.
        assert sorted(client.tags(IMAGES[0], page_size=2)) == ["1", "2", "3"]
        assert client.tags(IMAGES[1], page_size=2) == ["1"]
        with pytest.raises(ImageNotFound, match="no repository"):
            client.tags("paas-test/absent")


def test_inspect_shows_digest_layers_and_config(
    registry: Registry, engine: docker.DockerClient, pushed: object
) -> None:
    with RegistryClient(registry) as client:
        info = inspect_image(client, IMAGES[2], "1")
        manifest, _, digest = client.manifest(IMAGES[2], "1")
    local = engine.images.get(f"{IMAGES[2]}:1")
    assert info.config_digest == local.id
    assert info.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert len(info.layers) == 1 and 2048 < info.layers[0].size < 4096
    assert info.total_size == manifest["config"]["size"] + info.layers[0].size
    assert info.digest == digest
    assert (info.entrypoint, info.cmd) == (["/payload"], ["--serve"])
    assert info.exposed_ports == ["8080/tcp"]
    assert info.labels == {LABEL: RUN}
    assert info.created and info.created.startswith("20")


def test_inspect_of_a_multi_platform_index(registry: Registry, pushed: object) -> None:
    # docker 20.10 cannot push an index without buildx: PUT one by hand over
    # two of the pushed manifests, as amd64 and arm64 (registry spec: PUT
    # /v2/<name>/manifests/<tag>, children must exist in the repository).
    name = IMAGES[0]
    with RegistryClient(registry) as client:
        amd64_digest = client.manifest(name, "1")[2]
        arm64_digest = client.manifest(name, "2")[2]
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            index_entry(registry, name, amd64_digest, "amd64"),
            index_entry(registry, name, arm64_digest, "arm64"),
        ],
    }
    put = httpx.put(
        f"{registry.url}/v2/{name}/manifests/multi",
        content=json.dumps(index).encode(),
        headers={"Content-Type": index["mediaType"]},
    )
    assert put.status_code == 201, put.text
    digest = put.headers["docker-content-digest"]
    try:
        with RegistryClient(registry) as client:
            info = inspect_image(client, name, "multi")
            other = inspect_image(client, name, "multi", platform="linux/arm64")
    finally:
        # Other tests count this repository's tags.
        httpx.delete(f"{registry.url}/v2/{name}/manifests/{digest}")
    assert (info.media_type, info.digest) == (index["mediaType"], digest)
    assert [p.platform for p in info.platforms] == ["linux/amd64", "linux/arm64"]
    assert (info.manifest_digest, other.manifest_digest) == (amd64_digest, arm64_digest)
    assert info.layers and info.layers != other.layers


def index_entry(
    registry: Registry, name: str, digest: str, arch: str
) -> dict[str, Any]:
    """Describe a pushed manifest as an index entry, with its exact size."""
    media_type = "application/vnd.docker.distribution.manifest.v2+json"
    url = f"{registry.url}/v2/{name}/manifests/{digest}"
    head = httpx.head(url, headers={"Accept": media_type})
    return {
        "mediaType": head.headers["content-type"],
        "digest": digest,
        "size": int(head.headers["content-length"]),
        "platform": {"os": "linux", "architecture": arch},
    }


# pulls


def test_pull_fetches_from_the_registry_and_tags_the_plain_ref(
    registry: Registry, engine: docker.DockerClient, pushed: object
) -> None:
    ref = f"{IMAGES[3]}:1"
    engine.images.remove(ref, force=True)
    lines: list[str] = []
    assert pull_image(ref, lines.append, registries=[registry], client=engine) == ref
    assert lines[0] == f"       Pulling {ref} from {registry.host}"
    assert any(line.endswith(": Pull complete") for line in lines), lines
    assert engine.images.get(ref).labels == {LABEL: RUN}


def test_pull_tries_registries_in_order(
    registry: Registry, engine: docker.DockerClient, pushed: object
) -> None:
    closed = Registry(f"127.0.0.1:{free_port()}", "http")
    lines: list[str] = []
    ref = f"{IMAGES[4]}:1"
    # No client given: pull_image opens and closes an engine client of its own.
    pull_image(ref, lines.append, registries=[closed, registry])
    assert lines[0] == f"       Pulling {ref} from {registry.host}"


def test_pull_of_an_image_no_registry_has_says_how_to_mirror(
    registry: Registry, engine: docker.DockerClient
) -> None:
    with pytest.raises(ImageNotFound) as caught:
        pull_image("elasticsearch:8.15.0", print, registries=[registry], client=engine)
    mirror = f"{registry.host}/library/elasticsearch:8.15.0"
    assert caught.value.message == (
        "Image 'elasticsearch:8.15.0' is not in reach: none of the registries "
        f"has it ({registry.host}: no library/elasticsearch:8.15.0). Mirror it: "
        "run 'deploy/registry-fill' for postgres, redis and memcached, or on a "
        "machine with the image run 'docker tag elasticsearch:8.15.0 "
        f"{mirror}' and 'docker push {mirror}'."
    )
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get("elasticsearch:8.15.0")


def test_an_image_only_the_engine_has_is_used_as_it_is(
    registry: Registry, engine: docker.DockerClient
) -> None:
    ref = build_tiny(engine, "paas-test/local-only", "1")
    lines: list[str] = []
    assert pull_image(ref, lines.append, registries=[registry], client=engine) == ref
    assert lines == [f"       Using {ref} from the engine: no registry has it"]


# the API and the CLI


def test_api_lists_images_tags_and_manifests(
    client: TestClient, api_env: None, registry: Registry, pushed: object
) -> None:
    images = client.get("/v1/registry/images", params={"n": 2}).json()
    assert images == {"registry": registry.host, "repositories": IMAGES}
    tags = client.get(f"/v1/registry/images/{IMAGES[0]}/tags", params={"n": 1})
    assert tags.json() == {
        "registry": registry.host,
        "name": IMAGES[0],
        "tags": ["1", "2", "3"],
    }
    info = client.get(f"/v1/registry/images/{IMAGES[0]}/manifests/2").json()
    assert (info["name"], info["reference"], info["exposed_ports"]) == (
        IMAGES[0],
        "2",
        ["8080/tcp"],
    )


def test_api_errors_name_the_image_and_the_registry(
    client: TestClient, api_env: None, registry: Registry, pushed: object
) -> None:
    missing = client.get("/v1/registry/images/paas-test/absent/tags")
    assert (missing.status_code, missing.json()["id"]) == (404, "ImageNotFound")
    other = client.get("/v1/registry/images", params={"registry": "elsewhere:5000"})
    assert other.status_code == 422
    assert other.json()["error"] == (
        f"Registry 'elsewhere:5000' is not configured: use one of {registry.host} "
        "(PAAS_REGISTRIES, PAAS_RELEASE_REGISTRY)."
    )


def test_api_says_when_the_registry_does_not_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("PAAS_REGISTRIES", f"127.0.0.1:{port}")
    response = client.get("/v1/registry/images")
    assert response.status_code == 503
    assert response.json()["id"] == "RegistryError"
    assert f"Registry '127.0.0.1:{port}' did not answer" in response.json()["error"]


def cli_run(client: TestClient, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """Run the CLI against the in-process API."""
    monkeypatch.setenv("PAAS_URL", str(client.base_url))
    monkeypatch.setenv("PAAS_TOKEN", client.headers["authorization"].split()[-1])

    def forward(request: httpx.Request) -> httpx.Response:
        answer = client.request(
            request.method, request.url.raw_path.decode(), headers=request.headers
        )
        headers = {"x-paas-api-version": answer.headers["x-paas-api-version"]}
        return httpx.Response(
            answer.status_code, headers=headers, content=answer.content
        )

    transport = httpx.MockTransport(forward)
    monkeypatch.setattr("paas.cli.registry.Client", lambda: Client(transport=transport))
    return CliRunner().invoke(cli, list(args), prog_name="paas")


def test_cli_shows_images_tags_and_an_image(
    client: TestClient,
    api_env: None,
    registry: Registry,
    pushed: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    images = cli_run(client, monkeypatch, "registry:images", "-n", "2")
    assert images.output.splitlines() == [
        f"=== {registry.host} (5 repositories)",
        *IMAGES,
    ]
    tags = cli_run(client, monkeypatch, "registry:tags", IMAGES[0])
    assert tags.output.splitlines() == [
        f"=== {registry.host}/{IMAGES[0]} (3 tags)",
        "1",
        "2",
        "3",
    ]
    shown = cli_run(client, monkeypatch, "registry:inspect", f"{IMAGES[1]}:1")
    lines = shown.output.splitlines()
    assert lines[0] == f"=== {IMAGES[1]}:1"
    assert f"Registry:    {registry.host}" in lines
    assert 'Entrypoint:  ["/payload"]' in lines
    assert "Ports:       8080/tcp" in lines
    assert lines[-2] == "Layers (1):"
    assert lines[-1].startswith("  sha256:") and lines[-1].endswith(" KB")


def test_cli_inspect_of_a_missing_tag_is_an_error(
    client: TestClient,
    api_env: None,
    registry: Registry,
    pushed: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = cli_run(client, monkeypatch, "registry:info", f"{IMAGES[1]}:9")
    assert result.exit_code == 1
    assert "has no such tag or digest" in result.output


# release images


class EngineOnly:
    """The part of a Builder that pushing a release image uses."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client


def test_release_image_is_pushed_when_a_release_registry_is_set(
    registry: Registry, engine: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = build_tiny(engine, "paas/regtest", RUN)
    monkeypatch.setenv("PAAS_RELEASE_REGISTRY", registry.host)
    lines: list[str] = []
    push_release_image(EngineOnly(engine), image, lines.append)  # type: ignore[arg-type]
    assert lines[0] == f"-----> Pushing the image to {registry.host}"
    assert lines[-1] == f"       Pushed {registry.host}/paas/regtest:{RUN}"
    with RegistryClient(registry) as client:
        assert client.tags("paas/regtest") == [RUN]
    # The push tag is removed again; the image keeps its own name.
    assert engine.images.get(image).tags == [image]


def test_a_failed_release_push_fails_the_deploy_clearly(
    engine: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = build_tiny(engine, "paas/regtest", f"{RUN}-fail")
    closed = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("PAAS_RELEASE_REGISTRY", closed)
    with pytest.raises(DeployFailed) as caught:
        push_release_image(EngineOnly(engine), image, print)  # type: ignore[arg-type]
    message = caught.value.message
    assert message.startswith(f"Pushing '{closed}/paas/regtest:{RUN}-fail' failed: ")
    assert message.endswith(
        "Nothing was released: fix the registry or unset PAAS_RELEASE_REGISTRY, "
        "then push again."
    )


def test_no_release_registry_pushes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAAS_RELEASE_REGISTRY", raising=False)
    lines: list[str] = []
    push_release_image(EngineOnly(None), "paas/x:1", lines.append)  # type: ignore[arg-type]
    assert lines == []


@pytest.fixture(scope="module")
def pushing_platform(
    registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[E2EPlatform]:
    """A platform of its own that pushes release images to the test registry."""
    home = tmp_path_factory.mktemp("paas-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAAS_RELEASE_REGISTRY", registry.host)
        patch.setenv("PAAS_REGISTRIES", registry.host)
        patch.setenv("PAAS_REGISTRY_AUTH_FILE", "/nonexistent")
        running = start_platform(home, free_port(), free_port())
    try:
        yield running
    finally:
        platform_id = running.platform_id
        stop_platform(running)
        remove_docker_objects(platform_id)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def first_push(
    pushing_platform: E2EPlatform, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Result]:
    """Push the Dockerfile app once: its name, repo and push output."""
    tmp = tmp_path_factory.mktemp("repo")
    repo = make_repo(tmp / "app", APPS / "dockerfile", pushing_platform.env)
    name = f"reg-{RUN}"
    return name, repo, deploy_app(pushing_platform, name, repo)


def test_git_push_pushes_the_release_image_to_the_registry(
    pushing_platform: E2EPlatform,
    registry: Registry,
    first_push: tuple[str, Path, Result],
) -> None:
    name, _, pushed = first_push
    assert pushed.code == 0, pushed.remote
    lines = pushed.remote.splitlines()
    assert f"remote: -----> Pushing the image to {registry.host}" in lines
    [done] = [line for line in lines if line.startswith("remote:        Pushed ")]
    build_id = done.rsplit(":", 1)[1]
    assert done == f"remote:        Pushed {registry.host}/paas/{name}:{build_id}"
    assert lines.index(done) < lines.index("remote: -----> Launching...")

    listed = pushing_platform.paas("registry:tags", f"paas/{name}")
    assert listed.stdout.splitlines() == [
        f"=== {registry.host}/paas/{name} (1 tags)",
        build_id,
    ]
    shown = pushing_platform.paas(
        "registry:inspect", f"paas/{name}:{build_id}", "--json"
    )
    info = json.loads(shown.stdout)
    assert (info["name"], info["reference"]) == (f"paas/{name}", build_id)
    # The stack's layer alone is tens of MB; the config blob adds a little.
    layers = sum(layer["size"] for layer in info["layers"])
    assert info["total_size"] > layers > 10 * 1024 * 1024


def test_release_info_shows_layers_shared_with_the_release_before(
    pushing_platform: E2EPlatform, first_push: tuple[str, Path, Result]
) -> None:
    name, repo, pushed = first_push
    assert pushed.code == 0, pushed.remote
    server = repo / "server.py"
    server.write_text(server.read_text() + "\n# a change of code only\n")
    commit_all(repo, pushing_platform.env, "change")
    again = pushing_platform.git("push", "paas", "main", cwd=repo)
    assert again.code == 0, again.remote

    found = pushing_platform.api("GET", f"/v1/apps/{name}/releases/2/layers").json()
    assert found["previous"]["version"] == 1
    shared = [layer["shared"] for layer in found["layers"]]
    # The stack's layer is shared; the COPY of the changed code is not.
    assert shared[0] is True and False in shared
    assert 0 < found["shared_size"] < found["total_size"]

    shown = pushing_platform.paas("releases:info", "v2", "-a", name)
    lines = shown.stdout.splitlines()
    count = len(found["layers"])
    assert f"=== Layers ({count}, {shared.count(True)} shared with v1)" in lines
    copy = [line for line in lines if " new " in line and "COPY" in line]
    assert len(copy) == 1, shown.stdout
    first = pushing_platform.paas("releases:info", "v1", "-a", name).stdout
    assert f"=== Layers ({count})" in first.splitlines()


# Basic auth on a real registry


@pytest.fixture(scope="module")
def secure_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry of our own that wants HTTP Basic auth (ann / a password)."""
    if os.getuid() != 0:
        pytest.skip("deploy/registry installs and starts a registry: run as root")
    password = secrets.token_hex(12)
    htpasswd = tmp_path_factory.mktemp("auth") / "htpasswd"
    htpasswd.write_text(f"ann:{bcrypt_hash(password)}\n")
    home = tempfile.mkdtemp(prefix="paas-test-registry-", dir="/var/tmp")
    port = free_port()
    env = {
        **os.environ,
        "PAAS_REGISTRY_DIR": home,
        "PAAS_REGISTRY_PORT": str(port),
        "PAAS_REGISTRY_HTPASSWD": str(htpasswd),
    }
    script = str(ROOT / "deploy" / "registry")
    subprocess.run([script], env=env, check=True, capture_output=True)
    try:
        yield Registry(f"127.0.0.1:{port}", "http", "ann", password)
    finally:
        subprocess.run([script, "stop"], env=env, check=True, capture_output=True)
        shutil.rmtree(home)


def bcrypt_hash(password: str) -> str:
    """Hash a password as 'htpasswd -B' does (the registry takes only bcrypt)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt  # deprecated, but in 3.11-3.12 the one stdlib bcrypt
        except ImportError:
            pytest.skip("no crypt module (Python 3.13+) to make a bcrypt htpasswd")
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


@pytest.fixture(scope="module")
def secure_image(secure_registry: Registry, engine: docker.DockerClient) -> str:
    """Push one tiny image to the secure registry with its credentials."""
    ref = build_tiny(engine, "paas-test/secure", "1")
    push_image(ref, secure_registry, lambda line: None, client=engine)
    return ref


def test_basic_auth_lists_with_credentials_only(
    secure_registry: Registry, secure_image: str
) -> None:
    with RegistryClient(secure_registry) as client:
        assert client.repositories() == ["paas-test/secure"]
    anonymous = Registry(secure_registry.host, "http")
    with RegistryClient(anonymous) as client, pytest.raises(RegistryError) as caught:
        client.repositories()
    assert f"docker login {secure_registry.host}" in caught.value.message
    wrong = Registry(secure_registry.host, "http", "ann", "wrong")
    with RegistryClient(wrong) as client, pytest.raises(RegistryError) as caught:
        client.repositories()
    assert "check the password of 'ann'" in caught.value.message


def test_pull_uses_credentials_from_a_docker_login_file(
    secure_registry: Registry,
    secure_image: str,
    engine: docker.DockerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pair = f"ann:{secure_registry.password}".encode()
    auths = {secure_registry.host: {"auth": base64.b64encode(pair).decode()}}
    (tmp_path / "config.json").write_text(json.dumps({"auths": auths}))
    monkeypatch.setenv("PAAS_REGISTRY_AUTH_FILE", str(tmp_path / "config.json"))
    monkeypatch.setenv("PAAS_REGISTRIES", secure_registry.host)
    engine.images.remove(secure_image, force=True)
    lines: list[str] = []
    assert pull_image(secure_image, lines.append, client=engine) == secure_image
    assert lines[0] == f"       Pulling {secure_image} from {secure_registry.host}"
    assert engine.images.get(secure_image).labels == {LABEL: RUN}
