"""The registries an operator configures, and their credentials.

``PAAS_REGISTRIES`` lists where images are pulled from, in order:
``"127.0.0.1:5000 https://mirror.example.com"`` (spaces or commas). A bare
``host:port`` is spoken to over HTTPS, except loopback hosts, over HTTP.
``PAAS_RELEASE_REGISTRY`` names the registry release images are pushed to
(unset: none). Credentials come from a Docker client config file, the one
``docker login`` writes: ``PAAS_REGISTRY_AUTH_FILE``, by default
``~/.docker/config.json``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from paas.errors import InvalidInput

DEFAULT_REGISTRIES = "127.0.0.1:5000"
HOST = re.compile(r"^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$")
LOOPBACK = ("127.", "localhost", "[::1]")


@dataclass(frozen=True)
class Registry:
    """One registry the platform talks to, with its credentials if any."""

    host: str
    scheme: str = "https"
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        """Return the base URL of the registry's API."""
        return f"{self.scheme}://{self.host}"

    @property
    def auth_config(self) -> dict[str, str] | None:
        """Return the credentials in the shape the Docker engine takes."""
        if self.username is None:
            return None
        return {"username": self.username, "password": self.password or ""}

    def __repr__(self) -> str:
        # Keep the password out of logs and tracebacks.
        return f"Registry({self.url!r}, username={self.username!r})"


def parse_registry(text: str, credentials: Mapping[str, tuple[str, str]]) -> Registry:
    """Read one entry of PAAS_REGISTRIES (``[scheme://]host[:port]``).

    Raises:
        InvalidInput: the entry is not a host.
    """
    scheme, sep, host = text.strip().rstrip("/").partition("://")
    if not sep:
        scheme, host = "", scheme
    if scheme not in ("", "http", "https") or not HOST.match(host):
        raise InvalidInput(
            f"Registry {text!r} is invalid: use HOST[:PORT], optionally with "
            "'http://' or 'https://' in front, such as '127.0.0.1:5000'."
        )
    if not scheme:
        scheme = "http" if host.startswith(LOOPBACK) else "https"
    username, password = credentials.get(host, (None, None))
    return Registry(host, scheme, username, password)


def parse_registries(
    text: str, credentials: Mapping[str, tuple[str, str]] | None = None
) -> list[Registry]:
    """Read a PAAS_REGISTRIES value: entries split by spaces or commas.

    Raises:
        InvalidInput: an entry is not a host.
    """
    entries = [part for part in re.split(r"[\s,]+", text) if part]
    return [parse_registry(entry, credentials or {}) for entry in entries]


def load_credentials(path: Path) -> dict[str, tuple[str, str]]:
    """Read ``auths`` of a Docker client config file: host -> (user, password).

    A missing file means no credentials.

    Raises:
        InvalidInput: the file is not such a config.
    """
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            f"Cannot read registry credentials {str(path)!r}: {exc}."
        ) from exc
    auths = data.get("auths", {}) if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        raise InvalidInput(f"{str(path)!r} has no 'auths' object: run 'docker login'.")
    found = {}
    for host, entry in auths.items():
        pair = _decode_auth(entry)
        if pair:
            found[_bare_host(host)] = pair
    return found


def _decode_auth(entry: object) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return None
    if "username" in entry:
        return str(entry["username"]), str(entry.get("password", ""))
    try:
        text = base64.b64decode(str(entry.get("auth", ""))).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


def _bare_host(key: str) -> str:
    # docker login keys look like 'host:5000' or 'https://host/v1/'.
    key = key.split("://", 1)[-1]
    return key.split("/", 1)[0]


def auth_file(env: Mapping[str, str]) -> Path:
    """Return the credentials file the settings point at."""
    default = Path.home() / ".docker" / "config.json"
    return Path(env.get("PAAS_REGISTRY_AUTH_FILE", default))


def registries_from_env(env: Mapping[str, str] | None = None) -> list[Registry]:
    """Return the registries to pull from, in order, from PAAS_REGISTRIES.

    Raises:
        InvalidInput: an entry or the credentials file is malformed.
    """
    env = os.environ if env is None else env
    text = env.get("PAAS_REGISTRIES", DEFAULT_REGISTRIES)
    return parse_registries(text, load_credentials(auth_file(env)))


def release_registry_from_env(env: Mapping[str, str] | None = None) -> Registry | None:
    """Return the registry release images are pushed to, or None.

    Raises:
        InvalidInput: the setting or the credentials file is malformed.
    """
    env = os.environ if env is None else env
    text = env.get("PAAS_RELEASE_REGISTRY", "").strip()
    if not text:
        return None
    return parse_registry(text, load_credentials(auth_file(env)))
