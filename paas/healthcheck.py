"""Health checks of new web dynos, declared in the app's ``paas.yaml``.

Without a declaration a web dyno is healthy once it accepts a TCP
connection on ``$PORT``. With one, it must also answer an HTTP GET::

    # paas.yaml, at the root of the app's repo
    healthcheck:
      path: /health     # requested on the dyno's $PORT
      status: 200       # the status that means healthy
      timeout: 5        # seconds per attempt
      attempts: 10      # tries before the release fails
      wait: 1           # seconds between tries

Processes other than web are replaced stop-first on a new release, so two
releases never work the same queue at once. A process type that can overlap
may say so::

    processes:
      clock:
        replace: start-first   # or stop-first, the default
"""

from __future__ import annotations

import http.client
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from paas.errors import InvalidInput

CONFIG_FILE = "paas.yaml"
LIMITS = {"timeout": (0.1, 120), "attempts": (1, 100), "wait": (0, 60)}


@dataclass(frozen=True)
class HealthCheck:
    """An HTTP check a new web dyno must pass before it gets traffic."""

    path: str = "/"
    status: int = 200
    timeout: float = 5.0
    attempts: int = 10
    wait: float = 1.0

    def to_json(self) -> dict[str, Any]:
        """Return the check as stored on a release."""
        return asdict(self)


def load_app_config(source: Path) -> dict[str, Any]:
    """Read ``paas.yaml`` from a source tree; a missing file is empty.

    Raises:
        InvalidInput: the file is not a YAML mapping.
    """
    path = source / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{CONFIG_FILE} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput(f"{CONFIG_FILE} must be a mapping of settings.")
    return data


def parse_healthcheck(data: Any) -> HealthCheck | None:
    """Validate the ``healthcheck`` section of ``paas.yaml``.

    Raises:
        InvalidInput: a key is unknown or a value out of range.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InvalidInput(f"healthcheck in {CONFIG_FILE} must be a mapping.")
    known = HealthCheck.__dataclass_fields__
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InvalidInput(
            f"Unknown healthcheck key {unknown[0]!r} in {CONFIG_FILE}: "
            f"use {', '.join(known)}."
        )
    check = HealthCheck(**{key: _value(key, value) for key, value in data.items()})
    if not check.path.startswith("/"):
        raise InvalidInput(f"healthcheck path {check.path!r} must start with '/'.")
    return check


def _value(key: str, value: Any) -> Any:
    if key == "path":
        if not isinstance(value, str):
            raise InvalidInput("healthcheck path must be a string such as /health.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"healthcheck {key} must be a number, not {value!r}.")
    if key == "status":
        if not 100 <= value <= 599:
            raise InvalidInput(f"healthcheck status {value!r} is not an HTTP status.")
        return int(value)
    low, high = LIMITS[key]
    if not low <= value <= high:
        raise InvalidInput(f"healthcheck {key} must be between {low} and {high}.")
    return int(value) if key == "attempts" else float(value)


def probe(address: str, port: int, check: HealthCheck) -> str | None:
    """Send one GET; return None when healthy, else what went wrong."""
    connection = http.client.HTTPConnection(address, port, timeout=check.timeout)
    try:
        connection.request("GET", check.path, headers={"User-Agent": "paas-health"})
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return f"GET {check.path} failed: {exc or type(exc).__name__}"
    finally:
        connection.close()
    if status != check.status:
        return f"GET {check.path} answered {status}, expected {check.status}"
    return None


def run_checks(address: str, port: int, check: HealthCheck) -> str | None:
    """Probe until healthy or out of attempts; return the last failure."""
    failure = None
    for attempt in range(check.attempts):
        if attempt:
            time.sleep(check.wait)
        failure = probe(address, port, check)
        if failure is None:
            return None
    return failure


def parse_start_first(data: Any) -> list[str]:
    """Return the process types ``paas.yaml`` replaces start-first.

    Raises:
        InvalidInput: the ``processes`` section is malformed.
    """
    if data is None:
        return []
    if not isinstance(data, dict):
        raise InvalidInput(f"processes in {CONFIG_FILE} must be a mapping.")
    chosen = []
    for kind, settings in data.items():
        if settings is not None and not isinstance(settings, dict):
            raise InvalidInput(
                f"processes.{kind} in {CONFIG_FILE} must be a mapping "
                "such as {replace: start-first}."
            )
        replace = (settings or {}).get("replace", "stop-first")
        if replace not in ("start-first", "stop-first"):
            raise InvalidInput(
                f"processes.{kind}.replace in {CONFIG_FILE} is {replace!r}: "
                "use start-first or stop-first."
            )
        if replace == "start-first":
            chosen.append(str(kind))
    return sorted(chosen)
