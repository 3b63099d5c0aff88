"""Every API and git request needs the platform's token."""

from __future__ import annotations

import base64
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from paas.api.app import build_app
from paas.api.auth import load_or_create_token, token_from_header
from paas.api.deps import Services
from tests.conftest import TOKEN

UNAUTHORIZED = {
    "id": "unauthorized",
    "error": "Missing or wrong API token. Run 'paas login' or set PAAS_TOKEN.",
}


@pytest.fixture
def anonymous(api: Services) -> Iterator[TestClient]:
    """A client of the API that sends no token of its own."""
    with TestClient(build_app(api)) as test_client:
        yield test_client


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_request_without_token_is_refused(anonymous: TestClient) -> None:
    response = anonymous.get("/v1/apps")
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_refusal_asks_for_basic_credentials(anonymous: TestClient) -> None:
    response = anonymous.get("/v1/apps")
    assert response.headers["www-authenticate"] == 'Basic realm="paas"'


def test_refusal_still_names_the_api_version(anonymous: TestClient) -> None:
    assert anonymous.get("/v1/apps").headers["x-paas-api-version"] == "1"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        basic("paas", "wrong-token"),
        basic(TOKEN, ""),
        f"Token {TOKEN}",
        "Basic not*base64",
    ],
    ids=[
        "wrong-bearer",
        "longer-bearer",
        "wrong-password",
        "token-as-user",
        "other-scheme",
        "bad-base64",
    ],
)
def test_wrong_credentials_are_refused(
    anonymous: TestClient, authorization: str
) -> None:
    response = anonymous.get("/v1/apps", headers={"Authorization": authorization})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}", f"bearer {TOKEN}", basic("paas", TOKEN), basic("", TOKEN)],
    ids=["bearer", "lowercase-scheme", "basic-password", "basic-no-user"],
)
def test_right_token_is_accepted(anonymous: TestClient, authorization: str) -> None:
    response = anonymous.get("/v1/apps", headers={"Authorization": authorization})
    assert (response.status_code, response.json()) == (200, [])


def test_git_requests_need_the_token_too(anonymous: TestClient) -> None:
    response = anonymous.get("/shop.git/info/refs?service=git-receive-pack")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("Bearer  abc ", "abc"),
        (basic("user", "p:ss"), "p:ss"),
        ("Basic abc", None),
        ("Digest abc", None),
        ("", None),
    ],
    ids=[
        "bearer",
        "bearer-spaces",
        "basic-colon-in-password",
        "bad-base64-padding",
        "digest",
        "empty",
    ],
)
def test_token_is_read_from_the_header(header: str, token: str | None) -> None:
    assert token_from_header(header) == token


def test_token_file_is_created_private(tmp_path: Path) -> None:
    token, created = load_or_create_token(tmp_path / "token")
    mode = stat.S_IMODE((tmp_path / "token").stat().st_mode)
    assert (created, mode, len(token) >= 40) == (True, 0o600, True)


def test_existing_token_file_is_reused(tmp_path: Path) -> None:
    first, _ = load_or_create_token(tmp_path / "token")
    assert load_or_create_token(tmp_path / "token") == (first, False)
