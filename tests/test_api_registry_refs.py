"""registry:inspect refuses a reference that is neither a tag nor a digest."""

from __future__ import annotations

import pytest

from paas.api.registry import describe_image
from paas.errors import InvalidInput


@pytest.mark.parametrize("reference", ["sha256:abc", "bad tag", ":x", "-dash"])
def test_malformed_reference_is_refused_before_asking_the_registry(
    reference: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        describe_image(None, "redis", reference, None)
    assert refused.value.message == (
        f"{reference!r} is neither a tag nor a digest: use a tag such as '17' "
        "or a digest 'sha256:<64 hex digits>'."
    )
