"""The registry client against a registry played by an httpx MockTransport."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from paas.errors import ImageNotFound, InvalidInput, RegistryError
from paas.registry import Registry, RegistryClient, inspect_image, parse_ref
from paas.registry.config import (
    load_credentials,
    parse_registries,
    registries_from_env,
    release_registry_from_env,
)
from paas.registry.images import Progress

Handler = Callable[[httpx.Request], httpx.Response]
LOCAL = Registry("127.0.0.1:5000", "http")
SECURE = Registry("registry.test", "https", "ann", "s3cret")
INDEX = "application/vnd.oci.image.index.v1+json"
OCI = "application/vnd.oci.image.manifest.v1+json"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def client_of(handler: Handler, registry: Registry = LOCAL) -> RegistryClient:
    return RegistryClient(registry, transport=httpx.MockTransport(handler))


def errors(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "detail": None}]}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def paged(items: list[str], key: str, path: str) -> Handler:
    """Serve a list in pages the way distribution does (n, last, Link)."""

    def handle(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params.get("n", "1000"))
        last = request.url.params.get("last")
        start = items.index(last) + 1 if last else 0
        page = items[start : start + size]
        headers = {}
        if start + size < len(items):
            link = f"{path}?last={page[-1]}&n={size}"
            headers["Link"] = f'<{link}>; rel="next"'
        return httpx.Response(200, json={key: page}, headers=headers)

    return handle


# pagination


def test_catalog_follows_link_headers_through_every_page() -> None:
    names = [f"team/app-{i}" for i in range(5)]
    seen: list[str] = []
    serve = paged(names, "repositories", "/v2/_catalog")

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return serve(request)

    assert client_of(handle).repositories(page_size=2) == names
    assert seen == [
        "http://127.0.0.1:5000/v2/_catalog?n=2",
        "http://127.0.0.1:5000/v2/_catalog?last=team/app-1&n=2",
        "http://127.0.0.1:5000/v2/_catalog?last=team/app-3&n=2",
    ]


def test_tags_are_paginated_like_the_catalog() -> None:
    tags = ["1", "1.1", "2", "latest"]
    serve = paged(tags, "tags", "/v2/library/redis/tags/list")
    assert client_of(serve).tags("library/redis", page_size=3) == tags


def test_a_repository_with_no_tags_lists_none() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"name": "x/y", "tags": None})

    assert client_of(handle).tags("x/y") == []


def test_a_bad_page_size_is_invalid_input() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        body = errors("PAGINATION_NUMBER_INVALID", "invalid number of results")
        return httpx.Response(400, json=body)

    with pytest.raises(InvalidInput, match="invalid number of results"):
        client_of(handle).repositories(page_size=-1)


# auth


def test_basic_challenge_is_answered_and_remembered() -> None:
    sent: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("authorization"))
        if request.headers.get("authorization") != basic("ann", "s3cret"):
            challenge = {"WWW-Authenticate": 'Basic realm="Registry Realm"'}
            return httpx.Response(
                401, json=errors("UNAUTHORIZED", "x"), headers=challenge
            )
        return httpx.Response(200, json={"repositories": ["a"]})

    client = client_of(handle, SECURE)
    assert client.repositories() == ["a"]
    assert client.repositories() == ["a"]
    assert sent == [None, basic("ann", "s3cret"), basic("ann", "s3cret")]


class TokenRegistry:
    """A registry whose token service wants Basic credentials (token.md)."""

    def __init__(self) -> None:
        self.token_requests: list[httpx.Request] = []
        self.api_auth: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            return self.token(request)
        self.api_auth.append(request.headers.get("authorization"))
        scope = "repository:library/redis:pull"
        if request.headers.get("authorization") != "Bearer tok-1":
            challenge = (
                'Bearer realm="https://auth.test/token",'
                f'service="registry.test",scope="{scope}"'
            )
            headers = {"WWW-Authenticate": challenge}
            return httpx.Response(
                401, json=errors("UNAUTHORIZED", "x"), headers=headers
            )
        return httpx.Response(200, json={"name": "library/redis", "tags": ["8"]})

    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        if request.headers.get("authorization") != basic("ann", "s3cret"):
            return httpx.Response(401, json={"details": "bad credentials"})
        return httpx.Response(200, json={"token": "tok-1", "expires_in": 300})


def test_bearer_challenge_fetches_a_token_and_retries() -> None:
    registry = TokenRegistry()
    client = client_of(registry, SECURE)
    assert client.tags("library/redis") == ["8"]
    [token_request] = registry.token_requests
    assert token_request.url.params["service"] == "registry.test"
    assert token_request.url.params["scope"] == "repository:library/redis:pull"
    assert registry.api_auth == [None, "Bearer tok-1"]


def test_a_bearer_token_is_reused_for_its_scope() -> None:
    registry = TokenRegistry()
    client = client_of(registry, SECURE)
    client.tags("library/redis")
    client.tags("library/redis")
    assert len(registry.token_requests) == 1
    assert registry.api_auth == [None, "Bearer tok-1", "Bearer tok-1"]


def test_a_refused_token_names_the_user_and_what_to_check() -> None:
    wrong = Registry("registry.test", "https", "ann", "wrong")
    with pytest.raises(RegistryError) as caught:
        client_of(TokenRegistry(), wrong).tags("library/redis")
    assert "refused to issue a token" in caught.value.message
    assert "check the password of 'ann'" in caught.value.message
    assert "wrong" not in caught.value.message


def test_a_challenge_without_credentials_says_how_to_log_in() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        headers = {"WWW-Authenticate": 'Basic realm="r"'}
        return httpx.Response(401, json=errors("UNAUTHORIZED", "auth"), headers=headers)

    with pytest.raises(RegistryError, match="docker login 127.0.0.1:5000"):
        client_of(handle).repositories()


def test_denied_after_auth_is_a_registry_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json=errors("DENIED", "requested access denied"))

    with pytest.raises(RegistryError, match="DENIED: requested access denied"):
        client_of(handle, SECURE).tags("x/y")


# errors


def test_unknown_repository_is_image_not_found() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json=errors("NAME_UNKNOWN", "repository unknown"))

    with pytest.raises(ImageNotFound, match="no repository for /v2/nope/tags/list"):
        client_of(handle).tags("nope")


def test_unknown_tag_is_image_not_found() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json=errors("MANIFEST_UNKNOWN", "manifest unknown"))

    with pytest.raises(ImageNotFound, match="no such tag or digest"):
        client_of(handle).manifest("library/redis", "99")


def test_head_of_a_missing_tag_is_no_digest() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404)

    assert client_of(handle).digest("library/redis", "99") is None


def test_unreachable_registry_names_it_and_the_fix() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(RegistryError) as caught:
        client_of(handle).repositories()
    assert caught.value.message == (
        "Registry '127.0.0.1:5000' did not answer at http://127.0.0.1:5000: "
        "Connection refused. Check PAAS_REGISTRIES and that the registry runs "
        "('deploy/registry')."
    )


def test_a_server_error_carries_the_registry_message() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json=errors("UNAVAILABLE", "storage down"))

    with pytest.raises(
        RegistryError, match="answered 503 .* UNAVAILABLE: storage down"
    ):
        client_of(handle).repositories()


def test_a_non_json_answer_is_a_registry_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>proxy</html>")

    with pytest.raises(RegistryError, match="is not JSON"):
        client_of(handle).repositories()


# manifests


def image_registry(index: bool) -> Handler:
    """Serve one image: optionally an OCI index over amd64 and arm64."""
    config = {
        "created": "2026-12-04T10:00:00Z",
        "os": "linux",
        "architecture": "amd64",
        "config": {
            "Entrypoint": ["docker-entrypoint.sh"],
            "Cmd": ["redis-server"],
            "Env": ["PATH=/usr/bin"],
            "ExposedPorts": {"6379/tcp": {}},
            "Labels": {"paas.test": "1"},
        },
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI,
        "config": {"mediaType": "x", "digest": "sha256:c0", "size": 100},
        "layers": [
            {"mediaType": "l", "digest": "sha256:l1", "size": 1000},
            {"mediaType": "l", "digest": "sha256:l2", "size": 234},
        ],
    }
    listing = {
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [
            {
                "digest": "sha256:arm",
                "size": 9,
                "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
            },
            {
                "digest": "sha256:amd",
                "size": 9,
                "platform": {"os": "linux", "architecture": "amd64"},
            },
        ],
    }

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v2/library/redis/blobs/sha256:c0":
            return httpx.Response(200, json=config)
        if path == "/v2/library/redis/manifests/8" and index:
            return manifest_response(listing, "sha256:idx")
        if path in (
            "/v2/library/redis/manifests/8",
            "/v2/library/redis/manifests/sha256:amd",
        ):
            return manifest_response(manifest, "sha256:amd")
        return httpx.Response(404, json=errors("MANIFEST_UNKNOWN", path))

    return handle


def manifest_response(body: dict[str, Any], digest: str) -> httpx.Response:
    headers = {"Content-Type": body["mediaType"], "Docker-Content-Digest": digest}
    return httpx.Response(200, content=json.dumps(body).encode(), headers=headers)


def test_manifest_asks_for_every_current_media_type() -> None:
    accepted: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        accepted.append(request.headers["accept"])
        return image_registry(False)(request)

    client_of(handle).manifest("library/redis", "8")
    assert [t.strip() for t in accepted[0].split(",")] == [
        INDEX,
        "application/vnd.docker.distribution.manifest.list.v2+json",
        OCI,
        DOCKER_V2,
    ]


def test_inspect_reads_layers_sizes_and_config() -> None:
    info = inspect_image(client_of(image_registry(False)), "library/redis", "8")
    assert (info.digest, info.media_type, info.platform) == (
        "sha256:amd",
        OCI,
        "linux/amd64",
    )
    assert [(layer.digest, layer.size) for layer in info.layers] == [
        ("sha256:l1", 1000),
        ("sha256:l2", 234),
    ]
    assert info.total_size == 1334
    assert info.created == "2026-12-04T10:00:00Z"
    assert (info.entrypoint, info.cmd) == (["docker-entrypoint.sh"], ["redis-server"])
    assert (info.exposed_ports, info.env) == (["6379/tcp"], ["PATH=/usr/bin"])
    assert info.platforms == []


def test_inspect_of_an_index_lists_platforms_and_reads_amd64() -> None:
    info = inspect_image(client_of(image_registry(True)), "library/redis", "8")
    assert (info.digest, info.media_type) == ("sha256:idx", INDEX)
    assert info.manifest_digest == "sha256:amd"
    assert [p.platform for p in info.platforms] == ["linux/arm64/v8", "linux/amd64"]
    assert info.total_size == 1334


def test_inspect_of_a_missing_platform_lists_those_there() -> None:
    client = client_of(image_registry(True))
    with pytest.raises(ImageNotFound, match="it has linux/arm64/v8, linux/amd64"):
        inspect_image(client, "library/redis", "8", platform="windows/amd64")


def test_inspect_of_a_single_platform_image_checks_the_platform() -> None:
    client = client_of(image_registry(False))
    found = inspect_image(client, "library/redis", "8", platform="linux/amd64")
    with pytest.raises(ImageNotFound) as refused:
        inspect_image(client, "library/redis", "8", platform="linux/arm64")
    assert found.platform == "linux/amd64"
    assert refused.value.message == (
        "library/redis:8 is an image for linux/amd64 only, not 'linux/arm64'."
    )


@pytest.mark.parametrize("platform", ["garbage", "linux", "Linux/AMD64", "a/b/c/d"])
def test_inspect_refuses_a_malformed_platform(platform: str) -> None:
    client = client_of(image_registry(True))
    with pytest.raises(InvalidInput) as refused:
        inspect_image(client, "library/redis", "8", platform=platform)
    assert refused.value.message == (
        f"Platform {platform!r} is not os/arch[/variant]: write it like "
        "linux/amd64 or linux/arm64/v8."
    )


# settings and references


def test_registries_are_read_in_order_with_schemes() -> None:
    found = parse_registries("127.0.0.1:5000, mirror.test:443 http://plain.test")
    assert [(r.host, r.url) for r in found] == [
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("mirror.test:443", "https://mirror.test:443"),
        ("plain.test", "http://plain.test"),
    ]


def test_a_malformed_registry_setting_is_named() -> None:
    with pytest.raises(InvalidInput, match="Registry 'ftp://x' is invalid"):
        parse_registries("ftp://x")


def test_credentials_come_from_a_docker_login_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    auth = base64.b64encode(b"ann:s3cret:with-colon").decode()
    auths = {"https://registry.test/v1/": {"auth": auth}, "other:5000": {"auth": "?"}}
    path.write_text(json.dumps({"auths": auths}))
    env = {
        "PAAS_REGISTRIES": "registry.test 127.0.0.1:5000",
        "PAAS_RELEASE_REGISTRY": "registry.test",
        "PAAS_REGISTRY_AUTH_FILE": str(path),
    }
    assert load_credentials(path) == {"registry.test": ("ann", "s3cret:with-colon")}
    [secure, local] = registries_from_env(env)
    assert (secure.username, secure.password, local.username) == (
        "ann",
        "s3cret:with-colon",
        None,
    )
    assert release_registry_from_env(env) == secure
    assert "s3cret" not in repr(secure)


def test_no_release_registry_by_default() -> None:
    assert release_registry_from_env({}) is None
    assert [
        r.host for r in registries_from_env({"PAAS_REGISTRY_AUTH_FILE": "/nope"})
    ] == ["127.0.0.1:5000"]


@pytest.mark.parametrize(
    ("text", "host", "repository", "reference", "mirrored"),
    [
        ("postgres:17", None, "library/postgres", "17", "m:5/library/postgres:17"),
        ("redis", None, "library/redis", "latest", "m:5/library/redis:latest"),
        ("bitnami/redis:7", None, "bitnami/redis", "7", "m:5/bitnami/redis:7"),
        (
            "docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
            "docker.elastic.co",
            "elasticsearch/elasticsearch",
            "8.15.0",
            "m:5/elasticsearch/elasticsearch:8.15.0",
        ),
        (
            "localhost:5000/app@sha256:" + "a" * 64,
            "localhost:5000",
            "app",
            "sha256:" + "a" * 64,
            "m:5/app@sha256:" + "a" * 64,
        ),
    ],
)
def test_references_split_like_docker(
    text: str, host: str | None, repository: str, reference: str, mirrored: str
) -> None:
    ref = parse_ref(text)
    assert (ref.host, ref.repository, ref.reference) == (host, repository, reference)
    assert ref.on("m:5") == mirrored


@pytest.mark.parametrize("text", ["Postgres:17", "redis:", "a//b", "x:-bad"])
def test_a_malformed_reference_is_named(text: str) -> None:
    with pytest.raises(InvalidInput, match=f"{text!r}"):
        parse_ref(text)


# progress


def test_pull_progress_is_condensed_to_a_few_lines() -> None:
    lines: list[str] = []
    progress = Progress(lines.append, "redis:8")
    events = [
        {"status": "Pulling from library/redis", "id": "8"},
        {"status": "Already exists", "id": "aaa"},
        {"status": "Pulling fs layer", "id": "bbb"},
        {
            "status": "Downloading",
            "id": "bbb",
            "progressDetail": {"current": 1, "total": 3 * 1024 * 1024},
        },
        {
            "status": "Downloading",
            "id": "bbb",
            "progressDetail": {"current": 2, "total": 3 * 1024 * 1024},
        },
        {"status": "Extracting", "id": "bbb", "progressDetail": {"current": 1}},
        {"status": "Pull complete", "id": "bbb"},
        {"status": "Digest: sha256:abc"},
        {"status": "Status: Downloaded newer image for 127.0.0.1:5000/library/redis:8"},
    ]
    for event in events:
        progress.event(event)
    progress.finish()
    assert lines == [
        "       bbb: Downloading (3.0 MB)",
        "       bbb: Pull complete",
        "       Digest: sha256:abc",
        "       Status: Downloaded newer image for 127.0.0.1:5000/library/redis:8",
        "       1 layer(s) already present",
    ]


def test_an_error_event_fails_the_pull_at_the_end() -> None:
    progress = Progress(lambda line: None, "redis:8")
    progress.event({"error": "x", "errorDetail": {"message": "manifest unknown"}})
    with pytest.raises(
        RegistryError, match="Pulling 'redis:8' failed: manifest unknown."
    ):
        progress.finish()
