"""Scaling, restarts and one-off dynos change what runs."""

from __future__ import annotations

import pytest

from paas.errors import InvalidInput
from paas.formation import (
    ScaleChange,
    dyno_view,
    parse_scale_arg,
    restart,
    run_one_off,
    scale,
)
from paas.platform import Platform
from paas.reconciler import Reconciler
from paas.scheduler.fake import FakeBackend
from paas.store import FormationEntry
from tests.conftest import Deploy


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("web=2", ScaleChange("web", "=", 2, None)),
        ("web+1", ScaleChange("web", "+", 1, None)),
        ("web-1", ScaleChange("web", "-", 1, None)),
        ("worker=1:standard-2x", ScaleChange("worker", "=", 1, "standard-2x")),
        ("my-worker-3", ScaleChange("my-worker", "-", 3, None)),
        ("web=0", ScaleChange("web", "=", 0, None)),
    ],
    ids=["set", "add", "remove", "with-size", "dashed-type", "zero"],
)
def test_scale_argument_is_parsed(text: str, change: ScaleChange) -> None:
    assert parse_scale_arg(text) == change


@pytest.mark.parametrize(
    "text",
    ["web", "web=", "web=two", "=2", "web=-1", "web=2:", "web 2", "web=1.5", ""],
    ids=[
        "no-amount",
        "empty-amount",
        "word",
        "no-type",
        "negative",
        "empty-size",
        "space",
        "fraction",
        "empty",
    ],
)
def test_bad_scale_argument_is_refused(text: str) -> None:
    message = (
        f"Scale argument {text!r} is invalid: use TYPE=N, TYPE+N or TYPE-N, "
        "optionally followed by :SIZE (web=2, worker+1:standard-2x)."
    )
    with pytest.raises(InvalidInput) as caught:
        parse_scale_arg(text)
    assert caught.value.message == message


def quantities(platform: Platform) -> dict[str, int]:
    formation = platform.store.get_formation("shop")
    return {kind: entry.quantity for kind, entry in formation.items()}


def running_names(backend: FakeBackend) -> list[str]:
    return sorted(d.name for d in backend.list_dynos("shop") if d.running)


@pytest.mark.parametrize(
    ("arg", "after"),
    [("web=3", 3), ("web+2", 3), ("web-1", 0), ("web-5", 0)],
    ids=["set", "add", "remove", "clamped-at-zero"],
)
def test_scale_sets_quantity_within_limits(
    platform: Platform,
    reconciler: Reconciler,
    deploy: Deploy,
    arg: str,
    after: int,
) -> None:
    deploy("shop", {"web": "app"})
    scale(platform, reconciler, "shop", [parse_scale_arg(arg)])
    assert quantities(platform) == {"web": after}


@pytest.mark.parametrize(
    ("arg", "quantity"),
    [("web=1000", 1000), ("web+100", 101), ("web=101", 101)],
    ids=["thousand", "relative", "one-over"],
)
def test_scale_past_the_cap_is_refused(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, arg: str, quantity: int
) -> None:
    deploy("shop", {"web": "app"})
    message = (
        f"^Cannot scale web to {quantity} dynos: the limit is 100 dynos per "
        r"process type\.$"
    )
    with pytest.raises(InvalidInput, match=message):
        scale(platform, reconciler, "shop", [parse_scale_arg(arg)])
    assert quantities(platform) == {"web": 1}


def test_formation_past_the_host_memory_is_refused(
    platform: Platform, reconciler: Reconciler, deploy: Deploy
) -> None:
    deploy("shop", {"web": "app"})
    message = (
        r"^Formation web=2:performance-l of 'shop' would need 28672 MB of memory "
        r"in all, but this host has 24576 MB: scale to fewer or smaller dynos\.$"
    )
    with pytest.raises(InvalidInput, match=message):
        scale(platform, reconciler, "shop", [parse_scale_arg("web=2:performance-l")])
    assert quantities(platform) == {"web": 1}


def test_memory_counts_every_process_type_of_the_app(
    platform: Platform, reconciler: Reconciler, deploy: Deploy
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    scale(platform, reconciler, "shop", [parse_scale_arg("web=1:performance-l")])
    with pytest.raises(InvalidInput, match=r"would need 25088 MB .* has 24576 MB"):
        scale(platform, reconciler, "shop", [parse_scale_arg("worker=21")])


def test_formation_within_the_host_memory_is_accepted(
    platform: Platform, reconciler: Reconciler, deploy: Deploy
) -> None:
    deploy("shop", {"web": "app"})
    scale(platform, reconciler, "shop", [parse_scale_arg("web=1:performance-l")])
    assert platform.store.get_formation("shop")["web"].size == "performance-l"


def test_scaling_down_an_app_over_the_memory_is_allowed(
    platform: Platform, reconciler: Reconciler, deploy: Deploy
) -> None:
    deploy("shop", {"web": "app"})
    platform.store.set_formation("shop", [FormationEntry("web", 3, "performance-l")])
    scale(platform, reconciler, "shop", [parse_scale_arg("web=2")])
    assert quantities(platform) == {"web": 2}


def test_scaling_up_starts_dynos(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    scale(platform, reconciler, "shop", [parse_scale_arg("worker=2")])
    assert running_names(backend) == ["web.1", "worker.1", "worker.2"]


def test_scaling_down_stops_the_highest_numbers(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    scale(platform, reconciler, "shop", [parse_scale_arg("worker=3")])
    scale(platform, reconciler, "shop", [parse_scale_arg("worker=1")])
    assert running_names(backend) == ["web.1", "worker.1"]
    assert sorted(backend.stopped) == ["worker.2", "worker.3"]


def test_scaling_web_to_zero_stops_its_dynos(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop", {"web": "app"})
    scale(platform, reconciler, "shop", [parse_scale_arg("web=0")])
    assert (running_names(backend), backend.stopped) == ([], ["web.1"])


def test_size_change_replaces_the_dynos(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop", {"web": "app"})
    old = backend.dyno_named("shop", "web.1")
    scale(platform, reconciler, "shop", [parse_scale_arg("web=1:standard-2x")])
    new = backend.dyno_named("shop", "web.1")
    assert (new.id != old.id, new.size) == (True, "standard-2x")


def test_web_size_change_starts_new_dynos_first(
    platform: Platform,
    reconciler: Reconciler,
    deploy: Deploy,
    backend: FakeBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deploy("shop", {"web": "app"})
    running_at_stop: list[int] = []
    stop = backend.stop_dyno

    def counting_stop(dyno_id: str, timeout: int) -> int | None:
        running_at_stop.append(len(running_names(backend)))
        return stop(dyno_id, timeout)

    monkeypatch.setattr(backend, "stop_dyno", counting_stop)
    scale(platform, reconciler, "shop", [parse_scale_arg("web=1:standard-2x")])
    new = backend.dyno_named("shop", "web.1")
    assert (running_at_stop, new.size) == ([2], "standard-2x")


def test_scaling_is_logged_for_the_app(
    platform: Platform, reconciler: Reconciler, deploy: Deploy
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    scale(platform, reconciler, "shop", [parse_scale_arg("worker+1:basic")])
    messages = [line.message for line in platform.logs.tail("shop")]
    assert "Scaled to worker=1:basic" in messages


def test_restart_replaces_every_dyno(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    scale(platform, reconciler, "shop", [parse_scale_arg("worker=1")])
    before = {d.id for d in backend.list_dynos("shop")}
    names = restart(platform, reconciler, "shop")
    after = {d.id for d in backend.list_dynos("shop") if d.running}
    assert (names, len(after), before & after) == (["web.1", "worker.1"], 2, set())


def test_restarting_one_type_leaves_the_others(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    scale(platform, reconciler, "shop", [parse_scale_arg("worker=1")])
    worker = backend.dyno_named("shop", "worker.1")
    assert restart(platform, reconciler, "shop", process_type="web") == ["web.1"]
    assert backend.dyno_named("shop", "worker.1").id == worker.id


def test_restarted_web_dyno_is_replaced_before_it_stops(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop", {"web": "app"})
    restart(platform, reconciler, "shop", dyno_name="web.1")
    assert backend.started == ["web.1", "web.1"]
    assert backend.stopped == ["web.1"]
    assert backend.dyno_named("shop", "web.1").id in platform.routable


def test_one_off_dyno_runs_the_given_command(
    platform: Platform, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    dyno = run_one_off(platform, "shop", "python manage.py shell", None, True)
    spec = backend.specs[dyno.id]
    assert (spec.process_type, spec.command, spec.one_off) == (
        "run",
        "python manage.py shell",
        True,
    )
    assert dyno.name.startswith("run.") and dyno.name[4:].isdigit()


def test_crashed_dyno_is_shown_crashed_with_exit_code(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    web = backend.dyno_named("shop", "web.1")
    backend.crash(web.id, 137, oom=True)
    view = dyno_view(platform, reconciler, backend.dyno_named("shop", "web.1"))
    summary = {k: view[k] for k in ("name", "state", "exit_code", "oom_killed")}
    assert summary == {
        "name": "web.1",
        "state": "crashed",
        "exit_code": 137,
        "oom_killed": True,
    }


def test_web_dyno_not_yet_routable_is_starting(
    platform: Platform, reconciler: Reconciler, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    platform.routable.clear()
    view = dyno_view(platform, reconciler, backend.dyno_named("shop", "web.1"))
    assert view["state"] == "starting"
