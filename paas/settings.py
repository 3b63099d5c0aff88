"""Settings of a platform, read from flags and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_home() -> Path:
    """Return the data dir used when PAAS_HOME is not set."""
    return Path(os.environ.get("PAAS_HOME", Path.home() / ".paas"))


@dataclass
class Settings:
    """Where a platform keeps its state and on which ports it answers."""

    home: Path = field(default_factory=default_home)
    api_host: str = "127.0.0.1"
    api_port: int = 7070
    router_host: str = "127.0.0.1"
    router_port: int = 8080
    router_workers: int = 1
    domain: str = "localhost"
    stack: str = "paas/stack:trixie"
    boot_timeout: float = 60.0
    stop_timeout: int = 30
    release_timeout: float = 3600.0
    drain_timeout: float = 30.0

    @classmethod
    def from_env(cls) -> Settings:
        """Read settings from PAAS_* environment variables."""
        env = os.environ
        return cls(
            home=default_home(),
            api_host=env.get("PAAS_API_HOST", "127.0.0.1"),
            api_port=int(env.get("PAAS_API_PORT", "7070")),
            router_host=env.get("PAAS_ROUTER_HOST", "127.0.0.1"),
            router_port=int(env.get("PAAS_ROUTER_PORT", "8080")),
            router_workers=int(env.get("PAAS_ROUTER_WORKERS", "1")),
            domain=env.get("PAAS_DOMAIN", "localhost"),
            stack=env.get("PAAS_STACK", "paas/stack:trixie"),
            boot_timeout=float(env.get("PAAS_BOOT_TIMEOUT", "60")),
            stop_timeout=int(env.get("PAAS_STOP_TIMEOUT", "30")),
            release_timeout=float(env.get("PAAS_RELEASE_TIMEOUT", "3600")),
            drain_timeout=float(env.get("PAAS_DRAIN_TIMEOUT", "30")),
        )

    @property
    def run_dir(self) -> Path:
        """Return the dir of sockets and files the router reads."""
        return self.home / "run"

    @property
    def routes_path(self) -> Path:
        """Return the path of the route table."""
        return self.run_dir / "routes.json"

    @property
    def log_socket(self) -> Path:
        """Return the path of the socket the router sends log lines to."""
        return self.run_dir / "logs.sock"

    @property
    def repos_dir(self) -> Path:
        """Return the dir holding one bare git repo per app."""
        return self.home / "repos"

    @property
    def token_path(self) -> Path:
        """Return the path of the API token file."""
        return self.home / "token"

    @property
    def database_path(self) -> Path:
        """Return the path of the SQLite state store."""
        return self.home / "state.db"

    @property
    def api_url(self) -> str:
        """Return the base URL of the control plane."""
        return f"http://{self.api_host}:{self.api_port}"

    def app_url(self, app: str) -> str:
        """Return the URL an app answers at through the router."""
        port = "" if self.router_port == 80 else f":{self.router_port}"
        return f"http://{app}.{self.domain}{port}/"
