"""``paas serve``: the control plane and the router processes on one machine."""

from __future__ import annotations

import logging
import logging.config
import os
import signal
import subprocess
import sys
from typing import Any

import uvicorn

from paas.api.app import build_app
from paas.api.auth import load_or_create_token
from paas.api.deps import Services
from paas.builder import Builder
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
    settings.home.mkdir(parents=True, exist_ok=True)
    platform_id = load_platform_id(settings)
    client = connect_engine()
    store = Store(settings.database_path)
    failed = store.fail_unfinished_builds()
    if failed:
        logger.warning("Marked %d build(s) cut short by a restart as failed", failed)
    logs = LogStore(settings.home / "logs")
    backend = LocalBackend(client, platform_id)
    platform = Platform(settings, store, backend, logs, platform_id)
    builder = Builder(client, platform_id, settings.stack)
    token, created = load_or_create_token(settings.token_path)
    if created:
        print(f"Created an API token in {settings.token_path} (mode 0600).", flush=True)
    return Services(platform, builder, Reconciler(platform), token)


def start_router(settings: Settings) -> subprocess.Popen[bytes]:
    """Start the router processes, which read the route table by themselves."""
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
    return subprocess.Popen(command, start_new_session=True)


def serve(settings: Settings) -> None:
    """Run the control plane until SIGINT or SIGTERM; the router runs beside it."""
    logging.config.dictConfig(LOGGING)
    found = make_services(settings)
    listener = LogSocketListener(settings.log_socket, found.platform.logs)
    listener.start()
    found.platform.publish_routes()
    found.reconciler.start()
    router = start_router(settings)
    print(
        f"paas API on {settings.api_url}, router on "
        f"http://{settings.router_host}:{settings.router_port} "
        f"(apps at {settings.app_url('<app>')})",
        flush=True,
    )
    try:
        uvicorn.run(
            build_app(found),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            timeout_graceful_shutdown=5,
        )
    finally:
        found.reconciler.stop()
        listener.close()
        _stop_router(router)


def _stop_router(router: subprocess.Popen[bytes]) -> None:
    # The router may outlive a crashed control plane on purpose; on a clean
    # shutdown it goes too.
    if router.poll() is None:
        os.killpg(router.pid, signal.SIGTERM)
        try:
            router.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(router.pid, signal.SIGKILL)
