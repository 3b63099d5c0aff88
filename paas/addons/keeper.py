"""Keep add-on containers running: a pass the reconciler makes.

Its first pass also finishes what a stop of the platform cut short: a
creation is undone, a removal is completed.

A resource whose container stopped is started again; one whose container
is gone is made again from its stored spec, on the same volume, so its data
survives. Restarts back off like crashed dynos do.
"""

from __future__ import annotations

import logging
import time

from paas.addons.engine import AddonEngine
from paas.addons.manager import finish_interrupted
from paas.addons.records import CREATED, Addon, get_addon, list_addons
from paas.errors import PaasError
from paas.platform import Platform

logger = logging.getLogger(__name__)

BACKOFF_CAP = 300.0


class AddonKeeper:
    """Restarts add-on containers that are stopped or gone."""

    def __init__(self, platform: Platform, engine: AddonEngine) -> None:
        self.platform = platform
        self.engine = engine
        self.restarts: dict[str, tuple[int, float]] = {}
        self.started_at = time.time()
        self._recovered = False

    def __call__(self) -> None:
        """Run one pass over every created resource."""
        if not self._recovered:
            self._recovered = True
            names = finish_interrupted(self.platform, self.engine, self.started_at)
            for name in names:
                logger.warning("Cleaned up add-on %s, cut short by a stop", name)
        for addon in list_addons(self.platform.store):
            if addon.state != CREATED:
                continue
            try:
                self.keep_running(addon)
            except PaasError as exc:
                logger.warning("Could not restart add-on %s: %s", addon.name, exc)

    def keep_running(self, addon: Addon) -> None:
        """Start one resource's container again if it is not running."""
        state = self.engine.state(addon.name)
        count, next_start = self.restarts.get(addon.name, (0, 0.0))
        if state == "running":
            # A minute up after the last restart forgives the earlier ones.
            if count and time.time() > next_start + 60:
                self.restarts.pop(addon.name, None)
            return
        if time.time() < next_start:
            return
        # The owner's lock keeps this pass away from a destroy in progress.
        lock = self.platform.app_lock(addon.app)
        if not lock.acquire(blocking=False):
            return
        try:
            self._restart(get_addon(self.platform.store, addon.name), state, count)
        finally:
            lock.release()

    def _restart(self, addon: Addon, state: str, count: int) -> None:
        if addon.state != CREATED:
            return
        networks = [self.platform.backend.prepare_app(a.app) for a in addon.attachments]
        wait = min(BACKOFF_CAP, 5.0 * 2**count) if count else 0.0
        self.restarts[addon.name] = (count + 1, time.time() + wait)
        what = "gone" if state == "missing" else state
        self.platform.event(addon.app, f"Restarting add-on {addon.name} ({what})")
        self.engine.restart(addon.spec, addon.app, networks)
