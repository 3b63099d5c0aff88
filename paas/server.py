"""``paas serve``: the control plane and the router processes on one machine."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import logging.config
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn

from paas.addons.engine import AddonEngine
from paas.addons.keeper import AddonKeeper
from paas.api.app import build_app
from paas.api.auth import load_or_create_token
from paas.api.deps import Services
from paas.build_env import BuildSettings
from paas.builder import Builder
from paas.errors import PaasError
from paas.logs import LogSocketListener, LogStore
from paas.platform import Platform, load_platform_id
from paas.reconciler import Reconciler
from paas.scheduler.local import LocalBackend, connect_engine
from paas.settings import Settings
from paas.store import Store

logger = logging.getLogger(__name__)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "paas": {"level": "INFO"},
        "uvicorn.access": {"level": "WARNING"},
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
}


def make_services(settings: Settings) -> Services:
    """Wire the control plane's parts together for a data dir."""
    make_private_home(settings.home)
    platform_id = load_platform_id(settings)
    client = connect_engine()
    store = Store(settings.database_path)
    failed = store.fail_unfinished_builds()
    if failed:
        logger.warning("Marked %d build(s) cut short by a restart as failed", failed)
    logs = LogStore(settings.home / "logs")
    backend = LocalBackend(client, platform_id)
    platform = Platform(settings, store, backend, logs, platform_id)
    builder = Builder(client, platform_id, settings.stack, BuildSettings.from_env())
    token, created = load_or_create_token(settings.token_path)
    if created:
        print(f"Created an API token in {settings.token_path} (mode 0600).", flush=True)
    addons = AddonEngine(client, platform_id)
    reconciler = Reconciler(platform)
    reconciler.passes.append(AddonKeeper(platform, addons))
    return Services(platform, builder, reconciler, token, addons)


def make_private_home(home: Path) -> None:
    """Create the data dir readable by its owner alone.

    It holds config vars (in the SQLite files), add-on credentials, app
    logs and the API token.
    """
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)


def router_pid_path(settings: Settings) -> Path:
    """Return the file holding the router supervisor's PID."""
    return settings.run_dir / "router.pid"


def running_router(settings: Settings) -> int | None:
    """Return the PID of a router left running for this data dir, if any."""
    try:
        pid = int(router_pid_path(settings).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    wanted = [b"paas.router", str(settings.home).encode()]
    return pid if all(part in cmdline for part in wanted) else None


def ensure_router(settings: Settings) -> int:
    """Start the router processes unless they survived a control plane crash.

    The router reads the route table by itself, so it keeps serving while
    the control plane is down; a restarted control plane adopts it.
    """
    pid = running_router(settings)
    if pid is not None:
        logger.info("Adopted the running router (PID %d)", pid)
        return pid
    # Stats files of routers from an earlier run (before a reboot or a kill)
    # would pass for live routers once their PIDs are reused, and a drain
    # would wait on them until its timeout.
    for stale in settings.run_dir.glob("router-stats-*.json"):
        stale.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "paas.router",
        "--home",
        str(settings.home),
        "--host",
        settings.router_host,
        "--port",
        str(settings.router_port),
        "--workers",
        str(settings.router_workers),
    ]
    process = subprocess.Popen(command, start_new_session=True)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    router_pid_path(settings).write_text(f"{process.pid}\n")
    return process.pid


class RouterSupervisor:
    """Start the router again whenever it dies (a kill, a crash, the OOM killer)."""

    interval = 1.0

    def __init__(self, settings: Settings, pid: int) -> None:
        self.settings = settings
        self.pid = pid
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="router-supervisor", daemon=True
        )

    def start(self) -> None:
        """Watch the router in a thread."""
        self._thread.start()

    def stop(self) -> int:
        """Stop watching; return the router's PID, for the caller to stop it."""
        self._stopping.set()
        self._thread.join(timeout=5)
        return self.pid

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            if _is_alive(self.pid):
                continue
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)
            logger.warning("The router (PID %d) died; starting it again", self.pid)
            try:
                self.pid = ensure_router(self.settings)
            except OSError:
                logger.exception("Could not start the router again")


def _is_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


def hold_serve_lock(settings: Settings) -> int:
    """Take the data dir's lock, so that one ``paas serve`` runs per data dir.

    The kernel drops the lock when the process dies, ``kill -9`` included.

    Raises:
        PaasError: another ``paas serve`` holds the lock.
    """
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    path = settings.run_dir / "serve.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise PaasError(
            f"Another paas serve (PID {holder}) is running with PAAS_HOME="
            f"{settings.home}. Stop it first, or use another PAAS_HOME."
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def check_port_free(host: str, port: int, what: str) -> None:
    """Fail early, before any part starts, when a port is taken.

    Raises:
        PaasError: something already listens on the port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PaasError(
                f"The {what} port {host}:{port} is already in use. Stop what "
                f"listens there, or choose another port."
            ) from None


def serve(settings: Settings) -> None:
    """Run the control plane until SIGINT or SIGTERM; the router runs beside it.

    Exits with status 1 when another ``paas serve`` uses the data dir or
    the API port is taken, before anything starts.
    """
    logging.config.dictConfig(LOGGING)
    try:
        lock = hold_serve_lock(settings)
        check_port_free(settings.api_host, settings.api_port, "API")
    except PaasError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        sys.exit(1)
    found = make_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        # uvicorn re-raises SIGTERM after shutting down, which skips any
        # finally block around uvicorn.run(); shutdown work belongs here.
        listener = LogSocketListener(settings.log_socket, found.platform.logs)
        listener.start()
        # The reconciler's first pass publishes the route table, once it has
        # marked the web dynos that still answer as routable; publishing now
        # would show every app as starting and make the router hold requests.
        found.reconciler.start()
        supervisor = RouterSupervisor(settings, ensure_router(settings))
        supervisor.start()
        print(
            f"paas API on {settings.api_url}, router on "
            f"http://{settings.router_host}:{settings.router_port} "
            f"(apps at {settings.app_url('<app>')})",
            flush=True,
        )
        try:
            yield
        finally:
            found.reconciler.stop()
            listener.close()
            _stop_router(supervisor.stop())

    uvicorn.run(
        build_app(found, lifespan),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_graceful_shutdown=5,
    )
    os.close(lock)


def _stop_router(pid: int) -> None:
    # The router outlives a crashed control plane on purpose; on a clean
    # shutdown it goes too.
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except (OSError, IndexError):
        return True
