"""Names of add-on resources and attachments, as Heroku forms them.

A resource is named ``<service>-<adjective>-<5 digits>`` unless given a
name; an attachment name such as ``DATABASE`` prefixes the service's config
vars, so its ``URL`` becomes ``DATABASE_URL``.
"""

from __future__ import annotations

import re
import secrets

from paas.errors import InvalidInput

RESOURCE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
ATTACHMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,29}$")
ADJECTIVES = (
    "amber", "brave", "calm", "clear", "crisp", "deep", "eager", "fair",
    "fleet", "fresh", "gentle", "glad", "grand", "keen", "kind", "lively",
    "lucid", "merry", "noble", "polar", "proud", "quick", "quiet", "rapid",
    "sharp", "shiny", "silent", "sleek", "solid", "steady", "swift", "vivid",
)  # fmt: skip


def generate_resource_name(service: str) -> str:
    """Return a fresh resource name such as ``postgres-swift-12345``."""
    adjective = secrets.choice(ADJECTIVES)
    return f"{service}-{adjective}-{secrets.randbelow(90000) + 10000}"


def validate_resource_name(name: str) -> None:
    """Check a resource name given with ``--name``.

    Raises:
        InvalidInput: the name breaks the rule.
    """
    if not RESOURCE_NAME.fullmatch(name):
        raise InvalidInput(
            f"Add-on name {name!r} is invalid: use 3 to 63 lowercase letters, "
            "digits and dashes, starting with a letter and ending with a "
            "letter or digit."
        )


def attachment_name(text: str) -> str:
    """Return the attachment name for ``--as``: upper case, dashes as ``_``.

    Raises:
        InvalidInput: the name is not letters, digits and underscores.
    """
    name = text.strip().upper().replace("-", "_")
    if not ATTACHMENT_NAME.fullmatch(name):
        raise InvalidInput(
            f"Attachment name {text!r} is invalid: use up to 30 letters, "
            "digits and underscores, starting with a letter (DATABASE)."
        )
    return name


def config_var_keys(attachment: str, suffixes: list[str]) -> list[str]:
    """Return the config var keys an attachment sets (``DATABASE_URL``)."""
    return [f"{attachment}_{suffix}" for suffix in suffixes]
