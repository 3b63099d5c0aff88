"""Unit tests of paas.yaml: the replace policy of process types."""

from __future__ import annotations

from typing import Any

import pytest

from paas.errors import InvalidInput
from paas.healthcheck import parse_start_first


@pytest.mark.parametrize(
    ("processes", "chosen"),
    [
        (None, []),
        ({}, []),
        ({"worker": None}, []),
        ({"worker": {"replace": "stop-first"}}, []),
        ({"clock": {"replace": "start-first"}, "worker": {}}, ["clock"]),
        (
            {"b": {"replace": "start-first"}, "a": {"replace": "start-first"}},
            ["a", "b"],
        ),
    ],
)
def test_start_first_types_are_read_from_processes(
    processes: Any, chosen: list[str]
) -> None:
    assert parse_start_first(processes) == chosen


@pytest.mark.parametrize(
    ("processes", "message"),
    [
        (["worker"], "processes in paas.yaml must be a mapping."),
        (
            {"worker": "start-first"},
            "processes.worker in paas.yaml must be a mapping such as "
            "{replace: start-first}.",
        ),
        (
            {"worker": {"replace": "blue-green"}},
            "processes.worker.replace in paas.yaml is 'blue-green': "
            "use start-first or stop-first.",
        ),
    ],
)
def test_malformed_processes_are_refused_by_name(processes: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_start_first(processes)
    assert refused.value.message == message
