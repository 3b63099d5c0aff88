"""The router, end to end: real HTTP through the real router to a real dyno.

One app (``apps/router``: echoes what reached it, streams, sleeps, closes
early, speaks WebSocket) is deployed once for the module, and one app with no
web process for H14. Requests that HTTP clients refuse to send (duplicate
Host, conflicting Content-Length) go over raw sockets.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from tests.e2e.conftest import APPS, Platform, deploy_app, make_repo, wait_for

APP = "e2e-router"
NOWEB = "e2e-router-noweb"
HOST = f"{APP}.localhost"
BIG = 80 * 1024 * 1024
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def app(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Deploy the router test app once for the module."""
    repo = make_repo(
        tmp_path_factory.mktemp("repo") / "app", APPS / "router", platform.env
    )
    pushed = deploy_app(platform, APP, repo)
    assert pushed.code == 0, pushed.output
    wait_for(lambda: platform.get(APP, "/echo").status_code == 200)
    yield APP
    platform.paas("apps:destroy", APP, "--confirm", APP)


@pytest.fixture(scope="module")
def noweb(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Deploy an app whose only process type is a worker."""
    repo = make_repo(
        tmp_path_factory.mktemp("repo") / "noweb", APPS / "noweb", platform.env
    )
    pushed = deploy_app(platform, NOWEB, repo)
    assert pushed.code == 0, pushed.output
    yield NOWEB
    platform.paas("apps:destroy", NOWEB, "--confirm", NOWEB)


# raw HTTP over a socket


class Raw:
    """A client connection to the router that sends bytes as they are given."""

    def __init__(self, platform: Platform) -> None:
        address = ("127.0.0.1", platform.router_port)
        self.sock = socket.create_connection(address, timeout=20)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size and self._fill():
            pass
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def head(self) -> tuple[int, dict[str, str]]:
        """Read one response head: the status and fields (lower-case names)."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise AssertionError(f"connection closed; got {self.buffer!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        return int(lines[0].split()[1]), fields

    def response(self, bodiless: bool = False) -> tuple[int, dict[str, str], bytes]:
        """Read one whole response; ``bodiless`` for the answer to a HEAD."""
        status, fields = self.head()
        if bodiless or status in (204, 304):
            return status, fields, b""
        if "content-length" in fields:
            return status, fields, self._take(int(fields["content-length"]))
        while self._fill():
            pass
        body, self.buffer = self.buffer, b""
        return status, fields, body


@pytest.fixture
def raw(platform: Platform) -> Iterator[Raw]:
    """A raw connection to the router, closed after the test."""
    conn = Raw(platform)
    yield conn
    conn.close()


def request(method: str, path: str, host: str = HOST, extra: str = "") -> bytes:
    """Return a request head with no body."""
    return f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def get(platform: Platform, path: str, headers: dict[str, str]) -> httpx.Response:
    """Send GET to the app with extra header fields."""
    url = f"http://127.0.0.1:{platform.router_port}{path}"
    return httpx.get(url, headers={"Host": HOST} | headers, timeout=20)


def echoed(platform: Platform, headers: dict[str, str]) -> dict[str, Any]:
    """Send GET /echo with headers; return what the dyno saw and the answer."""
    response = get(platform, "/echo", headers)
    seen: dict[str, Any] = response.json()
    seen["fields"] = {k.lower(): v for k, v in seen["headers"]}
    seen["response"] = response
    return seen


def router_peak_mib(platform: Platform) -> float:
    """Return the router process's peak resident memory (VmHWM) in MiB."""
    pid = int((platform.home / "run" / "router.pid").read_text())
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None
    return int(match.group(1)) / 1024


def blocks(total: int) -> Iterator[bytes]:
    """Yield a body of ``total`` bytes in 1 MiB pieces."""
    piece = b"u" * MIB
    for _ in range(total // MIB):
        yield piece


# (2) HTTP behaviour


def test_keep_alive_reuses_both_connections(app: str, raw: Raw) -> None:
    raw.send(request("GET", "/echo/1"))
    first = json.loads(raw.response()[2])
    raw.send(request("GET", "/echo/2"))
    second = json.loads(raw.response()[2])
    assert (first["path"], second["path"]) == ("/echo/1", "/echo/2")
    assert first["peer"] == second["peer"]


@pytest.mark.parametrize("chunked", [False, True], ids=["fixed", "chunked"])
def test_large_upload_streams(platform: Platform, app: str, chunked: bool) -> None:
    before = router_peak_mib(platform)
    headers = {"Host": HOST}
    if not chunked:
        headers["Content-Length"] = str(BIG)
    url = f"http://127.0.0.1:{platform.router_port}/echo"
    answer = httpx.post(url, content=blocks(BIG), headers=headers, timeout=120)
    seen = {k.lower(): v for k, v in answer.json()["headers"]}
    assert answer.json()["body_length"] == BIG
    assert ("transfer-encoding" in seen, "content-length" in seen) == (
        chunked,
        not chunked,
    )
    assert router_peak_mib(platform) - before < 24


@pytest.mark.parametrize("chunked", [False, True], ids=["fixed", "chunked"])
def test_large_download_streams(platform: Platform, app: str, chunked: bool) -> None:
    before = router_peak_mib(platform)
    query = "?chunked=1" if chunked else ""
    url = f"http://127.0.0.1:{platform.router_port}/download/{BIG}{query}"
    received = 0
    with httpx.stream("GET", url, headers={"Host": HOST}, timeout=120) as response:
        framing = response.headers.get("transfer-encoding", "length")
        for piece in response.iter_raw():
            received += len(piece)
    assert (received, framing) == (BIG, "chunked" if chunked else "length")
    assert router_peak_mib(platform) - before < 24


def test_websocket_upgrade_echoes(platform: Platform, app: str) -> None:
    sock = socket.create_connection(("127.0.0.1", platform.router_port), timeout=20)
    uri = f"ws://{HOST}:{platform.router_port}/ws"
    with ws_connect(uri, sock=sock, open_timeout=20) as ws:
        ws.send("hello through the router")
        text = ws.recv(timeout=20)
        ws.send(b"\x01" * 100_000)
        data = ws.recv(timeout=20)
    assert (text, data) == ("hello through the router", b"\x01" * 100_000)


def test_head_response_has_no_body(app: str, raw: Raw) -> None:
    raw.send(request("HEAD", "/echo"))
    status, fields, _ = raw.response(bodiless=True)
    raw.send(request("GET", "/echo/after-head"))
    after = json.loads(raw.response()[2])
    assert (status, int(fields["content-length"]) > 0) == (200, True)
    assert after["path"] == "/echo/after-head"


@pytest.mark.parametrize("code", [204, 304])
def test_bodiless_status_has_no_body(app: str, raw: Raw, code: int) -> None:
    raw.send(request("GET", f"/status/{code}"))
    status = raw.response()[0]
    raw.send(request("GET", f"/echo/after-{code}"))
    after = json.loads(raw.response()[2])
    assert (status, after["path"]) == (code, f"/echo/after-{code}")


def test_expect_100_continue_is_relayed(app: str, raw: Raw) -> None:
    extra = "Expect: 100-continue\r\nContent-Length: 5\r\n"
    raw.send(request("POST", "/echo", extra=extra))
    interim = raw.head()[0]
    raw.send(b"hello")
    status, _, body = raw.response()
    assert (interim, status, json.loads(body)["body_length"]) == (100, 200, 5)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (request("GET", "/" + "a" * 9000), 414),
        (request("GET", "/", extra=f"X-Big: {'b' * 9000}\r\n"), 431),
        (
            b"GET / HTTP/1.1\r\nHost: "
            + HOST.encode()
            + b"\r\nHost: x.localhost\r\n\r\n",
            400,
        ),
        (
            request(
                "POST", "/echo", extra="Content-Length: 3\r\nContent-Length: 4\r\n"
            ),
            400,
        ),
    ],
    ids=["long-line-414", "long-header-431", "two-hosts-400", "two-lengths-400"],
)
def test_bad_request_is_refused(app: str, raw: Raw, data: bytes, status: int) -> None:
    raw.send(data)
    answer = raw.response()
    assert (answer[0], answer[1].get("connection")) == (status, "close")


def test_hop_by_hop_request_fields_are_stripped(platform: Platform, app: str) -> None:
    headers = {
        "Connection": "keep-alive, X-Secret",
        "X-Secret": "1",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Proxy-Authorization": "Basic eDp5",
        "X-Kept": "yes",
    }
    fields = echoed(platform, headers)["fields"]
    dropped = {"x-secret", "keep-alive", "te", "proxy-authorization"} & set(fields)
    assert (dropped, fields["x-kept"]) == (set(), "yes")


def test_hop_by_hop_response_fields_are_stripped(platform: Platform, app: str) -> None:
    response = platform.get(APP, "/hop")
    assert (response.text, "keep-alive" in response.headers) == ("hop\n", False)
    assert "proxy-thing" not in response.headers


def test_forwarded_fields_are_set(platform: Platform, app: str) -> None:
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    fields = echoed(platform, headers)["fields"]
    assert (
        fields["x-forwarded-for"],
        fields["x-forwarded-proto"],
        fields["x-forwarded-port"],
        fields["via"],
    ) == ("203.0.113.7, 127.0.0.1", "http", str(platform.router_port), "1.1 paas")
    assert abs(int(fields["x-request-start"]) - time.time() * 1000) < 10_000


def test_valid_request_id_is_kept_and_returned(platform: Platform, app: str) -> None:
    request_id = "client-" + uuid.uuid4().hex
    seen = echoed(platform, {"X-Request-Id": request_id})
    assert seen["fields"]["x-request-id"] == request_id
    assert seen["response"].headers["x-request-id"] == request_id


def test_invalid_request_id_is_replaced(platform: Platform, app: str) -> None:
    seen = echoed(platform, {"X-Request-Id": "too short"})
    given = seen["response"].headers["x-request-id"]
    assert seen["fields"]["x-request-id"] == given
    assert uuid.UUID(given).version == 4


# (3) timeouts and errors


def test_slow_dyno_gets_h12(platform: Platform, app: str) -> None:
    started = time.monotonic()
    response = platform.get(APP, "/sleep/9")
    took = time.monotonic() - started
    assert (response.status_code, "Error H12" in response.text) == (503, True)
    assert 3.5 < took < 8


def test_dyno_closing_without_answer_gets_h13(platform: Platform, app: str) -> None:
    response = platform.get(APP, "/close")
    assert (response.status_code, "Error H13" in response.text) == (503, True)


def test_app_without_web_dynos_gets_h14(platform: Platform, noweb: str) -> None:
    response = platform.get(NOWEB)
    assert (response.status_code, "Error H14" in response.text) == (503, True)
    assert "No web dynos running" in response.text


def test_unknown_host_gets_404_page(platform: Platform, app: str) -> None:
    response = platform.get("no-such-app-here")
    assert (response.status_code, "No such app" in response.text) == (404, True)


def test_app_error_page_url_is_framed(platform: Platform, noweb: str) -> None:
    url = "https://errors.example.com/oops.html"
    done = platform.paas("config:set", f"ERROR_PAGE_URL={url}", "-a", noweb)
    assert done.code == 0, done.output
    frame = f'<iframe class="app-page" src="{url}"'
    wait_for(lambda: frame in platform.get(NOWEB).text, timeout=20)
    assert platform.get(NOWEB).status_code == 503


# (4) router lines in the app's log

INFO_LINE = re.compile(
    r"^\S+ paas\[router\]: at=info method=GET path=\"/echo/logged\" "
    rf"host={re.escape(HOST)} request_id=(\S+) fwd=\"127\.0\.0\.1\" dyno=web\.1 "
    r"connect=\d+ms service=\d+ms status=200 bytes=\d+ protocol=http$"
)
ERROR_LINE = re.compile(
    r"^\S+ paas\[router\]: at=error code=H13 desc=\"Connection closed without "
    rf"response\" method=GET path=\"/close\" host={re.escape(HOST)} "
    r"request_id=(\S+) fwd=\"127\.0\.0\.1\" dyno=web\.1 connect= service= "
    r"status=503 bytes=\d+ protocol=http$"
)


def router_lines(platform: Platform) -> list[str]:
    """Return ``paas logs --source router`` of the app."""
    shown = platform.paas("logs", "-a", APP, "--source", "router", "-n", "1500")
    return shown.stdout.splitlines()


def test_request_gets_router_line(platform: Platform, app: str) -> None:
    request_id = "logged-" + uuid.uuid4().hex
    get(platform, "/echo/logged", {"X-Request-Id": request_id})

    def found() -> list[str]:
        return [line for line in router_lines(platform) if request_id in line]

    wait_for(found, timeout=10)
    match = INFO_LINE.match(found()[0])
    assert match is not None and match.group(1) == request_id


def test_failed_request_gets_error_line(platform: Platform, app: str) -> None:
    request_id = "closed-" + uuid.uuid4().hex
    get(platform, "/close", {"X-Request-Id": request_id})

    def found() -> list[str]:
        return [line for line in router_lines(platform) if request_id in line]

    wait_for(found, timeout=10)
    match = ERROR_LINE.match(found()[0])
    assert match is not None and match.group(1) == request_id


def test_router_source_holds_only_router_lines(platform: Platform, app: str) -> None:
    lines = [line for line in router_lines(platform) if line.strip()]
    assert lines and all(" paas[router]: " in line for line in lines)


# (5) domains


def test_domains_show_the_default_domain(platform: Platform, app: str) -> None:
    shown = platform.paas("domains", "-a", APP)
    listed = json.loads(platform.paas("domains", "-a", APP, "--json").stdout)
    assert shown.stdout.splitlines()[:3] == [f"=== {APP} Default Domain", "", HOST]
    assert {"hostname": HOST, "app": APP, "kind": "default"} in listed


def test_added_domain_routes_to_app(platform: Platform, app: str) -> None:
    host = "www.router-added.test"
    added = platform.paas("domains:add", host, "-a", APP)
    assert added.code == 0, added.output
    url = f"http://127.0.0.1:{platform.router_port}/echo"
    wait_for(lambda: httpx.get(url, headers={"Host": host}).status_code == 200, 10)
    shown = platform.paas("domains", "-a", APP).stdout
    assert f"{host}  CNAME            {HOST}" in shown


def test_removed_domain_gets_404(platform: Platform, app: str) -> None:
    host = "www.router-removed.test"
    assert platform.paas("domains:add", host, "-a", APP).code == 0
    removed = platform.paas("domains:remove", host, "-a", APP)
    assert removed.code == 0, removed.output
    url = f"http://127.0.0.1:{platform.router_port}/echo"
    wait_for(lambda: httpx.get(url, headers={"Host": host}).status_code == 404, 10)


def test_domain_of_another_app_is_refused(
    platform: Platform, app: str, noweb: str
) -> None:
    host = "www.router-claimed.test"
    assert platform.paas("domains:add", host, "-a", APP).code == 0
    refused = platform.paas("domains:add", host, "-a", noweb)
    message = f"Error: Domain '{host}' is already used by app '{APP}'"
    assert (refused.code, message in refused.stderr) == (1, True)


def test_bad_hostname_is_refused(platform: Platform, app: str) -> None:
    refused = platform.paas("domains:add", "http://bad_host/", "-a", APP)
    message = "Error: Domain 'http://bad_host/' is not a valid host name"
    assert (refused.code, message in refused.stderr) == (1, True)


# (6) per-dyno counts


def test_router_stats_count_requests(platform: Platform, app: str) -> None:
    def count() -> int:
        shown = platform.paas("router:stats", "-a", APP, "--json")
        dynos = json.loads(shown.stdout)["dynos"]
        return int(dynos.get("web.1", {}).get("requests", 0))

    before = count()
    for _ in range(5):
        platform.get(APP, "/echo/counted")
    wait_for(lambda: count() >= before + 5, timeout=10)
