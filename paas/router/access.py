"""Access lines: one per request, sent to the control plane as datagrams.

Each datagram is UTF-8 text of one or more lines shaped
``<app>\\t<process>\\t<message>\\n``, where process is ``router`` and message
is Heroku's router line (``at=info method=GET path="/" ...``). The control
plane binds ``$PAAS_HOME/run/logs.sock`` (see ``paas.logs.LogSocketListener``).
Sending never blocks and never fails the request: when the control plane is
down the lines are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

logger = logging.getLogger("paas.router.access")

MAX_DATAGRAM = 32 * 1024
FLUSH_INTERVAL = 0.1


class AccessLog:
    """Batch access lines and send them to the control plane's log socket."""

    def __init__(self, path: Path, flush_interval: float = FLUSH_INTERVAL) -> None:
        self.path = str(path)
        self.flush_interval = flush_interval
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._batch: list[bytes] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        self.dropped = 0
        # Logging is configured before a router starts; checking once keeps
        # a method call off every request.
        self.echo = logger.isEnabledFor(logging.DEBUG)

    def add(self, app: str, message: str) -> None:
        """Queue one line for an app; flush when the batch is due or full."""
        self.add_line(f"{app}\trouter\t{message}\n".encode())

    def add_line(self, line: bytes) -> None:
        """Queue one whole ``<app>\\trouter\\t<message>\\n`` line."""
        if self.echo:
            logger.debug("%s", line.decode("utf-8", "replace").rstrip("\n"))
        if self._size + len(line) > MAX_DATAGRAM:
            self.flush()
        self._batch.append(line)
        self._size += len(line)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.flush_interval, self.flush)

    def flush(self) -> None:
        """Send the queued lines as one datagram, or drop them."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._batch:
            return
        data = b"".join(self._batch)
        count = len(self._batch)
        self._batch.clear()
        self._size = 0
        try:
            self._sock.sendto(data, self.path)
        except OSError:
            # Absent socket, control plane down, or its buffer full: the
            # data path must not wait, so the lines go.
            self.dropped += count

    def close(self) -> None:
        """Flush what is queued and close the socket."""
        self.flush()
        self._sock.close()


INFO_LINE = (
    b'%s\trouter\tat=info method=%s path="%s" host=%s request_id=%s fwd="%s" '
    b"dyno=%s connect=%dms service=%dms status=%d bytes=%d protocol=http\n"
)


def format_error(
    code: str,
    desc: str,
    method: str,
    path: str,
    host: str,
    request_id: str,
    fwd: str,
    dyno: str = "",
    status: int = 503,
    size: int | None = None,
    level: str = "at=error",
) -> str:
    """Return Heroku's line for a request that ended in an H code."""
    shown = "" if size is None else str(size)
    return (
        f'{level} code={code} desc="{desc}" method={method} path="{path}" '
        f'host={host} request_id={request_id} fwd="{fwd}" dyno={dyno} connect= '
        f"service= status={status} bytes={shown} protocol=http"
    )
