"""The reconciler makes the dynos match each app's formation and release."""

from __future__ import annotations

import logging
import time

import pytest

from paas import reconciler as reconciler_module
from paas.formation import run_one_off
from paas.platform import Platform
from paas.reconciler import BACKOFF_CAP, STABLE_RUN, Reconciler, backoff
from paas.scheduler.base import DynoSpec
from paas.scheduler.fake import FakeBackend
from paas.store import FormationEntry
from tests.conftest import Deploy


class Clock:
    """Stands in for ``time`` in the reconciler, with a ``now`` tests move."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock the reconciler reads instead of the real one."""
    fake = Clock()
    monkeypatch.setattr(reconciler_module, "time", fake)
    return fake


def crash_worker(backend: FakeBackend, reconciler: Reconciler) -> None:
    """Make worker.1 exit with status 1, and let the reconciler see it."""
    backend.crash(backend.dyno_named("shop", "worker.1").id, 1)
    reconciler.reconcile_all()


def running(backend: FakeBackend, app: str = "shop") -> list[tuple[str, int]]:
    dynos = backend.list_dynos(app)
    return sorted((d.name, d.release) for d in dynos if d.running)


def with_workers(platform: Platform, deploy: Deploy, quantity: int) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    entries = [
        FormationEntry("web", 0, "basic"),
        FormationEntry("worker", quantity, "basic"),
    ]
    platform.store.set_formation("shop", entries)


@pytest.mark.parametrize(
    ("restarts", "wait"),
    [(0, 0.0), (1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0), (7, 300.0), (50, 300.0)],
    ids=["first", "second", "third", "fourth", "seventh", "capped", "far-capped"],
)
def test_backoff_doubles_up_to_the_cap(restarts: int, wait: float) -> None:
    assert backoff(restarts) == wait


def test_backoff_cap_is_five_minutes() -> None:
    assert BACKOFF_CAP == 300.0


def test_missing_dynos_are_started(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    with_workers(platform, deploy, 2)
    backend.stop_dyno(backend.dyno_named("shop", "web.1").id, timeout=1)
    reconciler.reconcile_all()
    assert running(backend) == [("worker.1", 1), ("worker.2", 1)]


def test_crashed_dyno_is_restarted_at_once_the_first_time(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    with_workers(platform, deploy, 1)
    reconciler.reconcile_all()
    crash_worker(backend, reconciler)
    assert running(backend) == [("worker.1", 1)]
    assert reconciler.crashes[("shop", "worker.1")].restarts == 1


def test_second_crash_waits_for_the_backoff(
    platform: Platform,
    reconciler: Reconciler,
    deploy: Deploy,
    backend: FakeBackend,
    clock: Clock,
) -> None:
    with_workers(platform, deploy, 1)
    reconciler.reconcile_all()
    for _ in range(2):
        crash_worker(backend, reconciler)
    assert running(backend) == []
    clock.now += 4.9
    reconciler.reconcile_all()
    assert running(backend) == []


def test_crashed_dyno_is_restarted_after_the_backoff(
    platform: Platform,
    reconciler: Reconciler,
    deploy: Deploy,
    backend: FakeBackend,
    clock: Clock,
) -> None:
    with_workers(platform, deploy, 1)
    reconciler.reconcile_all()
    for _ in range(2):
        crash_worker(backend, reconciler)
    clock.now += 5.0
    reconciler.reconcile_all()
    assert running(backend) == [("worker.1", 1)]
    assert reconciler.crashes[("shop", "worker.1")].restarts == 2


def test_crash_after_a_long_healthy_run_restarts_at_once(
    platform: Platform,
    reconciler: Reconciler,
    deploy: Deploy,
    backend: FakeBackend,
    clock: Clock,
) -> None:
    with_workers(platform, deploy, 1)
    reconciler.reconcile_all()
    for _ in range(3):
        crash_worker(backend, reconciler)
        clock.now += 60
        reconciler.reconcile_all()
    healthy = backend.dyno_named("shop", "worker.1").id
    backend.age(healthy, STABLE_RUN)
    backend.crash(healthy, 1)
    reconciler.reconcile_all()
    assert running(backend) == [("worker.1", 1)]
    assert reconciler.crashes[("shop", "worker.1")].restarts == 4


def test_crash_is_told_in_the_app_log(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    with_workers(platform, deploy, 1)
    reconciler.reconcile_all()
    backend.crash(backend.dyno_named("shop", "worker.1").id, 137, oom=True)
    reconciler.reconcile_all()
    lines = platform.logs.tail("shop", dyno="worker.1", source="paas")
    assert [line.message for line in lines][-5:-1] == [
        "Error R15 (Memory quota vastly exceeded): killed",
        "Process exited with status 137",
        "State changed from up to crashed",
        "Restarting",
    ]


def test_dynos_of_deleted_apps_are_removed(
    platform: Platform,
    reconciler: Reconciler,
    backend: FakeBackend,
    caplog: pytest.LogCaptureFixture,
) -> None:
    platform.create_app("shop")
    spec = DynoSpec("gone", 3, "web", "web.1", "paas/gone:b1", "app", {})
    backend.start_dyno(spec)
    caplog.set_level(logging.INFO, logger="paas.reconciler")
    reconciler.reconcile_all()
    assert (backend.list_dynos(), backend.stopped) == ([], ["web.1"])
    assert caplog.messages == ["Removing orphaned dyno web.1 of gone"]


def test_dynos_beyond_the_formation_stop_highest_first(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    with_workers(platform, deploy, 3)
    reconciler.reconcile_all()
    platform.store.set_formation("shop", [FormationEntry("worker", 1, "basic")])
    reconciler.reconcile_all()
    assert running(backend) == [("worker.1", 1)]
    assert backend.stopped[-2:] == ["worker.3", "worker.2"]


def test_dynos_of_an_older_release_are_replaced(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    with_workers(platform, deploy, 1)
    reconciler.reconcile_all()
    release = platform.store.get_release("shop", 1)
    platform.store.create_release(
        "shop",
        description="Deploy c0ffee2",
        image="paas/shop:build2",
        commit="c0ffee2",
        build_id="build2",
        config_vars={},
        process_types=release.process_types,
        status="succeeded",
    )
    reconciler.reconcile_all()
    assert running(backend) == [("worker.1", 2)]


def test_extra_dyno_of_one_name_is_stopped(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    with_workers(platform, deploy, 1)
    reconciler.reconcile_all()
    spec = backend.specs[backend.dyno_named("shop", "worker.1").id]
    backend.start_dyno(spec)
    reconciler.reconcile_all()
    assert running(backend) == [("worker.1", 1)]


def test_app_being_changed_is_left_alone(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    with_workers(platform, deploy, 1)
    before = running(backend)
    with platform.changing("shop", "a test"):
        reconciler.reconcile_all()
    assert running(backend) == before == [("web.1", 1)]


def test_web_dyno_that_answers_is_made_routable(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    platform.routable.clear()
    reconciler.reconcile_all()
    assert platform.routable == {backend.dyno_named("shop", "web.1").id}


def test_web_dyno_that_does_not_answer_stays_unroutable(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    platform.routable.clear()
    backend.bind_web = False
    backend.stop_dyno(backend.dyno_named("shop", "web.1").id, timeout=1)
    reconciler.reconcile_all()
    assert (running(backend), platform.routable) == ([("web.1", 1)], set())


def test_exited_detached_one_off_is_removed(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    dyno = run_one_off(platform, "shop", "python task.py", None, detach=True)
    backend.crash(dyno.id, 0)
    reconciler.reconcile_all()
    assert backend.get_dyno(dyno.id) is None


def test_exited_attached_one_off_is_kept_for_its_client(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    dyno = run_one_off(platform, "shop", "python task.py", None, detach=False)
    backend.crash(dyno.id, 0)
    reconciler.reconcile_all()
    assert backend.get_dyno(dyno.id) is not None


def test_dynos_of_an_app_being_changed_are_left_alone(
    platform: Platform, reconciler: Reconciler, backend: FakeBackend
) -> None:
    # A destroy holds the app's lock while it removes the dynos itself; the
    # reconciler removing them too made the engine answer 409.
    spec = DynoSpec("gone", 3, "web", "web.1", "paas/gone:b1", "app", {})
    backend.start_dyno(spec)
    with platform.changing("gone", "destroy"):
        reconciler.reconcile_all()
    assert [d.name for d in backend.list_dynos("gone")] == ["web.1"]


def test_exited_detached_one_off_logs_its_exit_status(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    dyno = run_one_off(platform, "shop", "exit 5", None, detach=True)
    backend.crash(dyno.id, 5)
    reconciler.reconcile_all()
    lines = platform.logs.tail("shop", 2, dyno=dyno.name)
    assert [line.message for line in lines] == [
        "Process exited with status 5",
        "State changed from up to complete",
    ]


def test_running_one_off_nobody_attached_to_is_stopped(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    # The client died between starting the dyno and attaching to it.
    deploy("shop")
    dyno = run_one_off(platform, "shop", "sleep 300", None, detach=False)
    backend.age(dyno.id, reconciler_module.ONE_OFF_GRACE + 1)
    reconciler.reconcile_all()
    assert backend.get_dyno(dyno.id) is None


def test_running_one_off_with_a_client_is_kept(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    dyno = run_one_off(platform, "shop", "sleep 300", None, detach=False)
    backend.age(dyno.id, reconciler_module.ONE_OFF_GRACE + 1)
    platform.attached.add(dyno.id)
    reconciler.reconcile_all()
    assert backend.get_dyno(dyno.id) is not None
