"""A build that runs past PAAS_BUILD_TIMEOUT is stopped with a clear message."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paas.build_env import BuildSettings
from paas.builder import BuildDeadline, Builder
from paas.errors import BuildFailed

MESSAGE = (
    "The build took longer than 0.2 s and was stopped (PAAS_BUILD_TIMEOUT); "
    "nothing was released. Make the build faster, or ask the operator to "
    "raise the timeout."
)


class SlowEngine:
    """A Docker API stand-in whose build step hangs until its container dies."""

    def __init__(self) -> None:
        self.api = self
        self.killed: list[str] = []

    def build(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield {"stream": "Step 1/2 : RUN sleep 1000\n"}
        yield {"stream": " ---> Running in 0123abcd\n"}
        while not self.killed:
            time.sleep(0.02)
        yield {"error": "The command returned a non-zero code: 137"}

    def kill(self, container: str) -> None:
        self.killed.append(container)


def source(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "Procfile").write_text("web: python app.py\n")
    return tmp_path


def test_build_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    engine = SlowEngine()
    builder = Builder(engine, "t", "stack", BuildSettings(timeout=0.2))
    with pytest.raises(BuildFailed) as caught:
        builder.build("shop", "b1", source(tmp_path), lambda line: None)
    assert (caught.value.message, engine.killed) == (MESSAGE, ["0123abcd"])


def test_deadline_kills_a_step_that_starts_late() -> None:
    engine = SlowEngine()
    with BuildDeadline(engine, 0.01) as deadline:  # type: ignore[arg-type]
        time.sleep(0.1)
        deadline.watch("late")
    assert engine.killed == ["late"]


def test_deadline_in_time_does_nothing() -> None:
    engine = SlowEngine()
    with BuildDeadline(engine, 5) as deadline:  # type: ignore[arg-type]
        deadline.watch("quick")
        deadline.check()
    assert engine.killed == []
