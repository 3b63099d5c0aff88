"""Formation changes, restarts and one-off dynos; the dyno list for ps."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from paas.errors import Conflict, InvalidInput, NotFound
from paas.platform import Platform
from paas.reconciler import Reconciler
from paas.rollout import replace_web_dynos, start_dyno, stop_dynos
from paas.scheduler.base import DYNO_SIZES, Dyno
from paas.store import FormationEntry

TERMINAL_ENV = ("TERM", "COLUMNS", "LINES")
# Heroku's default limit of dynos per process type.
MAX_QUANTITY = 100
SCALE_ARG = re.compile(r"^([\w-]+)([=+-])(\d+)(?::([\w-]+))?$")


@dataclass
class ScaleChange:
    """One ``type=N``, ``type+N`` or ``type-N`` change, with an optional size."""

    process_type: str
    op: str
    amount: int
    size: str | None


def parse_scale_arg(text: str) -> ScaleChange:
    """Parse one ``ps:scale`` argument.

    Raises:
        InvalidInput: the argument is not TYPE=N, TYPE+N or TYPE-N[:SIZE].
    """
    match = SCALE_ARG.match(text)
    if match is None:
        raise InvalidInput(
            f"Scale argument {text!r} is invalid: use TYPE=N, TYPE+N or "
            "TYPE-N, optionally followed by :SIZE (web=2, worker+1:standard-2x)."
        )
    kind, op, amount, size = match.groups()
    return ScaleChange(kind, op, int(amount), size)


def scale(
    platform: Platform, reconciler: Reconciler, app: str, changes: list[ScaleChange]
) -> dict[str, FormationEntry]:
    """Change quantities and sizes; the reconciler starts and stops dynos.

    Raises:
        InvalidInput: an unknown process type or size, more than
            ``MAX_QUANTITY`` dynos of a type, or more memory than the host has.
    """
    with platform.changing(app, "the scale"):
        release = platform.store.current_release(app)
        known = sorted(
            k for k in (release.process_types if release else {}) if k != "release"
        )
        formation = platform.store.get_formation(app)
        entries = [_apply(change, formation, known) for change in changes]
        check_memory(platform, app, formation, entries, known)
        platform.store.set_formation(app, entries)
        summary = ", ".join(f"{e.process_type}={e.quantity}:{e.size}" for e in entries)
        platform.event(app, f"Scaled to {summary}")
        _resize_web(platform, app, entries)
        _stop_extra(platform, app, entries)
    reconciler.reconcile_all()
    return platform.store.get_formation(app)


def _apply(
    change: ScaleChange, formation: dict[str, FormationEntry], known: list[str]
) -> FormationEntry:
    if change.process_type not in known:
        names = ", ".join(known) or "none (push a Procfile first)"
        raise InvalidInput(
            f"No {change.process_type!r} process type. Known types: {names}."
        )
    if change.size is not None and change.size not in DYNO_SIZES:
        raise InvalidInput(
            f"Dyno size {change.size!r} is unknown. Sizes: {', '.join(DYNO_SIZES)}."
        )
    entry = formation.get(change.process_type)
    current = entry.quantity if entry else 0
    quantity = {
        "=": change.amount,
        "+": current + change.amount,
        "-": current - change.amount,
    }[change.op]
    if quantity > MAX_QUANTITY:
        raise InvalidInput(
            f"Cannot scale {change.process_type} to {quantity} dynos: the limit "
            f"is {MAX_QUANTITY} dynos per process type."
        )
    size = change.size or (entry.size if entry else "standard-1x")
    return FormationEntry(change.process_type, max(0, quantity), size)


def formation_memory_mb(formation: dict[str, FormationEntry], known: list[str]) -> int:
    """Return the memory the dynos of a formation may use together, in MB."""
    return sum(
        entry.quantity * DYNO_SIZES[entry.size].memory_mb
        for entry in formation.values()
        if entry.process_type in known and entry.size in DYNO_SIZES
    )


def check_memory(
    platform: Platform,
    app: str,
    formation: dict[str, FormationEntry],
    entries: list[FormationEntry],
    known: list[str],
) -> None:
    """Refuse a formation whose memory limits add up past the host's memory.

    A change that lowers the sum is let through, so that an app already
    over the limit can be brought under it step by step.

    Raises:
        InvalidInput: the new formation needs more memory than the host has.
    """
    host = platform.backend.memory_mb()
    if host is None:
        return
    before = formation_memory_mb(formation, known)
    after = formation_memory_mb(formation | {e.process_type: e for e in entries}, known)
    if after <= host or after <= before:
        return
    wanted = " ".join(f"{e.process_type}={e.quantity}:{e.size}" for e in entries)
    raise InvalidInput(
        f"Formation {wanted} of {app!r} would need {after} MB of memory in all, "
        f"but this host has {host} MB: scale to fewer or smaller dynos."
    )


def _resize_web(platform: Platform, app: str, entries: list[FormationEntry]) -> None:
    # Web dynos of a new size start first and take over before the old ones
    # are drained, as on a deploy; other process types restart stop-first.
    release = platform.store.current_release(app)
    web = next((e for e in entries if e.process_type == "web"), None)
    if web is None or release is None or release.image is None:
        return
    resized = [
        d
        for d in platform.backend.list_dynos(app)
        if d.process_type == "web" and not d.one_off and d.running
        if d.number <= web.quantity and d.size != web.size
    ]
    if resized:
        replace_web_dynos(platform, release, resized, size=web.size)


def _stop_extra(platform: Platform, app: str, entries: list[FormationEntry]) -> None:
    # Highest numbers go first; size changes restart every dyno of the type.
    dynos = [d for d in platform.backend.list_dynos(app) if not d.one_off]
    doomed: list[Dyno] = []
    for entry in entries:
        for dyno in dynos:
            if dyno.process_type != entry.process_type:
                continue
            if dyno.number > entry.quantity or dyno.size != entry.size:
                doomed.append(dyno)
    stop_dynos(platform, sorted(doomed, key=lambda d: -d.number))


def restart(
    platform: Platform,
    reconciler: Reconciler,
    app: str,
    process_type: str | None = None,
    dyno_name: str | None = None,
) -> list[str]:
    """Restart all dynos, one type, or one dyno; return the names restarted.

    A one-off dyno named is stopped and removed instead.

    Raises:
        NotFound: no dyno matched.
    """
    one_off = [
        d for d in platform.backend.list_dynos(app) if d.one_off and d.name == dyno_name
    ]
    if one_off:
        # A one-off dyno is not part of the formation: it is stopped and
        # removed, not started again, and needs no lock on the app.
        stop_dynos(platform, one_off)
        return [d.name for d in one_off]
    with platform.changing(app, "the restart"):
        dynos = [d for d in platform.backend.list_dynos(app) if not d.one_off]
        chosen = [
            d
            for d in dynos
            if (process_type is None or d.process_type == process_type)
            and (dyno_name is None or d.name == dyno_name)
        ]
        if not chosen and (process_type or dyno_name):
            raise NotFound(
                f"No dyno {dyno_name or process_type!r} on {app!r}. Run 'paas ps'."
            )
        for dyno in chosen:
            platform.event(app, f"Restarting {dyno.name}", "api")
            reconciler.crashes.pop((app, dyno.name), None)
        web = [d for d in chosen if d.process_type == "web" and d.running]
        release = platform.store.current_release(app)
        if web and release is not None and release.image is not None:
            replace_web_dynos(platform, release, web)
        stop_dynos(platform, [d for d in chosen if d not in web])
    reconciler.reconcile_all()
    return sorted(d.name for d in chosen)


def run_one_off(
    platform: Platform,
    app: str,
    command: str,
    size: str | None,
    detach: bool,
    tty: bool = False,
    terminal_env: dict[str, str] | None = None,
) -> Dyno:
    """Start a ``run.NNNN`` dyno of the current release.

    Raises:
        Conflict: the app has no release with an image yet.
        InvalidInput: an unknown size.
    """
    if size is not None and size not in DYNO_SIZES:
        raise InvalidInput(
            f"Dyno size {size!r} is unknown. Sizes: {', '.join(DYNO_SIZES)}."
        )
    release = platform.store.current_release(app)
    if release is None or release.image is None:
        raise Conflict(f"App {app!r} has no release yet. Push code first.")
    name = f"run.{random.randint(1000, 9999)}"
    env = {k: v for k, v in (terminal_env or {}).items() if k in TERMINAL_ENV}
    dyno = start_dyno(
        platform,
        release,
        "run",
        name,
        size or "standard-1x",
        command=command,
        detached=detach,
        tty=tty,
        extra_env=env,
    )
    return dyno


def dyno_view(platform: Platform, reconciler: Reconciler, dyno: Dyno) -> dict[str, Any]:
    """Describe a dyno as ``paas ps`` shows it."""
    record = reconciler.crashes.get((dyno.app, dyno.name))
    if not dyno.running:
        state = "crashed" if not dyno.one_off else "down"
    elif dyno.process_type == "web" and not dyno.one_off:
        state = "up" if dyno.id in platform.routable else "starting"
    else:
        state = "up"
    return {
        "name": dyno.name,
        "type": dyno.process_type,
        "state": state,
        "command": dyno.command,
        "size": dyno.size,
        "release": dyno.release,
        "updated_at": dyno.started_at if dyno.running else dyno.finished_at,
        "restarts": record.restarts if record else 0,
        "exit_code": dyno.exit_code
        if not dyno.running
        else (record.last_exit if record else None),
        "oom_killed": dyno.oom_killed,
        "one_off": dyno.one_off,
    }
