"""The router's limits and timeouts, in one place."""

from __future__ import annotations

from dataclasses import dataclass


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
