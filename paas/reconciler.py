"""The reconciler: make the engine run what the store says should run.

Every few seconds (and at start) it compares each app's formation and
current release with the dynos the engine reports by label, then starts
missing dynos, restarts crashed ones with a growing back-off, stops extra or
stale ones and removes dynos of apps that no longer exist. It skips an app
while another change holds the app's lock, so it never fights a deploy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from paas.errors import AppNotFound, BackendUnavailable, DeployFailed, PaasError
from paas.platform import Platform
from paas.rollout import (
    accepts_connections,
    check_health,
    end_one_off,
    mark_up,
    quiet,
    start_dyno,
    stop_dynos,
)
from paas.scheduler.base import Dyno
from paas.store import FormationEntry, Release

logger = logging.getLogger(__name__)

BACKOFF_CAP = 300.0
ONE_OFF_GRACE = 60.0
# A dyno that ran this long before exiting had been healthy: its next
# restart is immediate again, as after a first crash.
STABLE_RUN = 600.0


@dataclass
class CrashRecord:
    """What the reconciler remembers of a dyno that keeps exiting."""

    restarts: int = 0
    # Crashes since the dyno last came up cleanly: what the back-off grows on.
    streak: int = 0
    last_exit: int | None = None
    crashed_at: float = 0.0
    next_start: float = 0.0
    container_id: str = ""


def backoff(restarts: int) -> float:
    """Return the wait before restart number ``restarts + 1`` of a dyno."""
    if restarts == 0:
        return 0.0
    return float(min(BACKOFF_CAP, 5.0 * 2 ** (restarts - 1)))


class Reconciler:
    """Keeps every app's dynos matching its formation."""

    def __init__(self, platform: Platform, interval: float = 2.0) -> None:
        self.platform = platform
        self.interval = interval
        self.crashes: dict[tuple[str, str], CrashRecord] = {}
        # More work for each pass, such as keeping add-on containers up.
        self.passes: list[Callable[[], None]] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def start(self) -> None:
        """Run the loop in a daemon thread."""
        threading.Thread(target=self._loop, name="reconciler", daemon=True).start()

    def stop(self) -> None:
        """Ask the loop to end."""
        self._stopping.set()
        self._wake.set()

    def poke(self) -> None:
        """Run a pass soon, without waiting for the interval."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.reconcile_all()
            except BackendUnavailable as exc:
                logger.warning("Reconcile pass skipped: %s", exc.message)
            except Exception:
                logger.exception("Reconcile pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def reconcile_all(self) -> None:
        """Run one pass over every app, then publish the route table."""
        dynos = self.platform.backend.list_dynos()
        apps = {app.name for app in self.platform.store.list_apps()}
        for dyno in dynos:
            if dyno.app not in apps:
                self._remove_orphan(dyno)
        for app in sorted(apps):
            lock = self.platform.app_lock(app)
            if not lock.acquire(blocking=False):
                continue
            try:
                self.reconcile_app(app, [d for d in dynos if d.app == app])
            except PaasError as exc:
                logger.warning("Could not reconcile %s: %s", app, exc.message)
            finally:
                lock.release()
        self.platform.publish_routes()
        for extra in self.passes:
            extra()

    def _remove_orphan(self, dyno: Dyno) -> None:
        # The app's lock is held while it is destroyed (or created again):
        # its dynos are then whoever holds the lock's business.
        lock = self.platform.app_lock(dyno.app)
        if not lock.acquire(blocking=False):
            return
        try:
            self.platform.store.get_app(dyno.app)
        except AppNotFound:
            logger.info("Removing orphaned dyno %s of %s", dyno.name, dyno.app)
            self.platform.backend.stop_dyno(dyno.id, timeout=5)
        except PaasError as exc:
            logger.warning("Could not remove dyno %s: %s", dyno.name, exc.message)
        finally:
            lock.release()

    def reconcile_app(self, app: str, dynos: list[Dyno]) -> None:
        """Make one app's dynos match its formation and current release."""
        release = self.platform.store.current_release(app)
        formation = self.platform.store.get_formation(app)
        for dyno in dynos:
            if dyno.one_off:
                self._reap_one_off(dyno)
                continue
            self._follow(dyno)
        stale = [
            d
            for d in dynos
            if not d.one_off and not self._wanted(d, release, formation)
        ]
        # Highest numbers go first, as when scaling down through the API.
        for dyno in sorted(stale, key=lambda d: -d.number):
            self._stop(dyno)
        if release is None or release.image is None:
            return
        current = [d for d in dynos if d not in stale and not d.one_off]
        for kind, entry in formation.items():
            if kind not in release.process_types:
                continue
            for number in range(1, entry.quantity + 1):
                name = f"{kind}.{number}"
                mine = [d for d in current if d.name == name]
                self._keep_running(release, kind, name, entry.size, mine)

    def _wanted(
        self,
        dyno: Dyno,
        release: Release | None,
        formation: dict[str, FormationEntry],
    ) -> bool:
        if release is None or dyno.release != release.version:
            return False
        entry = formation.get(dyno.process_type)
        return entry is not None and dyno.number <= entry.quantity

    def _follow(self, dyno: Dyno) -> None:
        if dyno.running:
            self.platform.attach_logs(dyno, since=time.time())
            if dyno.process_type == "web" and dyno.id not in self.platform.routable:
                if dyno.address and accepts_connections(dyno.address, dyno.port):
                    mark_up(self.platform, dyno)

    def _stop(self, dyno: Dyno) -> None:
        stop_dynos(self.platform, [dyno])
        self.crashes.pop((dyno.app, dyno.name), None)

    def _reap_one_off(self, dyno: Dyno) -> None:
        # Attached one-offs are removed by whoever streams their output; one
        # whose client went away is removed a while after it exits, and one
        # whose client never attached (or whose stream a restart of the
        # control plane cut) is stopped a while after it started.
        detached = dyno.labels.get("paas.detached") == "1"
        if dyno.running:
            if not detached and self._abandoned(dyno):
                end_one_off(self.platform, dyno)
            return
        if dyno.finished_at is None:
            # TODO: remove TTY dynos created but never attached; they have
            # no start time to age them by yet.
            return
        if detached or time.time() - dyno.finished_at > ONE_OFF_GRACE:
            end_one_off(self.platform, dyno)

    def _abandoned(self, dyno: Dyno) -> bool:
        if dyno.process_type != "run" or dyno.id in self.platform.attached:
            return False
        started = dyno.started_at
        return started is not None and time.time() - started > ONE_OFF_GRACE

    def _keep_running(
        self, release: Release, kind: str, name: str, size: str, mine: list[Dyno]
    ) -> None:
        running = [d for d in mine if d.running]
        for extra in running[1:]:
            self._stop(extra)
        if running:
            return
        exited = mine[0] if mine else None
        key = (release.app, name)
        record = self.crashes.get(key)
        if exited is not None and (record is None or record.container_id != exited.id):
            record = self._record_crash(exited)
        if record is not None and time.time() < record.next_start:
            return
        for dyno in mine:
            self.platform.backend.stop_dyno(dyno.id, timeout=1)
        if record is not None:
            record.restarts += 1
            record.streak += 1
            self.platform.event(release.app, "Restarting", name)
        self._start(release, kind, name, size)

    def _record_crash(self, dyno: Dyno) -> CrashRecord:
        key = (dyno.app, dyno.name)
        record = self.crashes.setdefault(key, CrashRecord())
        record.last_exit = dyno.exit_code
        record.container_id = dyno.id
        record.crashed_at = dyno.finished_at or time.time()
        ran = record.crashed_at - (dyno.started_at or record.crashed_at)
        if ran >= STABLE_RUN:
            record.streak = 0
        record.next_start = time.time() + backoff(record.streak)
        self.platform.routable.discard(dyno.id)
        if dyno.oom_killed:
            self.platform.event(
                dyno.app, "Error R15 (Memory quota vastly exceeded): killed", dyno.name
            )
        self.platform.event(
            dyno.app, f"Process exited with status {dyno.exit_code}", dyno.name
        )
        self.platform.event(dyno.app, "State changed from up to crashed", dyno.name)
        return record

    def _start(self, release: Release, kind: str, name: str, size: str) -> None:
        dyno = start_dyno(self.platform, release, kind, name, size)
        if kind != "web":
            return
        threading.Thread(
            target=self._watch_boot,
            args=(release, dyno),
            name=f"boot-{name}",
            daemon=True,
        ).start()

    def _watch_boot(self, release: Release, dyno: Dyno) -> None:
        deadline = time.monotonic() + self.platform.settings.boot_timeout
        while time.monotonic() < deadline:
            current = self.platform.backend.get_dyno(dyno.id)
            if current is None or not current.running:
                self.poke()
                return
            if current.address and accepts_connections(current.address, current.port):
                if not self._healthy(release, current):
                    return
                mark_up(self.platform, current)
                self._clear_crash(current)
                self.platform.publish_routes()
                return
            time.sleep(0.2)

    def _healthy(self, release: Release, dyno: Dyno) -> bool:
        try:
            check_health(release, dyno, quiet)
        except DeployFailed as exc:
            self.platform.event(dyno.app, exc.message, dyno.name)
            return False
        return True

    def _clear_crash(self, dyno: Dyno) -> None:
        # A dyno that came up has no restart pending; its back-off starts
        # from zero again once it has run STABLE_RUN seconds (a dyno that
        # binds its port and then crashes must not restart in a tight loop),
        # and ps keeps showing the restart count until the next release.
        record = self.crashes.get((dyno.app, dyno.name))
        if record is not None:
            record.next_start = 0.0
