"""Counts in query strings: whole numbers, 0 or more, capped where asked."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from paas.api.deps import count_param
from paas.errors import InvalidInput


def request(query: str) -> Request:
    return Request({"type": "http", "query_string": query.encode(), "headers": []})


@pytest.mark.parametrize(
    ("query", "maximum", "count"),
    [("", None, 7), ("n=3", None, 3), ("n=", None, 7), ("n=9000", 1500, 1500)],
)
def test_count_is_read_with_default_and_cap(
    query: str, maximum: int | None, count: int
) -> None:
    assert count_param(request(query), "n", 7, maximum) == count


@pytest.mark.parametrize(
    ("query", "maximum", "message"),
    [
        ("n=x", None, "n must be a whole number."),
        ("n=-1", None, "n -1 is invalid: give 0 or more."),
        ("n=-5", 1500, "n -5 is invalid: give 0 to 1500."),
    ],
)
def test_bad_count_is_refused(query: str, maximum: int | None, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        count_param(request(query), "n", 7, maximum)
    assert refused.value.message == message
