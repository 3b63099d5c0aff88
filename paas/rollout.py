"""Rolling a release out: start new dynos, check them, swap, stop the old.

Web dynos are replaced start-first: the new ones must accept connections on
``$PORT`` before the router sees them, and the old ones leave the route table
and are drained (``paas.drain``) before they get SIGTERM. Other process types
are replaced stop-first, so two releases never work the same queue at once.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from paas.drain import wait_drained
from paas.errors import DeployFailed
from paas.healthcheck import HealthCheck, run_checks
from paas.platform import Platform
from paas.scheduler.base import DEFAULT_SIZE, DYNO_PORT, Dyno, DynoSpec
from paas.store import RELEASE_FAILED, RELEASE_SUCCEEDED, FormationEntry, Release

logger = logging.getLogger(__name__)

Output = Callable[[str], None]
BOOT_FAILED = "web dynos failed to boot"


def quiet(line: str) -> None:
    """Discard output nobody waits for."""


def dyno_env(release: Release, name: str) -> dict[str, str]:
    """Return the environment of a dyno: config vars, PORT and DYNO."""
    return release.config_vars | {"PORT": str(DYNO_PORT), "DYNO": name}


def start_dyno(
    platform: Platform,
    release: Release,
    process_type: str,
    name: str,
    size: str = DEFAULT_SIZE,
    command: str | None = None,
    *,
    detached: bool = False,
    tty: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Dyno:
    """Start one dyno of a release; a given command makes it a one-off."""
    if release.image is None:
        raise DeployFailed(f"Release v{release.version} has no image to run.")
    spec = DynoSpec(
        app=release.app,
        release=release.version,
        process_type=process_type,
        name=name,
        image=release.image,
        command=command or release.process_types[process_type],
        env=(extra_env or {}) | dyno_env(release, name),
        size=size,
        network=platform.backend.prepare_app(release.app),
        one_off=command is not None,
        detached=detached,
        tty=tty,
    )
    dyno = platform.backend.start_dyno(spec)
    platform.attach_logs(dyno)
    platform.event(release.app, f"Starting process with command `{spec.command}`", name)
    return dyno


def wait_until_up(platform: Platform, dyno: Dyno, timeout: float) -> Dyno:
    """Wait until a web dyno accepts TCP connections on its port.

    Raises:
        DeployFailed: the dyno exited or did not bind in time (R10).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = platform.backend.get_dyno(dyno.id)
        if current is None or not current.running:
            code = current.exit_code if current else None
            raise DeployFailed(
                f"{dyno.name} exited with status {code} before binding to $PORT.",
                reason=BOOT_FAILED,
            )
        if current.address and accepts_connections(current.address, current.port):
            return current
        time.sleep(0.1)
    raise DeployFailed(
        f"Error R10 (Boot timeout) -> {dyno.name} failed to bind to $PORT "
        f"within {timeout:g} seconds of launch. Its server must listen on "
        f"0.0.0.0 at the port in $PORT ({dyno.port} here), not on 127.0.0.1 "
        "or a fixed port.",
        reason=BOOT_FAILED,
    )


def check_health(release: Release, dyno: Dyno, out: Output) -> None:
    """Run the release's HTTP health check against a dyno that is up.

    Raises:
        DeployFailed: the check did not pass in its attempts.
    """
    if not release.healthcheck or dyno.address is None:
        return
    check = HealthCheck(**release.healthcheck)
    out(f"       Checking {dyno.name}: GET {check.path}")
    failure = run_checks(dyno.address, dyno.port, check)
    if failure is not None:
        raise DeployFailed(
            f"{dyno.name} failed its health check after {check.attempts} "
            f"attempt(s): {failure}.",
            reason=f"{dyno.process_type} dynos failed their health check",
        )


def accepts_connections(address: str, port: int) -> bool:
    """Tell whether something accepts TCP connections at an address."""
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def mark_up(platform: Platform, dyno: Dyno) -> None:
    """Make a healthy web dyno routable and say so.

    A dyno that was up before this control plane started (found again after
    a restart) is made routable without a word: its state did not change.
    """
    platform.routable.add(dyno.id)
    if dyno.started_at is not None and dyno.started_at < platform.started_at:
        return
    platform.event(dyno.app, "State changed from starting to up", dyno.name)


def stop_dynos(platform: Platform, dynos: list[Dyno]) -> None:
    """Take dynos out of the route table, drain them, then stop them."""
    if not dynos:
        return
    routed = [d for d in dynos if d.id in platform.routable]
    for dyno in dynos:
        platform.routable.discard(dyno.id)
    serial = platform.publish_routes()
    if routed:
        drain_dynos(platform, routed, serial)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda dyno: stop_dyno(platform, dyno), dynos))


def drain_dynos(platform: Platform, dynos: list[Dyno], serial: int) -> None:
    """Wait until no router process has a request in flight to the dynos.

    The wait ends at the drain timeout; the dynos are stopped anyway then,
    and their apps' logs say how many requests were still in flight.
    """
    addresses = {f"{d.address}:{d.port}" for d in dynos if d.address}
    timeout = platform.settings.drain_timeout
    started = time.monotonic()
    state = wait_drained(platform.settings.run_dir, serial, addresses, timeout)
    waited = time.monotonic() - started
    logger.debug("Drained %d dyno(s) in %.3f s", len(dynos), waited)
    if state.drained:
        return
    for app in sorted({d.app for d in dynos}):
        platform.event(
            app,
            f"Drain timeout: {state.in_flight} request(s) still in flight and "
            f"{len(state.behind)} router process(es) behind after {timeout:g} "
            "seconds; stopping the old dynos anyway",
        )


def stop_dyno(platform: Platform, dyno: Dyno) -> None:
    """Stop one dyno with SIGTERM, then SIGKILL after the grace period."""
    grace = platform.settings.stop_timeout
    if dyno.running:
        platform.event(dyno.app, "Stopping all processes with SIGTERM", dyno.name)
    started = time.monotonic()
    code = platform.backend.stop_dyno(dyno.id, grace)
    if not dyno.running:
        return
    if code == 137 and time.monotonic() - started >= grace:
        platform.event(
            dyno.app,
            f"Error R12 (Exit timeout) -> Process failed to exit within {grace} "
            "seconds of SIGTERM; stopped with SIGKILL",
            dyno.name,
        )
    platform.event(dyno.app, f"Process exited with status {code}", dyno.name)
    state = "complete" if dyno.one_off else "down"
    platform.event(dyno.app, f"State changed from up to {state}", dyno.name)


def end_one_off(platform: Platform, dyno: Dyno) -> None:
    """Remove a one-off dyno, saying how its process ended.

    One still running (its client went away) is stopped first.
    """
    current = platform.backend.get_dyno(dyno.id)
    if current is None:
        return
    if current.running:
        stop_dyno(platform, current)
        return
    platform.backend.stop_dyno(current.id, timeout=1)
    code = current.exit_code
    platform.event(dyno.app, f"Process exited with status {code}", dyno.name)
    platform.event(dyno.app, "State changed from up to complete", dyno.name)


def replace_web_dynos(
    platform: Platform,
    release: Release,
    old: list[Dyno],
    out: Output = quiet,
    size: str | None = None,
) -> list[Dyno]:
    """Start a new dyno for each old web dyno, swap them in, stop the old.

    The new dynos keep the old ones' size unless ``size`` names another.

    Raises:
        DeployFailed: a new dyno did not come up; the old ones keep serving.
    """
    started: list[Dyno] = []
    try:
        for dyno in old:
            new_size = size or dyno.size
            started.append(start_dyno(platform, release, "web", dyno.name, new_size))
        ready = [_boot(platform, release, dyno, out) for dyno in started]
    except DeployFailed as exc:
        _discard(platform, release, started, exc, out)
        raise
    for dyno in ready:
        mark_up(platform, dyno)
    platform.publish_routes()
    stop_dynos(platform, old)
    return ready


def _boot(platform: Platform, release: Release, dyno: Dyno, out: Output) -> Dyno:
    out(f"       Waiting for {dyno.name} to accept connections on $PORT")
    up = wait_until_up(platform, dyno, platform.settings.boot_timeout)
    check_health(release, up, out)
    return up


def roll_out(
    platform: Platform,
    release: Release,
    out: Output = quiet,
    *,
    release_phase: bool = True,
) -> None:
    """Replace an app's dynos with dynos of a release.

    On failure the new dynos are removed, the release is marked failed, and
    the old dynos go on serving. ``release_phase=False`` skips the Procfile's
    ``release`` command, as for releases made by add-on config changes.

    Raises:
        DeployFailed: a new web dyno did not come up.
    """
    formation = ensure_formation(platform, release)
    old = [d for d in platform.backend.list_dynos(release.app) if not d.one_off]
    try:
        if release_phase:
            run_release_phase(platform, release, out)
        new_web = _start_web(platform, release, formation.get("web"), out)
    except DeployFailed as exc:
        platform.store.set_release_status(
            release.app, release.version, RELEASE_FAILED, exc.reason
        )
        raise
    platform.store.set_release_status(release.app, release.version, RELEASE_SUCCEEDED)
    platform.publish_routes()
    stop_dynos(platform, [d for d in old if d.process_type == "web"])
    others = [d for d in old if d.process_type != "web"]
    overlap = [d for d in others if d.process_type in release.start_first]
    stop_dynos(platform, [d for d in others if d not in overlap])
    _start_others(platform, release, formation, out)
    stop_dynos(platform, overlap)
    platform.publish_routes()
    logger.info(
        "Rolled out %s v%d (%d web)", release.app, release.version, len(new_web)
    )


def run_release_phase(platform: Platform, release: Release, out: Output) -> None:
    """Run the Procfile's ``release`` command in a one-off dyno, if any.

    Raises:
        DeployFailed: the command exited non-zero or ran past the timeout.
    """
    command = release.process_types.get("release")
    if not command:
        return
    out("-----> Running release command...")
    name = f"release.{release.version}"
    dyno = start_dyno(platform, release, "release", name, command=command)
    relay = threading.Thread(
        target=_relay_output, args=(platform, dyno, out), daemon=True
    )
    relay.start()
    try:
        try:
            code = platform.backend.wait_dyno(
                dyno.id, platform.settings.release_timeout
            )
        except TimeoutError as exc:
            raise DeployFailed(
                f"Release command ran past {platform.settings.release_timeout:g} "
                f"seconds and was stopped: v{release.version} was not deployed.",
                reason="release command timed out",
            ) from exc
        # The log stream ends with the process: read it all before the
        # container goes, or a quick command's lines are lost.
        relay.join(timeout=5)
    finally:
        platform.backend.stop_dyno(dyno.id, timeout=1)
        relay.join(timeout=5)
    if code != 0:
        raise DeployFailed(
            f"Release command failed with status {code}: v{release.version} "
            "was not deployed; the previous release keeps running.",
            reason="release command failed",
        )
    platform.event(release.app, "Release command succeeded", name)


def _relay_output(platform: Platform, dyno: Dyno, out: Output) -> None:
    for line in platform.backend.follow_logs(dyno.id, None):
        out(f"       {line}")


def ensure_formation(platform: Platform, release: Release) -> dict[str, FormationEntry]:
    """Give process types new to the app a formation entry (web=1, others 0)."""
    formation = platform.store.get_formation(release.app)
    missing = [
        FormationEntry(kind, 1 if kind == "web" else 0, DEFAULT_SIZE)
        for kind in release.process_types
        if kind not in formation and kind != "release"
    ]
    if missing:
        platform.store.set_formation(release.app, missing)
        formation = platform.store.get_formation(release.app)
    return formation


def _start_web(
    platform: Platform, release: Release, entry: FormationEntry | None, out: Output
) -> list[Dyno]:
    if entry is None or entry.quantity == 0 or "web" not in release.process_types:
        return []
    started: list[Dyno] = []
    try:
        for number in range(1, entry.quantity + 1):
            started.append(
                start_dyno(platform, release, "web", f"web.{number}", entry.size)
            )
        ready = [_boot(platform, release, dyno, out) for dyno in started]
    except DeployFailed as exc:
        _discard(platform, release, started, exc, out)
        raise
    for dyno in ready:
        mark_up(platform, dyno)
    return ready


def _discard(
    platform: Platform,
    release: Release,
    dynos: list[Dyno],
    exc: DeployFailed,
    out: Output,
) -> None:
    # What the dynos printed is in the app's log already, as app[web.1]:
    # the pusher sees its last lines, since they usually say what broke.
    for dyno in dynos:
        lines = last_output(platform, dyno)
        if lines:
            out(f"       Last output of {dyno.name}:")
        for line in lines:
            out(f"       {line}")
    platform.event(release.app, f"Release v{release.version} failed: {exc.message}")
    for dyno in dynos:
        platform.backend.stop_dyno(dyno.id, timeout=1)


def last_output(platform: Platform, dyno: Dyno, count: int = 10) -> list[str]:
    """Return the last lines one dyno printed (not earlier dynos of its name)."""
    current = platform.backend.get_dyno(dyno.id)
    if current is not None and not current.running:
        # The copy of an exited dyno's output ends soon after it exits.
        platform.wait_logs_copied(dyno.id, timeout=2)
    since = dyno.started_at or 0.0
    lines = platform.logs.tail(dyno.app, 1500, dyno=dyno.name, source="app")
    return [line.message for line in lines if line.timestamp >= since][-count:]


def _start_others(
    platform: Platform,
    release: Release,
    formation: dict[str, FormationEntry],
    out: Output,
) -> None:
    for kind, entry in sorted(formation.items()):
        if kind == "web" or kind not in release.process_types:
            continue
        for number in range(1, entry.quantity + 1):
            start_dyno(platform, release, kind, f"{kind}.{number}", entry.size)
            out(f"       Started {kind}.{number}")
