"""The git credential helper: the token for git, or a clear word why not."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from paas.cli.main import cli


@pytest.fixture(autouse=True)
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PAAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PAAS_TOKEN", raising=False)


def credentials(operation: str) -> tuple[str, str]:
    done = CliRunner().invoke(
        cli,
        ["git:credentials", operation],
        input="protocol=http\nhost=127.0.0.1:7070\n\n",
        prog_name="paas",
    )
    assert done.exit_code == 0
    return done.stdout, done.stderr


def test_token_is_handed_to_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAAS_TOKEN", "s3cret")
    assert credentials("get") == ("username=paas\npassword=s3cret\n", "")


def test_missing_token_stops_git_with_a_reason() -> None:
    assert credentials("get") == (
        "quit=1\n",
        "paas: no API token for git. Run 'paas login --url URL', or set "
        "PAAS_TOKEN (on the platform's machine, PAAS_HOME holds it).\n",
    )


@pytest.mark.parametrize("operation", ["store", "erase"])
def test_other_operations_do_nothing(operation: str) -> None:
    assert credentials(operation) == ("", "")
