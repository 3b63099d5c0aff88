"""Run the router: one process, or several sharing the port (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from paas.router.config import RouterConfig
from paas.router.pages import ErrorPages
from paas.router.server import Router, listen_socket

logger = logging.getLogger(__name__)

# prctl(2) option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def run_router(
    home: Path,
    host: str,
    port: int,
    workers: int,
    config: RouterConfig | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT with the given number of processes.

    Args:
        home: the platform's data dir; the route table is in ``home/run``.
        host: address to listen on.
        port: port to listen on; every worker shares it.
        workers: number of router processes (1 serves in this process).
        config: limits and timeouts; the defaults follow Heroku's router.

    Raises:
        OSError: when the port cannot be bound.
    """
    if workers < 1:
        raise ValueError(f"Router workers must be at least 1, not {workers!r}.")
    pages = ErrorPages()
    (home / "run").mkdir(parents=True, exist_ok=True)
    reuse_port = workers > 1
    listen_socket(host, port, reuse_port).close()
    if workers == 1:
        serve_worker(home, host, port, False, config, pages)
    else:
        supervise(workers, lambda: serve_worker(home, host, port, True, config, pages))


def new_event_loop() -> asyncio.AbstractEventLoop:
    """Return a uvloop loop when uvloop is installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def serve_worker(
    home: Path,
    host: str,
    port: int,
    reuse_port: bool,
    config: RouterConfig | None,
    pages: ErrorPages,
) -> None:
    """Run one router process until SIGTERM or SIGINT."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(_serve(home, host, port, reuse_port, config, pages))


async def _serve(
    home: Path,
    host: str,
    port: int,
    reuse_port: bool,
    config: RouterConfig | None,
    pages: ErrorPages,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    router = Router(home, config, pages)
    await router.start(host, port, reuse_port)
    await stop.wait()
    logger.info("Router process %d stopping", os.getpid())
    await router.close()


def supervise(workers: int, work: Callable[[], None]) -> None:
    """Fork worker processes, restart ones that die, stop them on a signal."""
    children: dict[int, int] = {}
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(workers):
        children[_fork(work)] = slot
    while children:
        pid, status = _wait_any()
        if pid == 0 or children.pop(pid, None) is None:
            continue
        if not stopping:
            logger.warning(
                "Router process %d exited (%d); starting another", pid, status
            )
            time.sleep(0.1)
            children[_fork(work)] = 0


def _fork(work: Callable[[], None]) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    _die_with_parent(parent)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 0
    try:
        work()
    except Exception:
        logger.exception("Router process %d failed", os.getpid())
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _die_with_parent(parent: int) -> None:
    # A supervisor killed with SIGKILL cannot stop its workers; the kernel
    # sends them SIGTERM instead, so a restarted router is never joined by
    # orphans still holding the port.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def _wait_any() -> tuple[int, int]:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        return 0, 0
    except InterruptedError:
        return 0, 0
    return pid, os.waitstatus_to_exitcode(status)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
