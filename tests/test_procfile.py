"""Procfiles are read by Heroku's rules."""

from __future__ import annotations

import pytest

from paas.errors import InvalidInput
from paas.procfile import parse_procfile


def test_declarations_become_process_types() -> None:
    text = "web: gunicorn app:app\nworker: python worker.py\n"
    assert parse_procfile(text) == {
        "web": "gunicorn app:app",
        "worker": "python worker.py",
    }


def test_comments_and_blank_lines_are_skipped() -> None:
    text = "# processes\n\nweb: python app.py\n   \n  # worker: off\n"
    assert parse_procfile(text) == {"web": "python app.py"}


def test_crlf_line_ends_are_accepted() -> None:
    text = "web: python app.py\r\nworker: python w.py\r\n"
    assert parse_procfile(text) == {"web": "python app.py", "worker": "python w.py"}


def test_leading_and_trailing_spaces_are_dropped() -> None:
    assert parse_procfile("   web  :   python app.py   \n") == {"web": "python app.py"}


@pytest.mark.parametrize(
    ("line", "process_type"),
    [
        ("my_worker: run", "my-worker"),
        ("Web: run", "web"),
        ("clock-2: run", "clock-2"),
    ],
    ids=["underscore-to-dash", "lowercased", "dash-and-digit-kept"],
)
def test_process_type_names_are_normalised(line: str, process_type: str) -> None:
    assert parse_procfile(line) == {process_type: "run"}


def test_command_keeps_its_colons_and_quotes() -> None:
    text = "web: sh -c 'echo a:b && exec app --bind=0.0.0.0:$PORT'"
    expected = "sh -c 'echo a:b && exec app --bind=0.0.0.0:$PORT'"
    assert parse_procfile(text) == {"web": expected}


def test_empty_procfile_declares_nothing() -> None:
    assert parse_procfile("\n# nothing yet\n") == {}


def test_merge_conflict_marker_is_rejected_with_line_number() -> None:
    text = "web: python app.py\n<<<<<<< HEAD\nworker: a\n=======\nworker: b\n"
    message = (
        "Procfile line 2 is not 'type: command': '<<<<<<< HEAD'. "
        "Fix or remove the line and push again."
    )
    with pytest.raises(InvalidInput) as caught:
        parse_procfile(text)
    assert caught.value.message == message


@pytest.mark.parametrize(
    "line",
    ["web:", "web python app.py", "we b: run", ": run", "=======", ">>>>>>> main"],
    ids=["no-command", "no-colon", "space-in-type", "no-type", "divider", "ours"],
)
def test_line_that_is_not_a_declaration_is_rejected(line: str) -> None:
    with pytest.raises(InvalidInput, match=r"^Procfile line 1 is not 'type: command'"):
        parse_procfile(line)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "web: node app.js\nweb: node other.js\n",
            "Procfile line 2 declares 'web' again (first on line 1). Keep one "
            "line per process type and push again.",
        ),
        (
            "Worker: a\n\n# c\nworker: b\n",
            "Procfile line 4 declares 'worker' again (first on line 1). Keep one "
            "line per process type and push again.",
        ),
    ],
)
def test_process_type_declared_twice_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_procfile(text)
    assert refused.value.message == message
