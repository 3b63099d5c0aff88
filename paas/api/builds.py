"""The /v1 endpoints for builds and an app's buildpack."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paas.api.deps import count_param, run_sync, services
from paas.api.views import json_body
from paas.buildpacks import find_buildpack
from paas.errors import InvalidInput, NotFound
from paas.store import Build, Store


def build_json(build: Build, with_output: bool = False) -> dict[str, Any]:
    """Describe a build for the API; its output only when asked."""
    data: dict[str, Any] = {
        "id": build.id,
        "app": build.app,
        "status": build.status,
        "commit": build.commit,
        "buildpack": build.buildpack,
        "image": build.image,
        "started_at": build.started_at,
        "finished_at": build.finished_at,
        "duration": (
            None
            if build.finished_at is None
            else round(build.finished_at - build.started_at, 3)
        ),
    }
    if with_output:
        data["output"] = build.output
    return data


def find_build(store: Store, app: str, build_id: str) -> Build:
    """Return one build of an app.

    Raises:
        NotFound: the app has no build of that id.
    """
    for build in store.list_builds(app):
        if build.id == build_id:
            return build
    raise NotFound(
        f"No build {build_id!r} of {app!r}. Run 'paas builds -a {app}' to list them."
    )


async def list_builds(request: Request) -> Response:
    """List an app's builds, newest first (``?limit=N``)."""
    store = services(request).platform.store
    app = request.path_params["app"]
    await run_sync(store.get_app, app)
    limit = count_param(request, "limit", 0)
    builds = await run_sync(store.list_builds, app, limit)
    return JSONResponse([build_json(build) for build in builds])


async def get_build(request: Request) -> Response:
    """Describe one build, with its stored output."""
    store = services(request).platform.store
    app = request.path_params["app"]
    await run_sync(store.get_app, app)
    build = await run_sync(find_build, store, app, request.path_params["build"])
    return JSONResponse(build_json(build, with_output=True))


async def get_buildpack(request: Request) -> Response:
    """Return the buildpack an app's next build uses (null: detect it)."""
    store = services(request).platform.store
    app = await run_sync(store.get_app, request.path_params["app"])
    return JSONResponse({"app": app.name, "buildpack": app.buildpack})


async def set_buildpack(request: Request) -> Response:
    """Pin an app's buildpack: ``{"buildpack": "python"}``."""
    data = await json_body(request)
    name = data.get("buildpack")
    if not isinstance(name, str):
        raise InvalidInput('Send the buildpack\'s name as {"buildpack": "python"}.')
    store = services(request).platform.store
    app = request.path_params["app"]
    await run_sync(store.get_app, app)
    buildpack = await run_sync(find_buildpack, name)
    await run_sync(store.set_buildpack, app, buildpack.name)
    return JSONResponse({"app": app, "buildpack": buildpack.name})


async def clear_buildpack(request: Request) -> Response:
    """Forget an app's buildpack, so the next build detects one."""
    store = services(request).platform.store
    app = request.path_params["app"]
    await run_sync(store.get_app, app)
    await run_sync(store.set_buildpack, app, None)
    return JSONResponse({"app": app, "buildpack": None})


routes = [
    Route("/v1/apps/{app}/builds", list_builds),
    Route("/v1/apps/{app}/builds/{build}", get_build),
    Route("/v1/apps/{app}/buildpack", get_buildpack),
    Route("/v1/apps/{app}/buildpack", set_buildpack, methods=["PUT"]),
    Route("/v1/apps/{app}/buildpack", clear_buildpack, methods=["DELETE"]),
]
