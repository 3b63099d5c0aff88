"""Fixtures shared by the unit tests: a platform on a fake backend, an API.

Everything runs in-process against a temporary data dir and
``paas.scheduler.fake.FakeBackend``; nothing here needs Docker. The
end-to-end fixtures live in ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from paas.api.app import build_app
from paas.api.deps import Services
from paas.builder import Builder
from paas.logs import LogStore
from paas.platform import Platform
from paas.reconciler import Reconciler
from paas.rollout import roll_out
from paas.scheduler.fake import FakeBackend
from paas.settings import Settings
from paas.store import Release, Store

TOKEN = "test-token"
Deploy = Callable[..., Release]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a platform in a temporary dir, with short timeouts."""
    return Settings(
        home=tmp_path / "home",
        boot_timeout=2.0,
        stop_timeout=1,
        release_timeout=2.0,
        drain_timeout=1.0,
    )


@pytest.fixture
def store(settings: Settings) -> Store:
    """An empty state store."""
    return Store(settings.database_path)


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    """An in-memory scheduler backend, closed after the test."""
    fake = FakeBackend()
    yield fake
    fake.close()


@pytest.fixture
def platform(settings: Settings, store: Store, backend: FakeBackend) -> Platform:
    """A platform wired to the fake backend and a temporary store."""
    logs = LogStore(settings.home / "logs")
    return Platform(settings, store, backend, logs, "test")


@pytest.fixture
def reconciler(platform: Platform) -> Reconciler:
    """A reconciler whose loop is not started: tests run passes by hand."""
    return Reconciler(platform)


@pytest.fixture
def api(platform: Platform, reconciler: Reconciler) -> Services:
    """The services behind the API, with a builder that has no engine."""
    # Unit tests never build, so the builder gets a stand-in Docker client.
    builder = Builder(object(), "test", platform.settings.stack)
    return Services(platform, builder, reconciler, TOKEN)


@pytest.fixture
def client(api: Services) -> Iterator[TestClient]:
    """A client of the API that sends the platform's token."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(build_app(api), headers=headers) as test_client:
        yield test_client


@pytest.fixture
def deploy(platform: Platform) -> Deploy:
    """Return a function that releases an image of an app and rolls it out.

    It creates the app on first use, as a push would. Its arguments are the
    app, the release's ``process_types`` (default: one web process) and the
    app's ``config_vars`` to set first.
    """

    def release_app(
        app: str = "shop",
        process_types: dict[str, str] | None = None,
        config_vars: dict[str, str] | None = None,
    ) -> Release:
        if app not in {found.name for found in platform.store.list_apps()}:
            platform.create_app(app)
        if config_vars is not None:
            platform.store.set_config_vars(app, config_vars)
        number = len(platform.store.list_releases(app)) + 1
        release = platform.store.create_release(
            app,
            description=f"Deploy c0ffee{number}",
            image=f"paas/{app}:build{number}",
            commit=f"c0ffee{number}",
            build_id=f"build{number}",
            config_vars=platform.store.get_app(app).config_vars,
            process_types=process_types or {"web": "python app.py"},
            created_by="git push",
        )
        roll_out(platform, release)
        return platform.store.get_release(app, release.version)

    return release_app


def api_transport(client: TestClient) -> httpx.MockTransport:
    """An httpx transport that hands the CLI's requests to the in-process API."""

    def forward(request: httpx.Request) -> httpx.Response:
        answer = client.request(
            request.method,
            request.url.path,
            params=dict(request.url.params),
            content=request.content,
            headers={"content-type": "application/json"},
        )
        return httpx.Response(
            answer.status_code, headers=answer.headers, content=answer.content
        )

    return httpx.MockTransport(forward)
