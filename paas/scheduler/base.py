"""The scheduler backend interface: where and how dynos run.

A backend starts, stops and lists dynos. It keeps no state of its own: every
dyno carries labels (``paas.app``, ``paas.release``, ``paas.process_type``,
``paas.dyno``) and the backend answers ``list_dynos`` from the engine, so the
control plane can rebuild its view after a crash. ``LocalBackend`` runs
dynos on one Docker engine; a Swarm backend fills the same interface.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

from paas.errors import BackendUnavailable

DYNO_PORT = 5000


@dataclass(frozen=True)
class DynoSize:
    """Limits applied to each dyno of a size."""

    name: str
    memory_mb: int
    cpu_shares: int
    pids_limit: int


DYNO_SIZES = {
    size.name: size
    for size in (
        DynoSize("basic", 512, 512, 256),
        DynoSize("standard-1x", 512, 1024, 256),
        DynoSize("standard-2x", 1024, 2048, 512),
        DynoSize("performance-m", 2560, 4096, 1024),
        DynoSize("performance-l", 14336, 8192, 4096),
    )
}
DEFAULT_SIZE = "standard-1x"


@dataclass
class DynoSpec:
    """What to run as one dyno."""

    app: str
    release: int
    process_type: str
    name: str
    image: str
    command: str
    env: dict[str, str]
    size: str = DEFAULT_SIZE
    network: str = ""
    one_off: bool = False
    detached: bool = False
    # A TTY dyno is created but not started: open_terminal() starts it once
    # attached, so nothing it prints first is lost.
    tty: bool = False


@dataclass
class Dyno:
    """A dyno as the engine reports it."""

    id: str
    app: str
    name: str
    process_type: str
    release: int
    command: str
    size: str
    running: bool
    address: str | None = None
    port: int = DYNO_PORT
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    one_off: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def number(self) -> int:
        """Return the number of the dyno within its process type (web.2 -> 2)."""
        suffix = self.name.rsplit(".", 1)[-1]
        return int(suffix) if suffix.isdigit() else 0


class SchedulerBackend(ABC):
    """Runs dynos somewhere and reports on them."""

    @abstractmethod
    def prepare_app(self, app: str) -> str:
        """Create the app's private network if missing.

        Returns:
            The network name to start the app's dynos on.
        """

    @abstractmethod
    def start_dyno(self, spec: DynoSpec) -> Dyno:
        """Start one dyno.

        Raises:
            BackendUnavailable: the engine did not answer.
            DeployFailed: the dyno could not be created.
        """

    @abstractmethod
    def stop_dyno(self, dyno_id: str, timeout: int) -> int | None:
        """Send SIGTERM, then SIGKILL after ``timeout`` seconds, and remove it.

        Returns:
            The exit code, or None when the dyno was already gone.
        """

    @abstractmethod
    def list_dynos(self, app: str | None = None) -> list[Dyno]:
        """Return the dynos of one app or of all, running or exited."""

    @abstractmethod
    def get_dyno(self, dyno_id: str) -> Dyno | None:
        """Return one dyno, or None if it is gone."""

    @abstractmethod
    def follow_logs(self, dyno_id: str, since: float | None) -> Iterator[str]:
        """Yield the lines a dyno prints until it exits."""

    @abstractmethod
    def wait_dyno(self, dyno_id: str, timeout: float | None = None) -> int:
        """Wait for a dyno to exit.

        Returns:
            Its exit code.

        Raises:
            TimeoutError: it still runs after ``timeout`` seconds.
        """

    def open_terminal(self, dyno_id: str) -> socket.socket:
        """Attach to a created (not yet started) TTY dyno, then start it.

        Returns:
            A non-blocking socket carrying the terminal's bytes both ways.

        Raises:
            BackendUnavailable: this backend has no terminals.
        """
        raise BackendUnavailable("This scheduler backend cannot attach terminals.")

    def resize_terminal(self, dyno_id: str, rows: int, cols: int) -> None:
        """Tell a TTY dyno its terminal's size.

        Raises:
            BackendUnavailable: this backend has no terminals.
        """
        raise BackendUnavailable("This scheduler backend cannot attach terminals.")

    def memory_mb(self) -> int | None:
        """Return the memory dynos can share, in MB, or None when unknown."""
        return None

    @abstractmethod
    def remove_app(self, app: str) -> int:
        """Remove every dyno, image and network of an app.

        Returns:
            How many of them there were.
        """
