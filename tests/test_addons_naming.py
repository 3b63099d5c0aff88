"""Names of add-on resources and attachments."""

from __future__ import annotations

import re

import pytest

from paas.addons.naming import (
    attachment_name,
    generate_resource_name,
    validate_resource_name,
)
from paas.errors import InvalidInput


def test_generated_name_is_service_adjective_number() -> None:
    name = generate_resource_name("postgres")
    assert re.fullmatch(r"postgres-[a-z]+-\d{5}", name), name
    validate_resource_name(name)


@pytest.mark.parametrize("name", ["Bad_Name", "x", "-db", "db-", "a b"])
def test_bad_resource_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match=f"Add-on name {name!r} is invalid"):
        validate_resource_name(name)


@pytest.mark.parametrize(
    ("given", "name"),
    [("DATABASE", "DATABASE"), ("cache", "CACHE"), ("old-db", "OLD_DB")],
    ids=["upper", "lower", "dash"],
)
def test_attachment_name_is_upper_case(given: str, name: str) -> None:
    assert attachment_name(given) == name


@pytest.mark.parametrize("given", ["1DB", "DB URL", "", "DB$"])
def test_bad_attachment_name_is_refused(given: str) -> None:
    with pytest.raises(InvalidInput, match="Attachment name .* is invalid"):
        attachment_name(given)
