"""The control plane's core: the parts wired together, and app lifecycle.

``Platform`` owns the store, the scheduler backend, the builder and the log
store, plus what only lives in memory: which web dynos passed their health
check (and so are routable) and one lock per app, so that pushes, config
changes and scaling of one app never interleave.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from paas.errors import (
    AppNotFound,
    BackendUnavailable,
    Conflict,
    InvalidInput,
    PaasError,
)
from paas.logs import LogStore
from paas.router.table import AppRoute, Backend, RouteTable, write_route_table
from paas.scheduler.base import Dyno, SchedulerBackend
from paas.settings import Settings
from paas.store import App, Release, Store

logger = logging.getLogger(__name__)

APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")
PAGE_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def validate_app_name(name: str) -> None:
    """Check an app name against Heroku's rule.

    Raises:
        InvalidInput: the name breaks the rule.
    """
    if not APP_NAME.fullmatch(name):
        raise InvalidInput(
            f"App name {name!r} is invalid: use 3 to 30 lowercase letters, "
            "digits and dashes, starting with a letter and ending with a "
            "letter or digit."
        )


def error_page_url(config_vars: dict[str, str]) -> str | None:
    """Return the app's ERROR_PAGE_URL if it is an http(s) URL, else None.

    The router's error pages show it in a frame; any other scheme
    (``javascript:``, ``data:``) would run in the router's pages, so it is
    ignored.
    """
    url = config_vars.get("ERROR_PAGE_URL", "").strip()
    if PAGE_URL.fullmatch(url) is None:
        return None
    return url


def _remove_tree(path: Path) -> None:
    # A tree already gone is what a destroy wants; anything else is reported.
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return


def load_platform_id(settings: Settings) -> str:
    """Return this platform's id, creating it on first start."""
    path = settings.home / "platform-id"
    if path.exists():
        return path.read_text().strip()
    settings.home.mkdir(parents=True, exist_ok=True)
    platform_id = secrets.token_hex(4)
    path.write_text(platform_id + "\n")
    return platform_id


class Platform:
    """Everything the control plane does, behind the API."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        backend: SchedulerBackend,
        logs: LogStore,
        platform_id: str,
    ) -> None:
        self.settings = settings
        self.store = store
        self.backend = backend
        self.logs = logs
        self.platform_id = platform_id
        self.routable: set[str] = set()
        self.started_at = time.time()
        # One-off dynos a client is attached to (``paas run``) right now.
        self.attached: set[str] = set()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._routes_guard = threading.Lock()
        self._published: RouteTable | None = None
        self._followers: dict[str, threading.Thread] = {}
        # Apps being destroyed: out of the route table, left alone.
        self.destroying: set[str] = set()
        # (app, ref) -> commit a deploy released that git has yet to write.
        self.landing: dict[tuple[str, str], str] = {}

    # dyno output

    def attach_logs(self, dyno: Dyno, since: float | None = None) -> None:
        """Copy what a dyno prints into its app's log, in a thread."""
        with self._locks_guard:
            thread = self._followers.get(dyno.id)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(
                target=self._copy_logs,
                args=(dyno, since),
                name=f"logs-{dyno.app}-{dyno.name}",
                daemon=True,
            )
            self._followers[dyno.id] = thread
        thread.start()

    def wait_logs_copied(self, dyno_id: str, timeout: float) -> None:
        """Wait until the copy of an exited dyno's output has ended."""
        with self._locks_guard:
            thread = self._followers.get(dyno_id)
        if thread is not None:
            thread.join(timeout)

    def _copy_logs(self, dyno: Dyno, since: float | None) -> None:
        try:
            for line in self.backend.follow_logs(dyno.id, since):
                self.logs.append(dyno.app, "app", dyno.name, line)
        except Exception:
            logger.exception("Lost the output of %s of %s", dyno.name, dyno.app)
        finally:
            with self._locks_guard:
                self._followers.pop(dyno.id, None)

    # locks

    def app_lock(self, app: str) -> threading.Lock:
        """Return the lock that serialises changes to one app."""
        with self._locks_guard:
            return self._locks.setdefault(app, threading.Lock())

    @contextmanager
    def changing(
        self,
        app: str,
        what: str,
        wait: float = 600,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[None]:
        """Hold an app's lock while changing it.

        Args:
            app: the app to change.
            what: the change, for the message when waiting is in vain.
            wait: seconds to wait for another change to finish.
            on_wait: called once when another change holds the lock.

        Raises:
            Conflict: another change of the app did not finish in time.
        """
        lock = self.app_lock(app)
        busy = not lock.acquire(blocking=False)
        if busy and on_wait is not None:
            on_wait()
        if busy and not lock.acquire(timeout=wait):
            raise Conflict(
                f"App {app!r} is busy with another change; {what} was not done. "
                "Try again when it finishes."
            )
        try:
            yield
        finally:
            lock.release()

    # events

    def event(self, app: str, message: str, process: str = "api") -> None:
        """Record a platform event in an app's log and the platform log."""
        logger.info("%s: %s", app, message)
        self.logs.append(app, "paas", process, message)

    # apps

    def create_app(self, name: str) -> App:
        """Create an app with its git repo and default domain."""
        validate_app_name(name)
        app = self.store.create_app(name)
        self.store.add_domain(name, f"{name}.{self.settings.domain}")
        self.event(name, "App created")
        self.publish_routes()
        return app

    def destroy_app(self, name: str) -> None:
        """Remove an app's dynos, images, network, repo, logs and state.

        The app's lock is held throughout, so the reconciler leaves the app
        alone, and the app's record goes last: when a step fails, the others
        still run and the app stays, so that running the destroy again
        finishes it.

        Raises:
            AppNotFound: no app has the name.
            BackendUnavailable: a resource could not be removed; the app
                is kept.
        """
        self.store.get_app(name)
        with self.changing(name, "destroy"):
            self.destroying.add(name)
            try:
                self.publish_routes()
                failures, _ = self._remove_app_resources(name)
                if failures:
                    raise BackendUnavailable(
                        f"Could not remove all of app {name!r}: "
                        f"{'; '.join(failures)}. The app is kept: run "
                        f"'paas apps:destroy {name} --confirm {name}' again."
                    )
                self.store.delete_app(name)
            finally:
                self.destroying.discard(name)
            self.publish_routes()
        logger.info("Destroyed app %s", name)

    def remove_leftovers(self, name: str) -> None:
        """Remove what an app whose record is gone left behind.

        A destroy by an earlier version could delete the record first and
        then fail, leaving dynos, images, the repo or the log; destroying
        the name again removes them.

        Raises:
            AppNotFound: nothing of an app of that name is left.
            BackendUnavailable: a leftover could not be removed.
        """
        validate_app_name(name)
        with self.changing(name, "destroy"):
            if any(app.name == name for app in self.store.list_apps()):
                raise Conflict(f"App {name!r} exists: destroy it, not its leftovers.")
            failures, found = self._remove_app_resources(name)
        if failures:
            raise BackendUnavailable(
                f"Could not remove all that app {name!r} left: "
                f"{'; '.join(failures)}. Run the destroy again."
            )
        if not found:
            raise AppNotFound(name)
        logger.info("Removed what app %s left behind", name)

    def _remove_app_resources(self, name: str) -> tuple[list[str], bool]:
        failures = []
        repo = self.settings.repos_dir / f"{name}.git"
        log = self.logs.directory / f"{name}.log"
        found = repo.exists() or log.exists()
        followers = self._followers_of(name)
        try:
            found = self.backend.remove_app(name) > 0 or found
        except PaasError as exc:
            failures.append(exc.message.rstrip("."))
            found = True
        # A follower copies the last lines a dyno printed; let it finish
        # before the log goes, or it would write the log file again.
        for thread in followers:
            thread.join(timeout=5)
        try:
            _remove_tree(repo)
        except OSError as exc:
            failures.append(f"{exc.filename}: {exc.strerror}")
        try:
            self.logs.forget(name)
        except OSError as exc:
            failures.append(f"{exc.filename}: {exc.strerror}")
        return failures, found

    def _followers_of(self, app: str) -> list[threading.Thread]:
        ids = {dyno.id for dyno in self.backend.list_dynos(app)}
        with self._locks_guard:
            return [t for key, t in self._followers.items() if key in ids]

    # routes

    def publish_routes(self) -> int:
        """Write the route table the router processes read; return its serial.

        An unchanged table is not written again; the serial returned is then
        that of the table already on disk.
        """
        with self._routes_guard:
            table = self.build_route_table()
            if self._published is not None and table == self._published:
                return self._published.serial
            # Serials grow across restarts of the control plane too.
            last = self._published.serial if self._published else 0
            table.serial = max(time.time_ns(), last + 1)
            write_route_table(self.settings.routes_path, table)
            self._published = table
            return table.serial

    def build_route_table(self) -> RouteTable:
        """Compute the route table from the store and the engine."""
        dynos = self.backend.list_dynos()
        table = RouteTable()
        for hostname, owner in self.store.list_domains():
            table.hosts[hostname] = owner
        for app in self.store.list_apps():
            if app.name in self.destroying:
                continue
            release = self.store.current_release(app.name)
            table.apps[app.name] = self._app_route(app, release, dynos)
        return table

    def _app_route(
        self, app: App, release: Release | None, dynos: list[Dyno]
    ) -> AppRoute:
        error_page = error_page_url(app.config_vars)
        if release is None or release.image is None:
            return AppRoute("not_deployed", error_page_url=error_page)
        web = [d for d in dynos if d.app == app.name and d.process_type == "web"]
        web = [d for d in web if not d.one_off]
        ready = [
            Backend(d.name, d.address, d.port)
            for d in sorted(web, key=lambda d: d.number)
            if d.running and d.address and d.id in self.routable
        ]
        if ready:
            return AppRoute("up", ready, error_page)
        quantity = self.store.get_formation(app.name).get("web")
        if "web" not in release.process_types or not quantity or not quantity.quantity:
            return AppRoute("no_web", error_page_url=error_page)
        if any(d.running for d in web):
            return AppRoute("starting", error_page_url=error_page)
        return AppRoute("crashed", error_page_url=error_page)
