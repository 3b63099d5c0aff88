"""HTTP/1.1 message heads and body framing, at the byte level.

The router forwards bodies byte for byte, so it only needs to understand the
heads (to rewrite headers and find the framing) and where a body ends (to keep
a connection in step). Both are done here without any HTTP library: the data
path cannot afford one (see DESIGN.md, "Router speed").
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

CHUNKED = -1
UNTIL_CLOSE = -2

# Header names the router reads, drops or replaces; every other field goes
# to the dyno untouched. Hop-by-hop fields are those of RFC 9110 7.6.1;
# Transfer-Encoding is framing the router forwards verbatim, so it stays.
_REQUEST_SPECIAL = re.compile(
    rb"\r\n(host|content-length|transfer-encoding|connection|keep-alive|te|trailer"
    rb"|upgrade|expect|proxy-[^:]*|x-forwarded-(?:for|proto|port)|x-request-start"
    rb"|x-request-id):"
)
_RESPONSE_SPECIAL = re.compile(
    rb"\r\n(content-length|transfer-encoding|connection|keep-alive|te|trailer"
    rb"|upgrade|proxy-[^:]*|x-request-id):"
)
_REQUEST_KEEP = frozenset({b"host", b"content-length", b"transfer-encoding", b"expect"})
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([^ \x00-\x1f]+) (HTTP/1\.[01])")
_FIELDS = re.compile(rb"(?:\r\n" + _TOKEN + rb":[^\r\n]*)*")
_REQUEST = re.compile(
    rb"("
    + _TOKEN
    + rb") ([^ \x00-\x1f]+) (HTTP/1\.[01])((?:\r\n"
    + _TOKEN
    + rb":[^\r\n]*)*)"
)
# Request fields other than Host that need attention; most requests have none.
_REQUEST_OTHER = re.compile(
    rb"\r\n(?:content-length|transfer-encoding|connection|keep-alive|te|trailer"
    rb"|upgrade|expect|proxy-[^:]*|x-forwarded-(?:for|proto|port)|x-request-start"
    rb"|x-request-id):"
)
_RESPONSE_RARE = re.compile(
    rb"\r\n(?:transfer-encoding|keep-alive|te|trailer|upgrade|proxy-[^:]*"
    rb"|x-request-id):"
)
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([0-9]{3})(?: |$)")
_ID_CHARS = re.compile(rb"[A-Za-z0-9+/=-]{20,200}")
_random_bits = random.Random().getrandbits
_UUID4 = b"%08x-%04x-4%03x-%04x-%012x"


class BadRequest(Exception):
    """A client request the router refuses, with the status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class BadResponse(Exception):
    """A dyno response the router cannot forward (H17)."""


@dataclass(slots=True)
class RequestHead:
    """The parts of a request head the router acts on.

    ``head`` is the request line and the fields to forward (hop-by-hop and
    replaced ones removed), without the final CRLF.
    """

    method: bytes
    target: bytes
    version: bytes
    head: bytes
    host: bytes = b""
    length: int = 0
    keep_alive: bool = True
    upgrade: bytes | None = None
    request_id: bytes | None = None
    forwarded_for: bytes | None = None

    @property
    def has_body(self) -> bool:
        """Say whether a body follows the head."""
        return self.length != 0


@dataclass(slots=True)
class ResponseHead:
    """The parts of a response head the router acts on.

    ``fields`` are the header fields to forward, each led by CRLF.
    """

    status: int
    status_line: bytes
    fields: bytes
    length: int
    keep_alive: bool


def new_request_id() -> bytes:
    """Return a random UUID4, as text, for a request without a valid id."""
    # uuid.uuid4() reads the OS entropy pool on every call; an id needs to
    # be unique, not secret, and this is a few times cheaper.
    bits = _random_bits(122)
    return _UUID4 % (
        bits >> 90,
        (bits >> 74) & 0xFFFF,
        (bits >> 62) & 0xFFF,
        0x8000 | ((bits >> 48) & 0x3FFF),
        bits & 0xFFFFFFFFFFFF,
    )


def valid_request_id(value: bytes) -> bool:
    """Say whether a client's X-Request-Id may be kept (Heroku's rule)."""
    return _ID_CHARS.fullmatch(value) is not None


def parse_request_head(head: bytes, max_line: int, max_headers: int) -> RequestHead:
    """Parse a request head (without its final blank line).

    Raises:
        BadRequest: with 400, 405, 414, 431 or 505 for a request to refuse.
    """
    match = _REQUEST.fullmatch(head)
    if match is None or len(head) > max_line:
        return _parse_request_slowly(head, max_line, max_headers)
    method, target, version, fields = match.groups()
    if method == b"CONNECT" or fields.count(b"\r\n") > max_headers:
        return _parse_request_slowly(head, max_line, max_headers)
    request = RequestHead(method, target, version, head)
    if version == b"HTTP/1.0":
        request.keep_alive = False
    lower = fields.lower()
    if _REQUEST_OTHER.search(lower) is None:
        # The common case: Host is the one field the router acts on.
        start = lower.find(b"\r\nhost:") + 7
        if start > 6 and lower.find(b"\r\nhost:", start) < 0:
            request.host = fields[start : _field_end(fields, start)].strip()
            if request.host:
                return request
    return _parse_request_slowly(head, max_line, max_headers)


def _parse_request_slowly(head: bytes, max_line: int, max_headers: int) -> RequestHead:
    """Parse any request head, naming the first rule it breaks."""
    line_end = head.find(b"\r\n")
    if line_end < 0:
        line_end = len(head)
    method, target, version = _split_request_line(head[:line_end], max_line)
    fields = head[line_end:]
    _check_fields(fields, max_line, max_headers)
    request = RequestHead(method, target, version, head)
    if version == b"HTTP/1.0":
        request.keep_alive = False
    found = [
        (m.group(1), m.start(), _field_end(fields, m.end()), m.end())
        for m in _REQUEST_SPECIAL.finditer(fields.lower())
    ]
    _apply_special_fields(request, found, fields)
    if not request.host:
        raise BadRequest(400, "missing Host header")
    return request


def _split_request_line(line: bytes, max_line: int) -> tuple[bytes, bytes, bytes]:
    if len(line) > max_line:
        raise BadRequest(414, "request line too long")
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        if line.count(b" ") == 2 and line.rsplit(b" ", 1)[1][:5] == b"HTTP/":
            raise BadRequest(505, "unsupported HTTP version")
        raise BadRequest(400, "malformed request line")
    if match.group(1) == b"CONNECT":
        raise BadRequest(405, "CONNECT is not allowed")
    return match.group(1), match.group(2), match.group(3)


def _check_fields(fields: bytes, max_line: int, max_headers: int) -> None:
    if _FIELDS.fullmatch(fields) is None:
        raise BadRequest(400, "malformed header field")
    if fields.count(b"\r\n") > max_headers:
        raise BadRequest(431, "too many header fields")
    if len(fields) > max_line and max(map(len, fields.split(b"\r\n"))) > max_line:
        raise BadRequest(431, "header field too long")


def _field_end(fields: bytes, start: int) -> int:
    end = fields.find(b"\r\n", start)
    return len(fields) if end < 0 else end


def _apply_special_fields(
    request: RequestHead, found: list[tuple[bytes, int, int, int]], fields: bytes
) -> None:
    if len(found) == 1 and found[0][0] == b"host":
        request.host = fields[found[0][3] : found[0][2]].strip()
        return
    values: dict[bytes, list[bytes]] = {}
    drop: list[tuple[int, int]] = []
    for name, start, end, value_start in found:
        values.setdefault(name, []).append(fields[value_start:end].strip())
        if name not in _REQUEST_KEEP:
            drop.append((start, end))
    if drop:
        request.head = _cut(request.head, len(request.head) - len(fields), drop)
    _set_host(request, values.get(b"host", []))
    _set_framing(request, values.get(b"content-length", []), values)
    _set_connection(request, values)
    expect = values.get(b"expect")
    if expect and expect[0].lower() != b"100-continue":
        raise BadRequest(417, "unsupported Expect value")
    ids = values.get(b"x-request-id")
    if ids and valid_request_id(ids[0]):
        request.request_id = ids[0]
    if b"x-forwarded-for" in values:
        request.forwarded_for = b", ".join(values[b"x-forwarded-for"])


def _cut(head: bytes, offset: int, spans: list[tuple[int, int]]) -> bytes:
    parts, last = [], 0
    for start, end in spans:
        parts.append(head[last : offset + start])
        last = offset + end
    parts.append(head[last:])
    return b"".join(parts)


def _set_host(request: RequestHead, hosts: list[bytes]) -> None:
    if len(hosts) > 1:
        raise BadRequest(400, "duplicate Host header")
    if hosts:
        request.host = hosts[0]


def _set_framing(
    request: RequestHead, lengths: list[bytes], values: dict[bytes, list[bytes]]
) -> None:
    codings = _tokens(values.get(b"transfer-encoding", []))
    if codings:
        if lengths:
            raise BadRequest(400, "both Content-Length and Transfer-Encoding")
        if codings[-1] != b"chunked":
            raise BadRequest(400, "unsupported Transfer-Encoding")
        request.length = CHUNKED
        return
    numbers = set(_tokens(lengths))
    if not numbers:
        return
    number = numbers.pop()
    if numbers or not number.isdigit():
        raise BadRequest(400, "conflicting or invalid Content-Length")
    request.length = int(number)


def _set_connection(request: RequestHead, values: dict[bytes, list[bytes]]) -> None:
    tokens = set(_tokens(values.get(b"connection", [])))
    if b"close" in tokens:
        request.keep_alive = False
    elif b"keep-alive" in tokens and request.version == b"HTTP/1.1":
        request.keep_alive = True
    upgrade = values.get(b"upgrade")
    if upgrade and b"upgrade" in tokens:
        request.upgrade = upgrade[0]
    named = tokens - {b"close", b"keep-alive", b"upgrade"}
    if named:
        request.head = _drop_named(request.head, named)


def _tokens(values: list[bytes]) -> list[bytes]:
    return [t.strip().lower() for v in values for t in v.split(b",") if t.strip()]


def _drop_named(head: bytes, names: set[bytes]) -> bytes:
    """Remove the fields a Connection header names (RFC 9110 7.6.1)."""
    lines = head.split(b"\r\n")
    kept = [lines[0]]
    kept += [x for x in lines[1:] if x.split(b":", 1)[0].lower() not in names]
    return b"\r\n".join(kept)


def parse_response_head(head: bytes, request_method: bytes) -> ResponseHead:
    """Parse a response head (without its final blank line).

    Raises:
        BadResponse: when the head is not HTTP/1.x.
    """
    line_end = head.find(b"\r\n")
    if line_end < 0:
        line_end = len(head)
    status_line = head[:line_end]
    fields = head[line_end:]
    response = ResponseHead(
        _status(status_line), status_line, fields, UNTIL_CLOSE, status_line[7] == 49
    )
    lower = fields.lower()
    if _RESPONSE_RARE.search(lower) is not None or not _read_common_fields(
        response, fields, lower
    ):
        response.fields = fields
        response.length = UNTIL_CLOSE
        response.keep_alive = status_line[7:8] == b"1"
        found = list(_RESPONSE_SPECIAL.finditer(lower))
        if found:
            _apply_response_fields(response, found)
    status = response.status
    if status < 200 or status == 204 or status == 304 or request_method == b"HEAD":
        response.length = 0
    if response.length == UNTIL_CLOSE:
        response.keep_alive = False
    return response


def _read_common_fields(response: ResponseHead, fields: bytes, lower: bytes) -> bool:
    """Read Content-Length and Connection the quick way; False if it cannot."""
    start = lower.find(b"\r\ncontent-length:")
    if start >= 0:
        start += 17
        end = lower.find(b"\r\n", start)
        if end < 0:
            end = len(lower)
        elif lower.find(b"\r\ncontent-length:", end) >= 0:
            return False
        value = fields[start:end].strip()
        if not value.isdigit():
            raise BadResponse("invalid Content-Length")
        response.length = int(value)
    start = lower.find(b"\r\nconnection:")
    if start < 0:
        return True
    end = lower.find(b"\r\n", start + 14)
    if end < 0:
        end = len(lower)
    elif lower.find(b"\r\nconnection:", end) >= 0:
        return False
    value = lower[start + 14 : end].strip()
    if value == b"keep-alive":
        response.keep_alive = True
    elif value == b"close":
        response.keep_alive = False
    else:
        return False
    response.fields = fields[:start] + fields[end:]
    return True


def _status(status_line: bytes) -> int:
    match = _STATUS_LINE.match(status_line)
    if match is None:
        raise BadResponse("malformed status line")
    return int(match.group(1))


def _apply_response_fields(
    response: ResponseHead, found: list[re.Match[bytes]]
) -> None:
    fields = response.fields
    drop: list[tuple[int, int]] = []
    tokens: list[bytes] = []
    for match in found:
        name, end = match.group(1), _field_end(fields, match.end())
        value = fields[match.end() : end].strip()
        if name == b"content-length":
            response.length = _response_length(value, response.length)
        elif name == b"transfer-encoding":
            response.length = CHUNKED
        elif name == b"upgrade" and response.status == 101:
            continue
        else:
            if name == b"connection":
                tokens += _tokens([value])
            drop.append((match.start(), end))
    if b"close" in tokens:
        response.keep_alive = False
    elif b"keep-alive" in tokens:
        response.keep_alive = True
    if drop:
        response.fields = _cut(fields, 0, drop)
    named = set(tokens) - {b"close", b"keep-alive", b"upgrade"}
    if named:
        response.fields = _drop_named(response.fields, named)


def _response_length(value: bytes, current: int) -> int:
    if current == CHUNKED:
        return CHUNKED
    if not value.isdigit() or (current >= 0 and int(value) != current):
        raise BadResponse("invalid Content-Length")
    return int(value)


class ChunkedFramer:
    """Find where a chunked body ends, leaving its bytes as they are."""

    __slots__ = ("_state", "_remaining", "_line")

    _SIZE, _DATA, _TRAILER = 0, 1, 2
    _MAX_LINE = 8192

    def __init__(self) -> None:
        self._state = self._SIZE
        self._remaining = 0
        self._line = b""

    def feed(self, data: bytes | bytearray) -> int:
        """Return the index just past the body's end in data, or -1 if it goes on.

        Raises:
            ValueError: on a malformed chunk size or an overlong line.
        """
        i, n = 0, len(data)
        while i < n:
            if self._state == self._DATA:
                take = min(self._remaining, n - i)
                i += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = self._SIZE
                continue
            end = data.find(b"\n", i)
            if end < 0:
                self._keep_partial_line(data[i:])
                return -1
            line, self._line = self._line + bytes(data[i:end]), b""
            i = end + 1
            if self._end_of_line(line):
                return i
        return -1

    def _keep_partial_line(self, part: bytes | bytearray) -> None:
        self._line += bytes(part)
        if len(self._line) > self._MAX_LINE:
            raise ValueError("chunk line too long")

    def _end_of_line(self, line: bytes) -> bool:
        if self._state == self._TRAILER:
            return line.strip() == b""
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size < 0:
            raise ValueError("negative chunk size")
        if size == 0:
            self._state = self._TRAILER
        else:
            self._state = self._DATA
            self._remaining = size + 2
        return False
