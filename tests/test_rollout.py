"""Rolling out: why a failed release failed, and what the pusher is shown."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from paas.errors import DeployFailed
from paas.platform import Platform
from paas.rollout import mark_up, roll_out
from paas.scheduler.base import Dyno, DynoSpec
from paas.scheduler.fake import FakeBackend
from paas.store import Release
from tests.conftest import Deploy


class CrashingWeb(FakeBackend):
    """Web dynos exit with ``web_exit`` as soon as they start, when it is set."""

    web_exit: int | None = None

    def start_dyno(self, spec: DynoSpec) -> Dyno:
        dyno = super().start_dyno(spec)
        if spec.process_type == "web" and self.web_exit is not None:
            self.crash(dyno.id, self.web_exit)
        return dyno


@pytest.fixture
def backend() -> Iterator[CrashingWeb]:
    fake = CrashingWeb()
    yield fake
    fake.close()


def new_release(platform: Platform, process_types: dict[str, str]) -> Release:
    return platform.store.create_release(
        "shop",
        description="Deploy c0ffee9",
        image="paas/shop:build9",
        commit="c0ffee9",
        build_id="build9",
        config_vars={},
        process_types=process_types,
        created_by="git push",
    )


def push(platform: Platform, release: Release) -> list[str]:
    shown: list[str] = []
    with pytest.raises(DeployFailed):
        roll_out(platform, release, shown.append)
    return shown


def test_web_crash_at_boot_names_the_reason(
    platform: Platform, deploy: Deploy, backend: CrashingWeb
) -> None:
    deploy("shop")
    backend.web_exit = 3
    release = new_release(platform, {"web": "python app.py"})
    push(platform, release)
    failed = platform.store.get_release("shop", release.version)
    assert (failed.status, failed.failure) == ("failed", "web dynos failed to boot")


def test_failed_release_command_names_the_reason(
    platform: Platform, deploy: Deploy, backend: CrashingWeb
) -> None:
    deploy("shop")
    backend.exit_codes["release"] = 4
    release = new_release(platform, {"web": "app", "release": "migrate"})
    push(platform, release)
    failed = platform.store.get_release("shop", release.version)
    assert failed.failure == "release command failed"


def test_push_shows_the_last_output_of_a_crashed_dyno(
    platform: Platform, deploy: Deploy, backend: CrashingWeb
) -> None:
    deploy("shop")
    backend.web_exit = 3
    backend.say("web.1", "Traceback (most recent call last):", "ValueError: boom")
    shown = push(platform, new_release(platform, {"web": "python app.py"}))
    # The old web.1 printed the same lines earlier: they are not shown twice.
    assert shown[-3:] == [
        "       Last output of web.1:",
        "       Traceback (most recent call last):",
        "       ValueError: boom",
    ]


def test_crashed_dyno_output_stays_under_its_own_name(
    platform: Platform, deploy: Deploy, backend: CrashingWeb
) -> None:
    deploy("shop")
    backend.web_exit = 3
    backend.say("web.1", "ValueError: boom")
    push(platform, new_release(platform, {"web": "python app.py"}))
    lines = platform.logs.tail("shop", 1500)
    assert {(x.source, x.process) for x in lines if "boom" in x.message} == {
        ("app", "web.1")
    }


def test_dyno_up_before_the_platform_started_is_routed_quietly(
    platform: Platform, deploy: Deploy, backend: CrashingWeb
) -> None:
    deploy("shop")
    dyno = backend.dyno_named("shop", "web.1")
    dyno.started_at = platform.started_at - 60
    platform.routable.clear()
    before = platform.logs.tail("shop", 1500)
    mark_up(platform, dyno)
    assert (platform.logs.tail("shop", 1500), platform.routable) == (before, {dyno.id})


def test_quick_release_command_output_reaches_the_push(
    platform: Platform,
    deploy: Deploy,
    backend: CrashingWeb,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deploy("shop")
    follow = backend.follow_logs

    def slow_to_open(dyno_id: str, since: float | None) -> Iterator[str]:
        # The engine's log stream can take a moment to open.
        time.sleep(0.2)
        yield from follow(dyno_id, since)

    monkeypatch.setattr(backend, "follow_logs", slow_to_open)
    backend.exit_codes["release"] = 0
    backend.say("release.2", "release phase says hello", "migrations done")
    shown: list[str] = []
    release = new_release(platform, {"web": "app", "release": "migrate"})
    roll_out(platform, release, shown.append)
    start = shown.index("-----> Running release command...")
    assert shown[start + 1 : start + 3] == [
        "       release phase says hello",
        "       migrations done",
    ]
