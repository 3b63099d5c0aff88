"""The log store keeps each app's last lines, on disk too, and filters them."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paas.logs import KEEP_LINES, MAX_LINE, LogLine, LogSocketListener, LogStore


@pytest.fixture
def logs(tmp_path: Path) -> LogStore:
    """An empty log store in a temporary dir."""
    return LogStore(tmp_path / "logs")


def messages(lines: list[LogLine]) -> list[str]:
    return [line.message for line in lines]


def fill(logs: LogStore) -> None:
    logs.append("shop", "app", "web.1", "GET /")
    logs.append("shop", "app", "web.2", "GET /cart")
    logs.append("shop", "app", "worker.1", "job done")
    logs.append("shop", "paas", "api", "Scaled to web=2")
    logs.append("shop", "paas", "router", "method=GET path=/ status=200")


def test_tail_returns_the_last_lines_in_order(logs: LogStore) -> None:
    for number in range(5):
        logs.append("shop", "app", "web.1", f"line {number}")
    assert messages(logs.tail("shop", 2)) == ["line 3", "line 4"]


def test_tail_of_zero_lines_is_empty(logs: LogStore) -> None:
    logs.append("shop", "app", "web.1", "hello")
    assert logs.tail("shop", 0) == []


def test_apps_have_separate_logs(logs: LogStore) -> None:
    logs.append("shop", "app", "web.1", "shop line")
    logs.append("blog", "app", "web.1", "blog line")
    assert messages(logs.tail("blog")) == ["blog line"]


@pytest.mark.parametrize(
    ("dyno", "source", "expected"),
    [
        ("web.1", None, ["GET /"]),
        ("web", None, ["GET /", "GET /cart"]),
        (None, "app", ["GET /", "GET /cart", "job done"]),
        (None, "paas", ["Scaled to web=2", "method=GET path=/ status=200"]),
        (None, "router", ["method=GET path=/ status=200"]),
        ("web", "paas", []),
    ],
    ids=["one-dyno", "process-type", "app-source", "paas-source", "router", "both"],
)
def test_tail_filters_by_dyno_and_source(
    logs: LogStore, dyno: str | None, source: str | None, expected: list[str]
) -> None:
    fill(logs)
    assert messages(logs.tail("shop", dyno=dyno, source=source)) == expected


def test_only_the_last_1500_lines_are_kept(logs: LogStore) -> None:
    for number in range(KEEP_LINES + 100):
        logs.append("shop", "app", "web.1", f"line {number}")
    kept = logs.tail("shop", 5000)
    assert (len(kept), kept[0].message) == (1500, "line 100")


def test_lines_survive_a_new_store(tmp_path: Path) -> None:
    LogStore(tmp_path).append("shop", "app", "web.1", "before restart")
    line = LogStore(tmp_path).tail("shop")[0]
    assert (line.source, line.process, line.message) == (
        "app",
        "web.1",
        "before restart",
    )


def test_reloaded_log_keeps_only_the_last_1500_lines(tmp_path: Path) -> None:
    first = LogStore(tmp_path)
    for number in range(2 * KEEP_LINES + 10):
        first.append("shop", "app", "web.1", f"line {number}")
    kept = LogStore(tmp_path).tail("shop", 5000)
    assert (len(kept), kept[-1].message) == (1500, f"line {2 * KEEP_LINES + 9}")


def test_log_file_is_trimmed_past_twice_the_limit(tmp_path: Path) -> None:
    logs = LogStore(tmp_path)
    for number in range(2 * KEEP_LINES + 1):
        logs.append("shop", "app", "web.1", f"line {number}")
    assert len((tmp_path / "shop.log").read_text().splitlines()) == KEEP_LINES


def test_multi_line_message_becomes_several_lines(logs: LogStore) -> None:
    logs.append("shop", "app", "web.1", "Traceback:\r\n  File x\n  boom\n")
    assert messages(logs.tail("shop")) == ["Traceback:", "  File x", "  boom"]


def test_long_line_is_split_at_the_limit(logs: LogStore) -> None:
    logs.append("shop", "app", "web.1", "x" * (2 * MAX_LINE + 5))
    lengths = [len(message) for message in messages(logs.tail("shop"))]
    assert lengths == [MAX_LINE, MAX_LINE, 5]


def test_empty_message_is_one_empty_line(logs: LogStore) -> None:
    logs.append("shop", "app", "web.1", "")
    assert messages(logs.tail("shop")) == [""]


@pytest.mark.parametrize(
    "message",
    ["tab\there", "50%\r100%", "unicode ünï ✓", "form\x0cfeed", "line\u2028sep"],
    ids=["tab", "carriage-return", "unicode", "form-feed", "line-separator"],
)
def test_message_survives_a_new_store_unchanged(tmp_path: Path, message: str) -> None:
    LogStore(tmp_path).append("shop", "app", "web.1", message)
    assert messages(LogStore(tmp_path).tail("shop")) == [message]


def test_forgotten_app_log_is_gone_from_disk(tmp_path: Path) -> None:
    logs = LogStore(tmp_path)
    logs.append("shop", "app", "web.1", "hello")
    logs.forget("shop")
    assert (LogStore(tmp_path).tail("shop"), list(tmp_path.iterdir())) == ([], [])


def test_line_format_is_heroku_shape() -> None:
    moment = datetime(2026, 12, 4, 11, 20, 0, 123456, UTC).timestamp()
    line = LogLine(moment, "app", "web.1", "GET /")
    assert line.format() == "2026-12-04T11:20:00.123456+00:00 app[web.1]: GET /"


def test_follower_gets_new_matching_lines(logs: LogStore) -> None:
    async def follow() -> list[str]:
        stream = logs.follow("shop", dyno="web")
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)
        logs.append("shop", "app", "worker.1", "not this")
        logs.append("shop", "app", "web.1", "this")
        line = await asyncio.wait_for(waiting, 2)
        await stream.aclose()
        return [line.message]

    assert asyncio.run(follow()) == ["this"]


def test_router_datagrams_become_paas_lines(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    listener = LogSocketListener(tmp_path / "logs.sock", logs)
    listener.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            record = b"shop\trouter\tmethod=GET status=200\nbad record\n"
            sender.sendto(record, str(tmp_path / "logs.sock"))
        deadline = time.monotonic() + 2
        while not logs.tail("shop") and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        listener.close()
    line = logs.tail("shop")[0]
    assert (line.source, line.process, line.message) == (
        "paas",
        "router",
        "method=GET status=200",
    )
