"""The CLI parses its arguments, formats output and explains API failures."""

from __future__ import annotations

import socket
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from paas import __version__
from paas.cli import main as main_cli
from paas.cli import output
from paas.cli.client import Client, CliError, load_credentials, save_credentials
from paas.cli.main import cli
from paas.cli.output import ps_lines, table, when
from paas.cli.releases import parse_assignments, parse_version

NOON = datetime(2026, 12, 4, 11, 20, 0, tzinfo=UTC).timestamp()
STAMP = "2026/12/04 11:20:00 +0000"


@pytest.fixture(autouse=True)
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the CLI away from the user's credentials and token file."""
    monkeypatch.setenv("PAAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PAAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PAAS_URL", raising=False)
    monkeypatch.delenv("PAAS_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)


class Clock:
    """Stands in for ``time`` in ``paas.cli.output``."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="paas")


# arguments


@pytest.mark.parametrize(
    ("pairs", "changes"),
    [
        (("FOO=bar",), {"FOO": "bar"}),
        (("FOO=a=b",), {"FOO": "a=b"}),
        (("FOO=",), {"FOO": ""}),
        (("FOO= spaced ",), {"FOO": " spaced "}),
        (("A=1", "B=2"), {"A": "1", "B": "2"}),
    ],
    ids=["simple", "equals-in-value", "empty-value", "spaces-kept", "two"],
)
def test_assignments_are_parsed(
    pairs: tuple[str, ...], changes: dict[str, str]
) -> None:
    assert parse_assignments(pairs) == changes


@pytest.mark.parametrize("pair", ["WRONG", "=bar"], ids=["no-equals", "no-key"])
def test_assignment_without_key_and_equals_is_refused(pair: str) -> None:
    message = rf"^'{pair}' is invalid\. Must be in the format FOO=bar\.$"
    with pytest.raises(CliError, match=message):
        parse_assignments((pair,))


@pytest.mark.parametrize(
    ("text", "version"), [("v12", 12), ("12", 12), ("v1", 1)], ids=["v", "bare", "one"]
)
def test_release_version_is_parsed(text: str, version: int) -> None:
    assert parse_version(text) == version


@pytest.mark.parametrize(
    "text",
    ["vX", "", "v", "v-1", "1.0", "v²"],
    ids=["word", "empty", "v-only", "negative", "dotted", "superscript"],
)
def test_bad_release_version_is_refused(text: str) -> None:
    message = f"{text!r} is not a release. Use a version such as v3."
    with pytest.raises(CliError) as caught:
        parse_version(text)
    assert caught.value.message == message


# output


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (0, f"{STAMP} (~ 0s ago)"),
        (5, f"{STAMP} (~ 5s ago)"),
        (59, f"{STAMP} (~ 59s ago)"),
        (60, f"{STAMP} (~ 1m ago)"),
        (3599, f"{STAMP} (~ 59m ago)"),
        (3600, f"{STAMP} (~ 1h ago)"),
        (25 * 3600 - 1, f"{STAMP} (~ 24h ago)"),
        (25 * 3600, STAMP),
        (-30, f"{STAMP} (~ 0s ago)"),
    ],
    ids=["now", "5s", "59s", "1m", "59m", "1h", "24h", "day-old", "future"],
)
def test_when_shows_time_and_rough_age(age: int, text: str) -> None:
    assert when(NOON, now=NOON + age) == text


def test_when_of_nothing_is_a_dash() -> None:
    assert when(None) == "-"


def test_table_aligns_columns_with_two_spaces() -> None:
    rows = [
        ["v10", "Deploy abc1234", "git push"],
        ["v9", "Set FOO config vars", "paas"],
    ]
    assert table(rows).splitlines() == [
        "v10  Deploy abc1234       git push",
        "v9   Set FOO config vars  paas",
    ]


def test_table_drops_trailing_spaces() -> None:
    assert table([["Domains:", ""], ["Release:", "v3"]]) == "Domains:\nRelease:  v3"


def test_empty_table_is_empty() -> None:
    assert table([]) == ""


def dyno(name: str, **fields: Any) -> dict[str, Any]:
    base = {
        "name": name,
        "type": name.split(".")[0],
        "state": "up",
        "command": "python app.py",
        "size": "standard-1x",
        "updated_at": NOON,
        "restarts": 0,
        "exit_code": None,
        "one_off": False,
    }
    return base | fields


@pytest.fixture
def at_noon_plus_5s(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI's output believe it is 5 s past NOON."""
    monkeypatch.setattr(output, "time", Clock(NOON + 5))


@pytest.mark.usefixtures("at_noon_plus_5s")
def test_ps_groups_dynos_by_type_size_and_command() -> None:
    lines = ps_lines([dyno("web.1"), dyno("web.2")])
    assert lines == [
        "=== web (standard-1x): python app.py (2)",
        "",
        f"web.1: up {STAMP} (~ 5s ago)",
        f"web.2: up {STAMP} (~ 5s ago)",
        "",
    ]


@pytest.mark.usefixtures("at_noon_plus_5s")
def test_ps_shows_restarts_and_last_exit_of_crashed_dyno() -> None:
    lines = ps_lines([dyno("worker.1", state="crashed", restarts=2, exit_code=1)])
    assert lines[2] == (
        f"worker.1: crashed {STAMP} (~ 5s ago) (restarts: 2, last exit: 1)"
    )


@pytest.mark.usefixtures("at_noon_plus_5s")
def test_ps_lists_one_off_dynos_first() -> None:
    one_off = dyno("run.4821", type="run", command="bash", one_off=True)
    lines = ps_lines([dyno("web.1"), one_off])
    assert lines[:4] == [
        "=== run: one-off processes (1)",
        "",
        f"run.4821 (standard-1x): up {STAMP} (~ 5s ago): bash",
        "",
    ]


@pytest.mark.usefixtures("at_noon_plus_5s")
def test_ps_splits_groups_by_size() -> None:
    lines = ps_lines([dyno("web.1"), dyno("web.2", size="standard-2x")])
    headers = [line for line in lines if line.startswith("===")]
    assert headers == [
        "=== web (standard-1x): python app.py (1)",
        "=== web (standard-2x): python app.py (1)",
    ]


# the API client


def client_answering(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> Client:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers or {})

    return Client(transport=httpx.MockTransport(answer))


def test_server_of_another_api_version_is_refused() -> None:
    client = client_answering(200, [], {"X-Paas-Api-Version": "2"})
    message = (
        "The server speaks API v2 but this CLI speaks v1. "
        "Install the paas CLI that matches the server."
    )
    with pytest.raises(CliError) as caught:
        client.request("GET", "/v1/apps")
    assert caught.value.message == message


def test_server_that_is_not_paas_is_refused() -> None:
    client = client_answering(404, {"detail": "Not Found"})
    message = (
        r"^http://127\.0\.0\.1:7070 did not answer as a paas API \(HTTP 404\)\. "
        r"Check PAAS_URL\.$"
    )
    with pytest.raises(CliError, match=message):
        client.request("GET", "/v1/apps")


def test_api_error_message_is_shown_as_is() -> None:
    body = {"id": "AppNotFound", "error": "No app named 'shop'."}
    client = client_answering(404, body, {"X-Paas-Api-Version": "1"})
    with pytest.raises(CliError, match=r"^No app named 'shop'\.$"):
        client.request("GET", "/v1/apps/shop")


def test_answer_is_returned_as_json() -> None:
    client = client_answering(200, [{"name": "shop"}], {"X-Paas-Api-Version": "1"})
    assert client.request("GET", "/v1/apps") == [{"name": "shop"}]


def recording_client(seen: list[httpx.Request]) -> Client:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={}, headers={"X-Paas-Api-Version": "1"})

    return Client(transport=httpx.MockTransport(answer))


def test_token_from_the_environment_is_sent_as_bearer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAAS_TOKEN", "s3cret")
    seen: list[httpx.Request] = []
    recording_client(seen).request("GET", "/v1/version")
    headers = seen[0].headers
    assert (headers["authorization"], headers["accept"]) == (
        "Bearer s3cret",
        "application/vnd.paas+json; version=1",
    )


def test_local_token_file_is_used_without_login(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "token").write_text("local-token\n")
    assert load_credentials() == ("http://127.0.0.1:7070", "local-token")


def test_login_credentials_are_kept_private(tmp_path: Path) -> None:
    path = save_credentials("http://10.0.0.5:7070", "tok")
    mode = stat.S_IMODE(path.stat().st_mode)
    assert (load_credentials(), mode) == (("http://10.0.0.5:7070", "tok"), 0o600)


# commands


def test_config_set_with_a_bad_pair_exits_1(tmp_path: Path) -> None:
    result = run("config:set", "WRONG", "-a", "shop")
    assert (result.exit_code, result.stdout) == (1, "")
    assert (
        result.stderr == "Error: 'WRONG' is invalid. Must be in the format FOO=bar.\n"
    )


def test_command_without_an_app_says_how_to_name_one() -> None:
    result = run("releases")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: No app given. Use -a APP, or run inside a repo with a 'paas' "
        "git remote ('paas git:remote -a APP' adds one).\n",
    )


def test_destroy_without_confirm_explains_how() -> None:
    result = run("apps:destroy", "shop")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: This destroys 'shop' and everything it has. To proceed, run "
        "'paas apps:destroy shop --confirm shop'.\n",
    )


def test_unknown_command_is_a_usage_error() -> None:
    assert run("deploy").exit_code == 2


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_api_says_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("PAAS_URL", url)
    result = run("apps")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: Could not reach the paas API at {url} (")
    assert result.stderr.endswith(
        "Is 'paas serve' running? Set PAAS_URL or run 'paas login'.\n"
    )


def test_version_of_another_api_prints_both_and_warns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"api_version": 2, "version": "9.9.9"}
        return httpx.Response(200, json=body, headers={"X-Paas-Api-Version": "2"})

    transport = httpx.MockTransport(answer)
    monkeypatch.setattr(main_cli, "Client", lambda: Client(transport=transport))
    result = run("version")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"paas CLI {__version__} (API v1)\npaas server 9.9.9 (API v2)\n",
        "Warning: The server speaks API v2 but this CLI speaks v1. "
        "Install the paas CLI that matches the server.\n",
    )
