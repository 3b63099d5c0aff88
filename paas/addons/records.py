"""Add-on resources and attachments in the state store.

The tables live in ``paas.store``'s schema; this module reads and writes
them. A resource's stored spec holds its credentials: the API shows config
var keys and the URL only to callers with the platform token.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from paas.addons.spec import AddonSpec
from paas.errors import Conflict, NotFound
from paas.store import Store

CREATING = "creating"
CREATED = "created"
DESTROYING = "destroying"


class AddonNotFound(NotFound):
    """No add-on resource or attachment has the given name."""


@dataclass
class Attachment:
    """An add-on resource attached to an app under a name (``DATABASE``)."""

    addon: str
    app: str
    name: str
    created_at: float

    def to_json(self) -> dict[str, Any]:
        """Return the attachment as the API shows it."""
        return {"addon": self.addon, "app": self.app, "name": self.name}


@dataclass
class Addon:
    """A resource: one running service owned by an app."""

    name: str
    app: str
    service: str
    plan: str
    state: str
    created_at: float
    spec: AddonSpec
    attachments: list[Attachment] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the resource as the API shows it, credentials left out."""
        suffixes = self.spec.config_vars
        return {
            "name": self.name,
            "app": self.app,
            "service": self.service,
            "plan": f"{self.service}:{self.plan}",
            "state": self.state,
            "created_at": self.created_at,
            "image": self.spec.image,
            "attachments": [a.to_json() for a in self.attachments],
            # Each var once: two apps attaching as DATABASE share the name,
            # and the attachments say which apps have it.
            "config_vars": sorted(
                {f"{a.name}_{key}" for a in self.attachments for key in suffixes}
            ),
        }


def insert_addon(store: Store, addon: Addon) -> None:
    """Record a new resource.

    Raises:
        Conflict: the name is taken.
    """
    values = (
        addon.name,
        addon.app,
        addon.service,
        addon.plan,
        addon.state,
        addon.created_at,
        json.dumps(addon.spec.to_json()),
    )
    with store.transaction() as db:
        try:
            db.execute("INSERT INTO addons VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        except sqlite3.IntegrityError as exc:
            raise Conflict(
                f"Add-on name {addon.name!r} is already taken. Choose another "
                "with --name, or leave it out for a generated one."
            ) from exc


def set_state(store: Store, name: str, state: str) -> None:
    """Change a resource's state."""
    with store.transaction() as db:
        db.execute("UPDATE addons SET state = ? WHERE name = ?", (state, name))


def save_spec(store: Store, name: str, spec: AddonSpec) -> None:
    """Store a resource's spec again (once its image reference is known)."""
    text = json.dumps(spec.to_json())
    with store.transaction() as db:
        db.execute("UPDATE addons SET spec = ? WHERE name = ?", (text, name))


def delete_addon(store: Store, name: str) -> None:
    """Forget a resource and its attachments."""
    with store.transaction() as db:
        db.execute("DELETE FROM addons WHERE name = ?", (name,))


def get_addon(store: Store, name: str) -> Addon:
    """Return a resource with its attachments.

    Raises:
        AddonNotFound: no resource has that name.
    """
    rows = store.query("SELECT * FROM addons WHERE name = ?", name)
    if not rows:
        raise AddonNotFound(
            f"No add-on named {name!r}. Run 'paas addons' to list them."
        )
    return _addon(store, rows[0])


def list_addons(store: Store, app: str | None = None) -> list[Addon]:
    """Return every resource, or those owned by or attached to an app."""
    if app is None:
        rows = store.query("SELECT * FROM addons ORDER BY name")
    else:
        rows = store.query(
            "SELECT * FROM addons WHERE app = ? OR name IN "
            "(SELECT addon FROM addon_attachments WHERE app = ?) ORDER BY name",
            app,
            app,
        )
    return [_addon(store, row) for row in rows]


def _addon(store: Store, row: sqlite3.Row) -> Addon:
    return Addon(
        name=row["name"],
        app=row["app"],
        service=row["service"],
        plan=row["plan"],
        state=row["state"],
        created_at=row["created_at"],
        spec=AddonSpec.from_json(json.loads(row["spec"])),
        attachments=list_attachments(store, addon=row["name"]),
    )


def add_attachment(store: Store, addon: str, app: str, name: str) -> Attachment:
    """Attach a resource to an app under a name.

    Raises:
        Conflict: the app already has an attachment of that name.
    """
    attachment = Attachment(addon, app, name, time.time())
    with store.transaction() as db:
        try:
            db.execute(
                "INSERT INTO addon_attachments VALUES (?, ?, ?, ?)",
                (addon, app, name, attachment.created_at),
            )
        except sqlite3.IntegrityError as exc:
            raise Conflict(
                f"{app!r} already has an add-on attached as {name!r}. "
                "Use --as to choose another name."
            ) from exc
    return attachment


def remove_attachment(store: Store, app: str, name: str) -> None:
    """Forget one attachment."""
    with store.transaction() as db:
        db.execute(
            "DELETE FROM addon_attachments WHERE app = ? AND name = ?", (app, name)
        )


def list_attachments(
    store: Store, *, addon: str | None = None, app: str | None = None
) -> list[Attachment]:
    """Return attachments of a resource, of an app, or all."""
    sql = "SELECT * FROM addon_attachments WHERE 1 = 1"
    args: list[str] = []
    if addon is not None:
        sql += " AND addon = ?"
        args.append(addon)
    if app is not None:
        sql += " AND app = ?"
        args.append(app)
    rows = store.query(sql + " ORDER BY created_at", *args)
    return [
        Attachment(row["addon"], row["app"], row["name"], row["created_at"])
        for row in rows
    ]


def find_attachment(store: Store, app: str, name: str) -> Attachment:
    """Return an app's attachment by its name (``DATABASE``) or resource name.

    Raises:
        AddonNotFound: the app has no such attachment.
    """
    for attachment in list_attachments(store, app=app):
        if name in (attachment.name, attachment.addon):
            return attachment
    raise AddonNotFound(
        f"No add-on attached to {app!r} as {name!r}. Run 'paas addons -a {app}'."
    )
