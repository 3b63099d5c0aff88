"""The router's limits and timeouts, in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

# Settings an operator may change, by environment variable (seconds).
ENV_TIMEOUTS = {
    "PAAS_ROUTER_CONNECT_TIMEOUT": "connect_timeout",
    "PAAS_ROUTER_REQUEST_TIMEOUT": "first_byte_timeout",
    "PAAS_ROUTER_IDLE_TIMEOUT": "idle_timeout",
    "PAAS_ROUTER_BOOT_TIMEOUT": "boot_timeout",
}


@dataclass(frozen=True)
class RouterConfig:
    """Limits and timeouts of a router process (seconds and bytes).

    The defaults follow Heroku's router: 30 s to a response's first byte,
    55 s idle, 5 s to connect to a dyno, 8 KiB request and header lines.
    """

    header_timeout: float = 10.0
    keepalive_timeout: float = 75.0
    connect_timeout: float = 5.0
    first_byte_timeout: float = 30.0
    idle_timeout: float = 55.0
    boot_timeout: float = 30.0
    shutdown_grace: float = 5.0
    poll_interval: float = 0.05
    sweep_interval: float = 0.25
    stats_interval: float = 1.0
    max_line: int = 8192
    max_headers: int = 100
    max_head: int = 64 * 1024
    max_buffer: int = 64 * 1024
    max_idle_per_dyno: int = 256

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> RouterConfig:
        """Return the defaults with the timeouts set in the environment.

        Raises:
            ValueError: a timeout is not a positive number of seconds.
        """
        changes: dict[str, Any] = {}
        for variable, name in ENV_TIMEOUTS.items():
            text = env.get(variable)
            if text is None:
                continue
            try:
                value = float(text)
            except ValueError:
                value = 0.0
            if not value > 0:
                raise ValueError(
                    f"{variable}={text!r} is invalid: give a positive number of "
                    "seconds."
                )
            changes[name] = value
        return replace(cls(), **changes)
