"""One router process: the listening socket and its housekeeping timers."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from paas.router.access import AccessLog
from paas.router.balancer import Balancer
from paas.router.config import RouterConfig
from paas.router.pages import ErrorPages
from paas.router.proxy import ClientConnection

logger = logging.getLogger(__name__)


class Router:
    """Accept client connections and route their requests to web dynos."""

    def __init__(
        self,
        home: Path,
        config: RouterConfig | None = None,
        pages: ErrorPages | None = None,
    ) -> None:
        self.home = home
        self.config = config or RouterConfig()
        self.pages = pages or ErrorPages()
        run_dir = home / "run"
        self.balancer = Balancer(run_dir / "routes.json")
        self.access = AccessLog(run_dir / "logs.sock")
        self.stats_path = run_dir / f"router-stats-{os.getpid()}.json"
        self.clients: set[ClientConnection] = set()
        self.closing = False
        # Deadlines are set from this clock, which the sweeper advances: a
        # timeout may end up to one sweep interval early, and the data path
        # saves a clock read per event.
        self.now = 0.0
        self.port = 0
        self.fixed_request_headers = b""
        self._server: asyncio.Server | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """Return the loop the router runs on."""
        if self._loop is None:
            raise RuntimeError("The router is not started: call start() first.")
        return self._loop

    async def start(self, host: str, port: int, reuse_port: bool = False) -> int:
        """Load the route table, listen, and return the port listened on."""
        self._loop = asyncio.get_running_loop()
        self.now = self._loop.time()
        self.stats_path.parent.mkdir(parents=True, exist_ok=True)
        self.balancer.reload_if_changed()
        sock = listen_socket(host, port, reuse_port)
        self.port = sock.getsockname()[1]
        self.fixed_request_headers = (
            b"\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: %d\r\nVia: 1.1 paas"
            % self.port
        )
        self._server = await self.loop.create_server(
            lambda: ClientConnection(self), sock=sock, backlog=4096
        )
        self._write_stats()
        self._every(self.config.poll_interval, self._poll)
        self._every(self.config.sweep_interval, self._sweep)
        self._every(self.config.stats_interval, self._write_stats)
        logger.info("Router listening on %s:%d (pid %d)", host, self.port, os.getpid())
        return self.port

    def _every(self, interval: float, action: Callable[[], object]) -> None:
        index = len(self._timers)

        def tick() -> None:
            try:
                action()
            except Exception:
                logger.exception("Router housekeeping failed")
            self._timers[index] = self.loop.call_later(interval, tick)

        self._timers.append(self.loop.call_later(interval, tick))

    def _poll(self) -> None:
        # A new table or a drained dyno is written out at once: the control
        # plane waits on these files before it stops a dyno.
        changed = self.balancer.reload_if_changed()
        if self.balancer.forget_drained() or changed:
            self._write_stats()

    def _sweep(self) -> None:
        now = self.now = self.loop.time()
        for client in [c for c in self.clients if 0 < c.deadline <= now]:
            client.on_timeout()

    def _write_stats(self) -> None:
        try:
            self.balancer.write_stats(self.stats_path)
        except OSError as exc:
            logger.warning("Cannot write %s: %s", self.stats_path, exc)

    async def close(self) -> None:
        """Stop accepting, let in-flight requests finish a while, then close."""
        self.closing = True
        if self._server is not None:
            self._server.close()
        for client in list(self.clients):
            client.close_if_idle()
        deadline = self.loop.time() + self.config.shutdown_grace
        while self.clients and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for client in list(self.clients):
            if client.transport is not None:
                client.transport.abort()
        await asyncio.sleep(0)
        if self._server is not None:
            await self._server.wait_closed()
        self._stop_housekeeping()

    def _stop_housekeeping(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.balancer.close()
        self.access.close()
        self.stats_path.unlink(missing_ok=True)


def listen_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """Return a bound, listening TCP socket; several processes may share it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(4096)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
