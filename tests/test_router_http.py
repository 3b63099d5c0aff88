"""Request and response heads and chunked framing, parsed at the byte level."""

from __future__ import annotations

import re

import pytest

from paas.router.http import (
    CHUNKED,
    UNTIL_CLOSE,
    BadRequest,
    BadResponse,
    ChunkedFramer,
    new_request_id,
    parse_request_head,
    parse_response_head,
    valid_request_id,
)


def parse(head: bytes):  # type: ignore[no-untyped-def]
    return parse_request_head(head, 8192, 100)


def test_request_head_keeps_ordinary_fields() -> None:
    request = parse(b"GET /a HTTP/1.1\r\nHost: shop\r\nAccept: */*")
    assert (request.method, request.target, request.host) == (b"GET", b"/a", b"shop")
    assert request.head == b"GET /a HTTP/1.1\r\nHost: shop\r\nAccept: */*"


def test_request_head_drops_hop_by_hop_and_named_fields() -> None:
    request = parse(
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Drop\r\nX-Drop: 1"
        b"\r\nKeep-Alive: 5\r\nX-Keep: 2"
    )
    assert request.head == b"GET / HTTP/1.1\r\nHost: a\r\nX-Keep: 2"
    assert request.keep_alive is False


def test_request_content_length_sets_length() -> None:
    request = parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12")
    assert request.length == 12


def test_repeated_equal_content_length_is_accepted() -> None:
    request = parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3")
    assert request.length == 3


def test_chunked_request_is_chunked() -> None:
    request = parse(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked")
    assert request.length == CHUNKED


def test_http10_request_closes_by_default() -> None:
    assert parse(b"GET / HTTP/1.0\r\nHost: a").keep_alive is False


def test_upgrade_needs_connection_upgrade() -> None:
    plain = parse(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket")
    real = parse(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: ws")
    assert (plain.upgrade, real.upgrade) == (None, b"ws")


def test_bare_lf_in_field_is_refused() -> None:
    with pytest.raises(BadRequest, match="malformed header field"):
        parse(b"GET / HTTP/1.1\r\nHost: a\nX: b")


def test_response_head_finds_length_and_strips_connection() -> None:
    response = parse_response_head(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX: y",
        b"GET",
    )
    assert (response.status, response.length, response.keep_alive) == (200, 5, True)
    assert response.fields == b"\r\nContent-Length: 5\r\nX: y"


def test_response_without_length_reads_until_close() -> None:
    response = parse_response_head(b"HTTP/1.1 200 OK\r\nX: y", b"GET")
    assert (response.length, response.keep_alive) == (UNTIL_CLOSE, False)


def test_response_to_head_has_no_body() -> None:
    response = parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Length: 9", b"HEAD")
    assert response.length == 0


def test_response_connection_close_is_not_reused() -> None:
    response = parse_response_head(
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close", b"GET"
    )
    assert response.keep_alive is False


@pytest.mark.parametrize(
    "head",
    [b"HTTP/1.1 2OO OK", b"SPDY 200 OK", b"HTTP/1.1 200 OK\r\nContent-Length: x"],
    ids=["letters-in-status", "not-http", "bad-length"],
)
def test_malformed_response_is_refused(head: bytes) -> None:
    with pytest.raises(BadResponse):
        parse_response_head(head, b"GET")


def test_chunked_framer_finds_end_across_pieces() -> None:
    body = b"3\r\nabc\r\n10;x=y\r\n" + b"z" * 16 + b"\r\n0\r\nT: 1\r\n\r\nNEXT"
    framer = ChunkedFramer()
    ends = [framer.feed(body[i : i + 5]) for i in range(0, len(body), 5)]
    end_piece = next(i for i, end in enumerate(ends) if end >= 0)
    assert end_piece * 5 + ends[end_piece] == len(body) - 4


def test_chunked_framer_refuses_bad_size() -> None:
    with pytest.raises(ValueError):
        ChunkedFramer().feed(b"zz\r\n")


def test_new_request_id_is_uuid4() -> None:
    uuid4 = rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(uuid4, new_request_id())


@pytest.mark.parametrize(
    ("value", "valid"),
    [(b"a" * 20, True), (b"a" * 19, False), (b"a" * 201, False), (b"a b" * 10, False)],
    ids=["20-chars", "19-chars", "201-chars", "space"],
)
def test_request_id_rule(value: bytes, valid: bool) -> None:
    assert valid_request_id(value) is valid
