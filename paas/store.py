"""The state store: apps, releases, builds, formation, domains, add-ons in SQLite.

The control plane is its only writer. Each thread gets its own connection;
WAL mode lets readers go on while a write commits.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paas.errors import AppNotFound, Conflict, ReleaseNotFound

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    name TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    buildpack TEXT,
    config_vars TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS releases (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created_at REAL NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    image TEXT,
    commit_sha TEXT,
    build_id TEXT,
    config_vars TEXT NOT NULL,
    process_types TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    healthcheck TEXT,
    start_first TEXT,
    failure TEXT,
    PRIMARY KEY (app, version)
);
CREATE TABLE IF NOT EXISTS builds (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    status TEXT NOT NULL,
    commit_sha TEXT,
    buildpack TEXT,
    image TEXT,
    started_at REAL NOT NULL,
    finished_at REAL,
    output TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS formation (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    process_type TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    size TEXT NOT NULL DEFAULT 'standard-1x',
    PRIMARY KEY (app, process_type)
);
CREATE TABLE IF NOT EXISTS domains (
    hostname TEXT PRIMARY KEY,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS addons (
    name TEXT PRIMARY KEY,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    service TEXT NOT NULL,
    plan TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS addon_attachments (
    addon TEXT NOT NULL REFERENCES addons(name) ON DELETE CASCADE,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (app, name)
);
"""

RELEASE_SUCCEEDED = "succeeded"
RELEASE_FAILED = "failed"
RELEASE_PENDING = "pending"


@dataclass
class App:
    """A named deployable unit."""

    name: str
    created_at: float
    buildpack: str | None = None
    config_vars: dict[str, str] = field(default_factory=dict)


@dataclass
class Release:
    """An image and a config snapshot, numbered per app."""

    app: str
    version: int
    created_at: float
    description: str
    status: str
    image: str | None
    commit: str | None
    build_id: str | None
    config_vars: dict[str, str]
    process_types: dict[str, str]
    created_by: str = ""
    healthcheck: dict[str, Any] | None = None
    start_first: list[str] = field(default_factory=list)
    # Why a failed release failed, in a few words ("web dynos failed to boot").
    failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the release as the API shows it (config keys, no values)."""
        data = vars(self).copy()
        data["config_keys"] = sorted(data.pop("config_vars"))
        return data


@dataclass
class Build:
    """One attempt to turn a pushed commit into an image."""

    id: str
    app: str
    status: str
    commit: str | None
    buildpack: str | None
    image: str | None
    started_at: float
    finished_at: float | None
    output: str = ""


@dataclass
class FormationEntry:
    """How many dynos of one process type run, and their size."""

    process_type: str
    quantity: int
    size: str


class Store:
    """The platform's state in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        # executescript commits by itself, so it runs outside transaction().
        self._connection().executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        # Stores made by earlier versions lack columns added since.
        db = self._connection()
        columns = {row[1] for row in db.execute("PRAGMA table_info(releases)")}
        for column in ("healthcheck", "start_first", "failure"):
            if column not in columns:
                db.execute(f"ALTER TABLE releases ADD COLUMN {column} TEXT")

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction."""
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _query(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self._connection().execute(sql, args).fetchall()

    def query(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        """Run a read for a module that keeps its own tables here (add-ons)."""
        return self._query(sql, *args)

    # apps

    def create_app(self, name: str) -> App:
        """Create an app.

        Raises:
            Conflict: an app of that name exists.
        """
        app = App(name=name, created_at=time.time())
        with self.transaction() as db:
            try:
                db.execute(
                    "INSERT INTO apps (name, created_at) VALUES (?, ?)",
                    (name, app.created_at),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"Name {name!r} is already taken.") from exc
        return app

    def get_app(self, name: str) -> App:
        """Return an app.

        Raises:
            AppNotFound: no app has that name.
        """
        rows = self._query("SELECT * FROM apps WHERE name = ?", name)
        if not rows:
            raise AppNotFound(name)
        return _app_from_row(rows[0])

    def list_apps(self) -> list[App]:
        """Return every app, sorted by name."""
        rows = self._query("SELECT * FROM apps ORDER BY name")
        return [_app_from_row(row) for row in rows]

    def delete_app(self, name: str) -> None:
        """Delete an app and everything stored about it."""
        self.get_app(name)
        with self.transaction() as db:
            db.execute("DELETE FROM apps WHERE name = ?", (name,))

    def set_buildpack(self, name: str, buildpack: str | None) -> None:
        """Remember (or forget) the buildpack of an app."""
        with self.transaction() as db:
            db.execute(
                "UPDATE apps SET buildpack = ? WHERE name = ?", (buildpack, name)
            )

    def set_config_vars(self, name: str, config_vars: dict[str, str]) -> None:
        """Replace the current config vars of an app."""
        text = json.dumps(config_vars)
        with self.transaction() as db:
            db.execute("UPDATE apps SET config_vars = ? WHERE name = ?", (text, name))

    # releases

    def create_release(
        self,
        app: str,
        *,
        description: str,
        image: str | None,
        commit: str | None,
        build_id: str | None,
        config_vars: dict[str, str],
        process_types: dict[str, str],
        created_by: str = "",
        status: str = RELEASE_PENDING,
        healthcheck: dict[str, Any] | None = None,
        start_first: list[str] | None = None,
    ) -> Release:
        """Create the next release of an app, numbered one above the last."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM releases WHERE app = ?", (app,)
            ).fetchone()
            release = Release(
                app=app,
                version=row[0] + 1,
                created_at=time.time(),
                description=description,
                status=status,
                image=image,
                commit=commit,
                build_id=build_id,
                config_vars=dict(config_vars),
                process_types=dict(process_types),
                created_by=created_by,
                healthcheck=healthcheck,
                start_first=list(start_first or []),
            )
            values = _release_values(release)
            marks = ", ".join("?" * len(values))
            db.execute(f"INSERT INTO releases VALUES ({marks})", values)
        return release

    def set_release_status(
        self, app: str, version: int, status: str, failure: str | None = None
    ) -> None:
        """Mark a release pending, succeeded or failed (and why it failed)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE releases SET status = ?, failure = ? "
                "WHERE app = ? AND version = ?",
                (status, failure, app, version),
            )

    def list_releases(self, app: str, limit: int | None = None) -> list[Release]:
        """Return an app's releases, newest first."""
        sql = "SELECT * FROM releases WHERE app = ? ORDER BY version DESC"
        rows = self._query(sql + " LIMIT ?", app, limit if limit else -1)
        return [_release_from_row(row) for row in rows]

    def get_release(self, app: str, version: int) -> Release:
        """Return one release of an app.

        Raises:
            ReleaseNotFound: the app has no such version.
        """
        rows = self._query(
            "SELECT * FROM releases WHERE app = ? AND version = ?", app, version
        )
        if not rows:
            message = f"No release v{version} of {app!r}. Run 'paas releases'."
            raise ReleaseNotFound(message)
        return _release_from_row(rows[0])

    def current_release(self, app: str) -> Release | None:
        """Return the newest succeeded release of an app: the one that runs."""
        rows = self._query(
            "SELECT * FROM releases WHERE app = ? AND status = ? "
            "ORDER BY version DESC LIMIT 1",
            app,
            RELEASE_SUCCEEDED,
        )
        return _release_from_row(rows[0]) if rows else None

    # builds

    def create_build(self, build: Build) -> None:
        """Record a build that has started."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO builds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(vars(build).values()),
            )

    def finish_build(self, build: Build) -> None:
        """Record a build's end: status, image, buildpack and output."""
        with self.transaction() as db:
            db.execute(
                "UPDATE builds SET status = ?, buildpack = ?, image = ?, "
                "finished_at = ?, output = ? WHERE id = ?",
                (
                    build.status,
                    build.buildpack,
                    build.image,
                    build.finished_at,
                    build.output,
                    build.id,
                ),
            )

    def list_builds(self, app: str, limit: int | None = None) -> list[Build]:
        """Return an app's builds, newest first."""
        rows = self._query(
            "SELECT * FROM builds WHERE app = ? ORDER BY started_at DESC LIMIT ?",
            app,
            limit if limit else -1,
        )
        return [_build_from_row(row) for row in rows]

    def fail_unfinished_builds(self) -> int:
        """Mark builds that were running when the platform died as failed."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE builds SET status = 'failed', finished_at = ?, "
                "output = output || ? WHERE status = 'building'",
                (time.time(), "\nThe platform stopped during this build.\n"),
            )
            db.execute("UPDATE releases SET status = 'failed' WHERE status = 'pending'")
        return cursor.rowcount

    # formation

    def get_formation(self, app: str) -> dict[str, FormationEntry]:
        """Return the formation of an app by process type."""
        rows = self._query(
            "SELECT * FROM formation WHERE app = ? ORDER BY process_type", app
        )
        return {
            row["process_type"]: FormationEntry(
                row["process_type"], row["quantity"], row["size"]
            )
            for row in rows
        }

    def set_formation(self, app: str, entries: list[FormationEntry]) -> None:
        """Create or update formation entries of an app."""
        with self.transaction() as db:
            for entry in entries:
                db.execute(
                    "INSERT INTO formation VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (app, process_type) DO UPDATE SET "
                    "quantity = excluded.quantity, size = excluded.size",
                    (app, entry.process_type, entry.quantity, entry.size),
                )

    # domains

    def add_domain(self, app: str, hostname: str) -> None:
        """Route a host name to an app.

        Raises:
            Conflict: another app has the host name.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT app FROM domains WHERE hostname = ?", (hostname,)
            ).fetchone()
            if row is not None:
                raise Conflict(f"Domain {hostname!r} is already used by {row[0]!r}.")
            db.execute("INSERT INTO domains VALUES (?, ?)", (hostname, app))

    def remove_domain(self, app: str, hostname: str) -> bool:
        """Stop routing a host name to an app; return whether it was there."""
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM domains WHERE hostname = ? AND app = ?", (hostname, app)
            )
        return cursor.rowcount > 0

    def list_domains(self, app: str | None = None) -> list[tuple[str, str]]:
        """Return (hostname, app) pairs, for one app or all."""
        if app is None:
            rows = self._query("SELECT hostname, app FROM domains ORDER BY hostname")
        else:
            rows = self._query(
                "SELECT hostname, app FROM domains WHERE app = ? ORDER BY hostname",
                app,
            )
        return [(row[0], row[1]) for row in rows]


def _app_from_row(row: sqlite3.Row) -> App:
    return App(
        name=row["name"],
        created_at=row["created_at"],
        buildpack=row["buildpack"],
        config_vars=json.loads(row["config_vars"]),
    )


def _release_values(release: Release) -> tuple[Any, ...]:
    return (
        release.app,
        release.version,
        release.created_at,
        release.description,
        release.status,
        release.image,
        release.commit,
        release.build_id,
        json.dumps(release.config_vars),
        json.dumps(release.process_types),
        release.created_by,
        json.dumps(release.healthcheck) if release.healthcheck else None,
        json.dumps(release.start_first),
        release.failure,
    )


def _release_from_row(row: sqlite3.Row) -> Release:
    return Release(
        app=row["app"],
        version=row["version"],
        created_at=row["created_at"],
        description=row["description"],
        status=row["status"],
        image=row["image"],
        commit=row["commit_sha"],
        build_id=row["build_id"],
        config_vars=json.loads(row["config_vars"]),
        process_types=json.loads(row["process_types"]),
        created_by=row["created_by"],
        healthcheck=json.loads(row["healthcheck"]) if row["healthcheck"] else None,
        start_first=json.loads(row["start_first"] or "[]"),
        failure=row["failure"],
    )


def _build_from_row(row: sqlite3.Row) -> Build:
    return Build(
        id=row["id"],
        app=row["app"],
        status=row["status"],
        commit=row["commit_sha"],
        buildpack=row["buildpack"],
        image=row["image"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        output=row["output"],
    )
