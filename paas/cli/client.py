"""The CLI's client of the control plane's API."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import httpx

from paas import API_VERSION
from paas.settings import Settings

DEFAULT_URL = "http://127.0.0.1:7070"
REMOTE_APP = re.compile(r"/([a-z][a-z0-9-]*)\.git/?$")


class CliError(click.ClickException):
    """A user error: printed as ``Error: message``, exit 1."""

    def format_message(self) -> str:
        """Return the message as it is."""
        return self.message


def config_dir() -> Path:
    """Return where ``paas login`` keeps credentials."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(os.environ.get("PAAS_CONFIG_DIR", Path(base) / "paas"))


def save_credentials(url: str, token: str) -> Path:
    """Store the API URL and token (mode 0600)."""
    path = config_dir() / "credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token}, handle)
    return path


def load_credentials() -> tuple[str, str | None]:
    """Return the API URL and token from the environment or ``paas login``."""
    stored: dict[str, str] = {}
    path = config_dir() / "credentials.json"
    if path.exists():
        stored = json.loads(path.read_text())
    url = os.environ.get("PAAS_URL") or stored.get("url") or DEFAULT_URL
    token = os.environ.get("PAAS_TOKEN") or stored.get("token")
    if token is None:
        token = _local_token()
    return url.rstrip("/"), token


def _local_token() -> str | None:
    # On the platform's own machine the operator can read the token file.
    path = Settings.from_env().token_path
    try:
        return path.read_text().strip()
    except OSError:
        return None


class Client:
    """Calls /v1 endpoints and turns failures into clear CLI errors."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        """Read the API URL and token; ``transport`` replaces the network."""
        self.url, self.token = load_credentials()
        headers = {"Accept": f"application/vnd.paas+json; version={API_VERSION}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.http = httpx.Client(
            base_url=self.url, headers=headers, timeout=None, transport=transport
        )

    def request(
        self, method: str, path: str, *, any_version: bool = False, **kwargs: Any
    ) -> Any:
        """Send a request and return its JSON answer.

        ``any_version`` accepts a server of another API version, for the
        few calls every version answers alike (``/v1/version``).
        """
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        self._check(response, any_version)
        return response.json()

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """Send a request and yield the response to read as it streams."""
        try:
            with self.http.stream(method, path, **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                self._check(response)
                yield response
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc

    def _unreachable(self, exc: Exception) -> CliError:
        return CliError(
            f"Could not reach the paas API at {self.url} ({exc}). "
            "Is 'paas serve' running? Set PAAS_URL or run 'paas login'."
        )

    def _check(self, response: httpx.Response, any_version: bool = False) -> None:
        server = response.headers.get("x-paas-api-version")
        if server is None:
            raise CliError(
                f"{self.url} did not answer as a paas API (HTTP "
                f"{response.status_code}). Check PAAS_URL."
            )
        if server != str(API_VERSION) and not any_version:
            raise CliError(version_mismatch(server))
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise CliError(message)


def version_mismatch(server: str) -> str:
    """Say that the server speaks another API version, and what to do."""
    return (
        f"The server speaks API v{server} but this CLI speaks v{API_VERSION}. "
        "Install the paas CLI that matches the server."
    )


def app_from_git_remote(remote: str = "paas") -> str | None:
    """Return the app named by the ``paas`` git remote in the current dir."""
    try:
        result = subprocess.run(
            ["git", "remote", "get-url", remote],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    match = REMOTE_APP.search(result.stdout.strip())
    return match.group(1) if result.returncode == 0 and match else None


def resolve_app(app: str | None) -> str:
    """Return the app given by -a, or by the git remote.

    Raises:
        CliError: neither names an app.
    """
    name = app or app_from_git_remote()
    if name is None:
        raise CliError(
            "No app given. Use -a APP, or run inside a repo with a 'paas' git "
            "remote ('paas git:remote -a APP' adds one)."
        )
    return name
