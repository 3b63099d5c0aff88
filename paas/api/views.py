"""The /v1 endpoints for apps, dynos, logs, config vars, releases, formation."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from paas.addons.manager import remove_app_addons
from paas.api.deps import count_param, run_sync, services
from paas.errors import AppNotFound, InvalidInput
from paas.formation import dyno_view, parse_scale_arg, restart, run_one_off, scale
from paas.releases import change_config_vars, rollback
from paas.rollout import end_one_off
from paas.store import App


async def json_body(request: Request) -> dict[str, Any]:
    """Return the request's JSON object.

    Raises:
        InvalidInput: the body is not a JSON object.
    """
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The request body is not JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return data


def app_json(request: Request, app: App) -> dict[str, Any]:
    """Describe an app for the API."""
    platform = services(request).platform
    release = platform.store.current_release(app.name)
    return {
        "name": app.name,
        "created_at": app.created_at,
        "buildpack": app.buildpack,
        "web_url": platform.settings.app_url(app.name),
        "git_url": f"{platform.settings.api_url}/{app.name}.git",
        "release": release.version if release else None,
        "domains": [host for host, _ in platform.store.list_domains(app.name)],
    }


# apps


async def list_apps(request: Request) -> Response:
    """List every app."""
    apps = await run_sync(services(request).platform.store.list_apps)
    return JSONResponse([await run_sync(app_json, request, app) for app in apps])


async def create_app(request: Request) -> Response:
    """Create an app."""
    data = await json_body(request)
    name = data.get("name")
    if not isinstance(name, str):
        raise InvalidInput("Give the app a name: {'name': 'my-app'}.")
    app = await run_sync(services(request).platform.create_app, name)
    return JSONResponse(await run_sync(app_json, request, app), status_code=201)


async def get_app(request: Request) -> Response:
    """Describe one app."""
    store = services(request).platform.store
    app = await run_sync(store.get_app, request.path_params["app"])
    return JSONResponse(await run_sync(app_json, request, app))


async def destroy_app(request: Request) -> Response:
    """Destroy an app and everything it has, add-ons included."""
    name = request.path_params["app"]
    found = services(request)
    try:
        await run_sync(found.platform.store.get_app, name)
    except AppNotFound:
        # What a destroy that failed half-way (before the record went
        # last) left behind is removed on a new try.
        await run_sync(found.platform.remove_leftovers, name)
        return JSONResponse({"name": name, "destroyed": True})
    if found.addons is not None:
        await run_sync(remove_app_addons, found.platform, found.addons, name)
    await run_sync(found.platform.destroy_app, name)
    return JSONResponse({"name": name, "destroyed": True})


# dynos


def _dynos(request: Request, name: str) -> list[dict[str, Any]]:
    found = services(request)
    found.platform.store.get_app(name)
    dynos = found.platform.backend.list_dynos(name)
    views = [dyno_view(found.platform, found.reconciler, dyno) for dyno in dynos]
    return sorted(views, key=lambda view: (view["type"], _number(view["name"])))


def _number(name: str) -> int:
    suffix = name.rsplit(".", 1)[-1]
    return int(suffix) if suffix.isdigit() else 0


async def list_dynos(request: Request) -> Response:
    """List an app's dynos with their state."""
    views = await run_sync(_dynos, request, request.path_params["app"])
    return JSONResponse(views)


async def run_dyno(request: Request) -> Response:
    """Start a one-off dyno."""
    data = await json_body(request)
    command = data.get("command")
    if not isinstance(command, str) or not command.strip():
        raise InvalidInput("Give a command to run: paas run COMMAND.")
    found = services(request)
    app = request.path_params["app"]
    await run_sync(found.platform.store.get_app, app)
    env = data.get("env") or {}
    if not isinstance(env, dict):
        raise InvalidInput("env must be an object of strings.")
    dyno = await run_sync(
        run_one_off,
        found.platform,
        app,
        command,
        data.get("size"),
        bool(data.get("detach")),
        bool(data.get("tty")),
        {str(k): str(v) for k, v in env.items()},
    )
    return JSONResponse(
        dyno_view(found.platform, found.reconciler, dyno) | {"id": dyno.id},
        status_code=201,
    )


async def attach_dyno(request: Request) -> Response:
    """Stream a one-off dyno's output, then a line with its exit code."""
    found = services(request)
    app = request.path_params["app"]
    name = request.path_params["dyno"]
    dynos = await run_sync(found.platform.backend.list_dynos, app)
    matching = [d for d in dynos if d.name == name]
    if not matching:
        raise InvalidInput(f"No dyno {name!r} on {app!r}.")
    dyno = matching[0]
    backend = found.platform.backend

    async def stream() -> AsyncIterator[str]:
        found.platform.attached.add(dyno.id)
        try:
            lines = backend.follow_logs(dyno.id, None)
            while (line := await run_sync(next, lines, None)) is not None:
                yield line + "\n"
            code = await run_sync(backend.wait_dyno, dyno.id)
            yield f"\x00paas-exit {code}\n"
        finally:
            found.platform.attached.discard(dyno.id)
            # Also when the client went away (Ctrl-C): the dyno is stopped
            # then. A thread, since this task may be cancelled, and an await
            # in a cancelled task would not run.
            threading.Thread(
                target=end_one_off,
                args=(found.platform, dyno),
                name=f"end-{app}-{name}",
                daemon=True,
            ).start()

    return StreamingResponse(stream(), media_type="text/plain")


async def restart_dynos(request: Request) -> Response:
    """Restart all dynos, one process type (?type=) or one dyno (?dyno=)."""
    found = services(request)
    app = request.path_params["app"]
    await run_sync(found.platform.store.get_app, app)
    names = await run_sync(
        restart,
        found.platform,
        found.reconciler,
        app,
        request.query_params.get("type"),
        request.query_params.get("dyno"),
    )
    return JSONResponse({"restarted": names})


# logs


async def get_logs(request: Request) -> Response:
    """Return an app's last log lines, and follow new ones with ?tail=1."""
    found = services(request)
    app = request.path_params["app"]
    await run_sync(found.platform.store.get_app, app)
    params = request.query_params
    count = count_param(request, "lines", 100, maximum=1500)
    dyno, source = params.get("dyno"), params.get("source")
    logs = found.platform.logs
    past = logs.tail(app, count, dyno=dyno, source=source)

    async def stream() -> AsyncIterator[str]:
        for line in past:
            yield line.format() + "\n"
        if params.get("tail") in ("1", "true"):
            async for line in logs.follow(app, dyno=dyno, source=source):
                yield line.format() + "\n"

    return StreamingResponse(stream(), media_type="text/plain")


# config vars


async def get_config(request: Request) -> Response:
    """Return an app's config vars."""
    store = services(request).platform.store
    app = await run_sync(store.get_app, request.path_params["app"])
    return JSONResponse(app.config_vars)


async def patch_config(request: Request) -> Response:
    """Set (string) and unset (null) config vars; releases and restarts."""
    data = await json_body(request)
    found = services(request)
    app = request.path_params["app"]
    await run_sync(found.platform.store.get_app, app)
    release = await run_sync(change_config_vars, found.platform, app, data)
    if release is None:
        current = await run_sync(found.platform.store.get_app, app)
        return JSONResponse({"release": None, "config_vars": current.config_vars})
    found.reconciler.poke()
    return JSONResponse(
        {"release": release.version, "config_vars": release.config_vars}
    )


# releases


async def list_releases(request: Request) -> Response:
    """List an app's releases, newest first."""
    store = services(request).platform.store
    app = request.path_params["app"]
    await run_sync(store.get_app, app)
    limit = count_param(request, "limit", 0)
    releases = await run_sync(store.list_releases, app, limit)
    current = await run_sync(store.current_release, app)
    return JSONResponse(
        [
            r.to_json()
            | {"current": current is not None and r.version == current.version}
            for r in releases
        ]
    )


async def get_release(request: Request) -> Response:
    """Describe one release."""
    store = services(request).platform.store
    app = request.path_params["app"]
    await run_sync(store.get_app, app)
    release = await run_sync(store.get_release, app, request.path_params["version"])
    return JSONResponse(release.to_json())


async def create_release(request: Request) -> Response:
    """Roll back: ``{"rollback": N}`` or ``{"rollback": null}`` for the last."""
    data = await json_body(request)
    if "rollback" not in data:
        raise InvalidInput("Only rollbacks are made here: {'rollback': N}.")
    target = data["rollback"]
    # JSON true is a Python int too; it must not mean v1.
    if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
        raise InvalidInput("rollback must be a release number or null.")
    found = services(request)
    app = request.path_params["app"]
    await run_sync(found.platform.store.get_app, app)
    release = await run_sync(rollback, found.platform, app, target)
    found.reconciler.poke()
    return JSONResponse(release.to_json(), status_code=201)


# formation


async def get_formation(request: Request) -> Response:
    """Return an app's formation."""
    store = services(request).platform.store
    app = request.path_params["app"]
    await run_sync(store.get_app, app)
    formation = await run_sync(store.get_formation, app)
    return JSONResponse([vars(entry) for entry in formation.values()])


async def patch_formation(request: Request) -> Response:
    """Scale: ``{"updates": ["web=2", "worker+1:standard-2x"]}``."""
    data = await json_body(request)
    updates = data.get("updates")
    if not isinstance(updates, list) or not updates:
        raise InvalidInput("Give scale changes: {'updates': ['web=2']}.")
    changes = [parse_scale_arg(str(update)) for update in updates]
    found = services(request)
    app = request.path_params["app"]
    await run_sync(found.platform.store.get_app, app)
    formation = await run_sync(scale, found.platform, found.reconciler, app, changes)
    await asyncio.sleep(0)
    return JSONResponse([vars(entry) for entry in formation.values()])


routes = [
    Route("/v1/apps", list_apps),
    Route("/v1/apps", create_app, methods=["POST"]),
    Route("/v1/apps/{app}", get_app),
    Route("/v1/apps/{app}", destroy_app, methods=["DELETE"]),
    Route("/v1/apps/{app}/dynos", list_dynos),
    Route("/v1/apps/{app}/dynos", run_dyno, methods=["POST"]),
    Route("/v1/apps/{app}/dynos", restart_dynos, methods=["DELETE"]),
    Route("/v1/apps/{app}/dynos/{dyno}/attach", attach_dyno),
    Route("/v1/apps/{app}/logs", get_logs),
    Route("/v1/apps/{app}/config-vars", get_config),
    Route("/v1/apps/{app}/config-vars", patch_config, methods=["PATCH"]),
    Route("/v1/apps/{app}/releases", list_releases),
    Route("/v1/apps/{app}/releases", create_release, methods=["POST"]),
    Route("/v1/apps/{app}/releases/{version:int}", get_release),
    Route("/v1/apps/{app}/formation", get_formation),
    Route("/v1/apps/{app}/formation", patch_formation, methods=["PATCH"]),
]
