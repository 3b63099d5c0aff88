"""An in-memory scheduler backend for tests: no Docker, same interface.

Dynos are records in a dict. Each one holds a loopback socket bound to a
port of its own, so ``accepts_connections`` tells the truth about it: a
socket that listens accepts connections (the dyno "bound to $PORT"), one
that is only bound refuses them. Web dynos listen from the start unless the
backend is made with ``bind_web=False``; ``bind`` makes one listen later.

Tests drive the dynos' lives with ``crash``, ``say`` (lines a dyno prints)
and ``exit_codes`` (what ``wait_dyno`` reports for a dyno name or process
type), and read back what happened from ``started``, ``stopped`` and
``specs``. Call ``close`` at the end to release the sockets and end any
``follow_logs`` reader.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from paas.errors import DeployFailed
from paas.scheduler.base import Dyno, DynoSpec, SchedulerBackend

# What a process killed by the SIGTERM of ``docker stop`` exits with.
SIGTERM_EXIT = 143


@dataclass
class _Record:
    dyno: Dyno
    spec: DynoSpec
    sock: socket.socket
    output: list[tuple[float, str]] = field(default_factory=list)


class FakeBackend(SchedulerBackend):
    """Keeps dynos as records in memory, each with a loopback socket."""

    def __init__(self, *, bind_web: bool = True, memory_mb: int = 24576) -> None:
        self.bind_web = bind_web
        self.memory = memory_mb
        self.exit_codes: dict[str, int] = {}
        self.networks: set[str] = set()
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.specs: dict[str, DynoSpec] = {}
        self._records: dict[str, _Record] = {}
        self._said: dict[str, list[str]] = {}
        self._counter = 0
        self._changed = threading.Condition()

    # the interface

    def prepare_app(self, app: str) -> str:
        """Remember the app's network and return its name."""
        network = f"fake-{app}"
        self.networks.add(network)
        return network

    def start_dyno(self, spec: DynoSpec) -> Dyno:
        """Record a running dyno with a loopback socket of its own."""
        with self._changed:
            self._counter += 1
            dyno_id = f"fake-{self._counter:04d}"
            sock = _bound_socket()
            dyno = Dyno(
                id=dyno_id,
                app=spec.app,
                name=spec.name,
                process_type=spec.process_type,
                release=spec.release,
                command=spec.command,
                size=spec.size,
                running=True,
                address="127.0.0.1",
                port=sock.getsockname()[1],
                started_at=time.time(),
                one_off=spec.one_off,
                labels=_labels(spec),
            )
            record = _Record(dyno, spec, sock)
            record.output = [
                (time.time(), line) for line in self._said.get(spec.name, [])
            ]
            self._records[dyno_id] = record
            self.specs[dyno_id] = spec
            self.started.append(spec.name)
            if spec.process_type == "web" and self.bind_web:
                sock.listen(64)
            self._changed.notify_all()
        return replace(dyno)

    def stop_dyno(self, dyno_id: str, timeout: int) -> int | None:
        """Remove a dyno; a running one exits with ``SIGTERM_EXIT``."""
        with self._changed:
            record = self._records.pop(dyno_id, None)
            if record is None:
                return None
            record.sock.close()
            self.stopped.append(record.dyno.name)
            self._changed.notify_all()
        dyno = record.dyno
        return SIGTERM_EXIT if dyno.running else dyno.exit_code

    def list_dynos(self, app: str | None = None) -> list[Dyno]:
        """Return copies of the dynos of one app or of all."""
        with self._changed:
            records = list(self._records.values())
        return [
            replace(record.dyno)
            for record in records
            if app is None or record.dyno.app == app
        ]

    def get_dyno(self, dyno_id: str) -> Dyno | None:
        """Return a copy of one dyno, or None when it was stopped."""
        with self._changed:
            record = self._records.get(dyno_id)
            return replace(record.dyno) if record else None

    def follow_logs(self, dyno_id: str, since: float | None) -> Iterator[str]:
        """Yield what a dyno prints (see ``say``) until it exits or is removed."""
        sent = 0
        while True:
            with self._changed:
                record = self._records.get(dyno_id)
                if record is None:
                    return
                lines = record.output[sent:]
                sent = len(record.output)
                done = not record.dyno.running
                if not lines and not done:
                    self._changed.wait(timeout=1)
            for stamp, line in lines:
                if since is None or stamp >= since:
                    yield line
            if done and not lines:
                return

    def wait_dyno(self, dyno_id: str, timeout: float | None = None) -> int:
        """Return a dyno's exit code, ending it with the code set for it.

        A running dyno whose name or process type has an entry in
        ``exit_codes`` exits with that code at once; any other running dyno
        is waited for until something (``crash``) ends it.

        Raises:
            DeployFailed: the dyno was removed.
            TimeoutError: it still runs after ``timeout`` seconds.
        """
        with self._changed:
            record = self._records.get(dyno_id)
            if record is None:
                raise DeployFailed(f"Dyno {dyno_id} is gone.")
            dyno = record.dyno
            code = self.exit_codes.get(
                dyno.name, self.exit_codes.get(dyno.process_type)
            )
            if dyno.running and code is not None:
                self._exit(record, code, oom=False)
            ended = self._changed.wait_for(lambda: not dyno.running, timeout)
            if not ended:
                raise TimeoutError(f"Dyno {dyno_id} still runs after {timeout}s")
            return dyno.exit_code if dyno.exit_code is not None else -1

    def memory_mb(self) -> int | None:
        """Return the memory the fake host has (24 GB unless told)."""
        return self.memory

    def remove_app(self, app: str) -> int:
        """Remove every dyno and the network of an app; return how many."""
        dynos = self.list_dynos(app)
        for dyno in dynos:
            self.stop_dyno(dyno.id, timeout=5)
        network = f"fake-{app}"
        had_network = network in self.networks
        self.networks.discard(network)
        return len(dynos) + int(had_network)

    # helpers for tests

    def crash(self, dyno_id: str, exit_code: int, oom: bool = False) -> None:
        """Make a running dyno exit on its own, as a crash or an OOM kill."""
        with self._changed:
            self._exit(self._records[dyno_id], exit_code, oom)

    def age(self, dyno_id: str, seconds: float) -> None:
        """Make a dyno look as if it started ``seconds`` ago."""
        with self._changed:
            self._records[dyno_id].dyno.started_at = time.time() - seconds

    def bind(self, dyno_id: str) -> None:
        """Make a dyno start accepting connections, as if it bound $PORT late."""
        with self._changed:
            self._records[dyno_id].sock.listen(64)

    def say(self, dyno_name: str, *lines: str) -> None:
        """Have a dyno print lines: a running one now, later ones at start."""
        with self._changed:
            self._said.setdefault(dyno_name, []).extend(lines)
            for record in self._records.values():
                if record.dyno.name == dyno_name and record.dyno.running:
                    record.output += [(time.time(), line) for line in lines]
            self._changed.notify_all()

    def dyno_named(self, app: str, name: str) -> Dyno:
        """Return the one dyno of an app with a name, running or exited.

        Raises:
            LookupError: no dyno, or more than one, has the name.
        """
        found = [d for d in self.list_dynos(app) if d.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} dynos named {name!r} on {app!r}.")
        return found[0]

    def close(self) -> None:
        """Remove every dyno, closing its socket and ending its log readers."""
        with self._changed:
            for record in self._records.values():
                record.sock.close()
            self._records.clear()
            self._changed.notify_all()

    def _exit(self, record: _Record, exit_code: int, oom: bool) -> None:
        record.dyno.running = False
        record.dyno.exit_code = exit_code
        record.dyno.oom_killed = oom
        record.dyno.finished_at = time.time()
        record.sock.close()
        self._changed.notify_all()


def _labels(spec: DynoSpec) -> dict[str, str]:
    # The labels LocalBackend puts on a dyno's container.
    return {
        "paas.app": spec.app,
        "paas.release": str(spec.release),
        "paas.process_type": spec.process_type,
        "paas.dyno": spec.name,
        "paas.command": spec.command,
        "paas.size": spec.size,
        "paas.image": spec.image,
        "paas.one_off": "1" if spec.one_off else "0",
        "paas.detached": "1" if spec.detached else "0",
    }


def _bound_socket() -> socket.socket:
    # Bound but not listening: connections to the port are refused, and no
    # other process can take the port while the dyno holds it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock
