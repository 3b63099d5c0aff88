"""The log store: the last lines of every app, and followers of new ones.

Lines come from three places: what dynos print (source ``app``), platform
events (source ``paas``) and the router's access lines, which router
processes send as datagrams to a Unix socket. The control plane is the only
writer: it keeps the last ``KEEP_LINES`` of each app in memory, appends each
line to ``$PAAS_HOME/logs/<app>.log`` so they survive a restart, and trims
that file when it grows to twice the limit.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

KEEP_LINES = 1500
MAX_LINE = 10000


@dataclass(frozen=True)
class LogLine:
    """One line of an app's log."""

    timestamp: float
    source: str
    process: str
    message: str

    def format(self) -> str:
        """Return the line as Heroku shows it: ``TIME source[process]: text``."""
        moment = datetime.fromtimestamp(self.timestamp, UTC)
        stamp = moment.isoformat(timespec="microseconds")
        return f"{stamp} {self.source}[{self.process}]: {self.message}"

    def to_record(self) -> str:
        """Return the line as it is kept on disk (tab-separated)."""
        return f"{self.timestamp:.6f}\t{self.source}\t{self.process}\t{self.message}"

    @classmethod
    def from_record(cls, record: str) -> LogLine:
        """Parse a line kept on disk."""
        stamp, source, process, message = record.split("\t", 3)
        return cls(float(stamp), source, process, message)


class LogStore:
    """Per-app ring buffers of log lines, kept on disk, with followers."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lines: dict[str, deque[LogLine]] = {}
        self._written: dict[str, int] = {}
        self._lock = threading.Lock()
        self._followers: dict[str, list[Callable[[LogLine], None]]] = {}

    def _buffer(self, app: str) -> deque[LogLine]:
        buffer = self._lines.get(app)
        if buffer is None:
            buffer = deque(self._load(app), maxlen=KEEP_LINES)
            self._lines[app] = buffer
            self._written[app] = len(buffer)
        return buffer

    def _path(self, app: str) -> Path:
        return self.directory / f"{app}.log"

    def _load(self, app: str) -> list[LogLine]:
        # Records end at "\n" only: a message may hold "\r" or other
        # characters that splitlines() and universal newlines break on.
        try:
            with self._path(app).open(errors="replace", newline="") as handle:
                records = handle.read().removesuffix("\n").split("\n")
        except FileNotFoundError:
            return []
        lines = []
        for record in records[-KEEP_LINES:]:
            try:
                lines.append(LogLine.from_record(record))
            except ValueError:
                continue
        return lines

    def append(self, app: str, source: str, process: str, message: str) -> None:
        """Add a line (or several, split on newlines) to an app's log."""
        now = time.time()
        parts = message.replace("\r\n", "\n").rstrip("\n").split("\n")
        lines = [
            LogLine(now, source, process, chunk[i : i + MAX_LINE])
            for chunk in parts
            for i in range(0, max(len(chunk), 1), MAX_LINE)
        ]
        with self._lock:
            buffer = self._buffer(app)
            buffer.extend(lines)
            self._persist(app, lines)
            followers = list(self._followers.get(app, ()))
        for follower in followers:
            for line in lines:
                follower(line)

    def _persist(self, app: str, lines: list[LogLine]) -> None:
        path = self._path(app)
        text = "".join(line.to_record().replace("\n", " ") + "\n" for line in lines)
        with path.open("a") as handle:
            handle.write(text)
        self._written[app] += len(lines)
        if self._written[app] > 2 * KEEP_LINES:
            self._rewrite(app)

    def _rewrite(self, app: str) -> None:
        path = self._path(app)
        tmp = path.with_suffix(".tmp")
        records = (line.to_record() + "\n" for line in self._lines[app])
        tmp.write_text("".join(records))
        tmp.replace(path)
        self._written[app] = len(self._lines[app])

    def tail(
        self,
        app: str,
        lines: int = 100,
        *,
        dyno: str | None = None,
        source: str | None = None,
    ) -> list[LogLine]:
        """Return the last lines of an app's log, optionally filtered."""
        with self._lock:
            buffer = list(self._buffer(app))
        chosen = [line for line in buffer if matches(line, dyno, source)]
        return chosen[-lines:] if lines > 0 else []

    def forget(self, app: str) -> None:
        """Drop an app's log, in memory and on disk."""
        with self._lock:
            self._lines.pop(app, None)
            self._written.pop(app, None)
            self._path(app).unlink(missing_ok=True)

    async def follow(
        self, app: str, *, dyno: str | None = None, source: str | None = None
    ) -> AsyncIterator[LogLine]:
        """Yield new lines of an app's log as they arrive."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[LogLine] = asyncio.Queue(maxsize=10000)

        def deliver(line: LogLine) -> None:
            loop.call_soon_threadsafe(_offer, queue, line)

        with self._lock:
            self._followers.setdefault(app, []).append(deliver)
        try:
            while True:
                line = await queue.get()
                if matches(line, dyno, source):
                    yield line
        finally:
            with self._lock:
                self._followers[app].remove(deliver)


def _offer(queue: asyncio.Queue[LogLine], line: LogLine) -> None:
    # A follower that reads too slowly loses lines rather than growing memory
    # without bound (Heroku's L11 tail buffer overflow does the same).
    if not queue.full():
        queue.put_nowait(line)


def matches(line: LogLine, dyno: str | None, source: str | None) -> bool:
    """Tell whether a line passes the ``--ps`` and ``--source`` filters."""
    if source is not None and source != line.source and source != line.process:
        return False
    if dyno is None:
        return True
    return line.process == dyno or line.process.split(".")[0] == dyno


class LogSocketListener:
    """Receive the router's access lines on a Unix datagram socket."""

    def __init__(self, path: Path, store: LogStore) -> None:
        self.path = path
        self.store = store
        self._sock: socket.socket | None = None

    def start(self) -> None:
        """Bind the socket and read datagrams in a daemon thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(self.path))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self._sock = sock
        thread = threading.Thread(target=self._run, args=(sock,), daemon=True)
        thread.start()

    def _run(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            self._ingest(data.decode("utf-8", "replace"))

    def _ingest(self, text: str) -> None:
        for record in text.splitlines():
            fields = record.split("\t", 2)
            if len(fields) == 3:
                app, process, message = fields
                self.store.append(app, "paas", process, message)

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        if self._sock is not None:
            self._sock.close()
        self.path.unlink(missing_ok=True)
