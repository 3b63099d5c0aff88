"""The /v1 endpoints for add-ons: catalog, resources and attachments."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from paas.addons import manager
from paas.addons.catalog import find_service, load_catalog
from paas.addons.engine import AddonEngine
from paas.addons.records import get_addon, list_addons
from paas.api.deps import count_param, run_sync, services
from paas.api.views import json_body
from paas.errors import BackendUnavailable, InvalidInput, PaasError

logger = logging.getLogger(__name__)

# The last line of a streamed creation: this prefix, then JSON with either
# the created resource or the error.
RESULT_PREFIX = "\x00paas-result "


def engine_of(request: Request) -> AddonEngine:
    """Return the add-on engine, or say there is none.

    Raises:
        BackendUnavailable: the platform runs without one.
    """
    engine = services(request).addons
    if engine is None:
        raise BackendUnavailable("This platform runs no add-ons.")
    return engine


# catalog


async def list_services(request: Request) -> Response:
    """List the catalog's services."""
    catalog = await run_sync(load_catalog)
    return JSONResponse([_service_json(service) for service in catalog.values()])


async def list_plans(request: Request) -> Response:
    """List one service's plans."""
    service = await run_sync(find_service, request.path_params["service"])
    return JSONResponse(_service_json(service)["plans"])


def _service_json(service: Any) -> dict[str, Any]:
    return {
        "name": service.name,
        "description": service.description,
        "image": service.image,
        "port": service.port,
        "attach_as": service.attach_as,
        "default_plan": service.default_plan,
        "config_vars": [f"{service.attach_as}_{k}" for k in service.config_vars],
        "plans": [
            plan.to_json()
            | {"default": plan.name == service.default_plan}
            | {"image": service.image_ref(plan)}
            for plan in service.plans
        ],
    }


# resources


async def list_all(request: Request) -> Response:
    """List every add-on resource."""
    store = services(request).platform.store
    addons = await run_sync(list_addons, store)
    return JSONResponse([addon.to_json() for addon in addons])


async def list_app_addons(request: Request) -> Response:
    """List the resources an app owns or has attached."""
    store = services(request).platform.store
    app = request.path_params["app"]
    await run_sync(store.get_app, app)
    addons = await run_sync(list_addons, store, app)
    return JSONResponse([addon.to_json() for addon in addons])


async def get_one(request: Request) -> Response:
    """Describe one resource (by name, or an attachment name with ?app=)."""
    platform = services(request).platform
    app = request.query_params.get("app")
    addon = await run_sync(
        manager.addon_for_app, platform, request.path_params["addon"], app
    )
    engine = services(request).addons
    body = addon.to_json()
    if engine is not None:
        body["container"] = await run_sync(engine.state, addon.name)
    return JSONResponse(body)


async def create(request: Request) -> Response:
    """Create a resource for an app, streaming the pull and start-up."""
    found = services(request)
    engine = engine_of(request)
    app = request.path_params["app"]
    wanted = _create_request(await json_body(request))
    await run_sync(found.platform.store.get_app, app)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def out(line: str) -> None:
        loop.call_soon_threadsafe(lines.put_nowait, line)

    def work() -> None:
        try:
            addon, release = manager.create_addon(
                found.platform, engine, app, wanted, out
            )
            result = {"addon": addon.to_json(), "release": release.version}
        except PaasError as exc:
            result = {"error": exc.message, "status": exc.status_code}
        except Exception:
            logger.exception("Creating an add-on for %s crashed", app)
            result = {"error": "The platform failed; see its log.", "status": 500}
        finally:
            found.reconciler.poke()
        out(RESULT_PREFIX + json.dumps(result))
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=work, name=f"addon-{app}", daemon=True).start()
    return StreamingResponse(_drain(lines), media_type="text/plain")


def _create_request(data: dict[str, Any]) -> manager.CreateRequest:
    port = data.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        raise InvalidInput("port must be a whole number.")
    fields = {}
    for key in ("service", "plan", "as", "name", "image"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{key} must be a string.")
        fields[key] = value
    service, plan = fields["service"], fields["plan"]
    if service and ":" in service and plan is None:
        service, plan = manager.parse_service_arg(service)
    return manager.CreateRequest(
        service=service,
        plan=plan,
        attach_as=fields["as"],
        name=fields["name"],
        image=fields["image"],
        port=port,
    )


async def _drain(lines: asyncio.Queue[str | None]) -> AsyncIterator[str]:
    while (line := await lines.get()) is not None:
        yield line + "\n"


async def destroy(request: Request) -> Response:
    """Destroy a resource: ``?confirm=OWNING_APP`` is required."""
    found = services(request)
    engine = engine_of(request)
    name = request.path_params["addon"]
    confirm = request.query_params.get("confirm")
    addon = await run_sync(manager.destroy_addon, found.platform, engine, name, confirm)
    found.reconciler.poke()
    return JSONResponse(addon.to_json() | {"state": "destroyed"})


async def logs(request: Request) -> Response:
    """Return a resource's last output lines (``?lines=N``, at most 1500)."""
    engine = engine_of(request)
    store = services(request).platform.store
    addon = await run_sync(get_addon, store, request.path_params["addon"])
    count = count_param(request, "lines", 100, maximum=1500)
    lines = await run_sync(engine.logs, addon.name, count)
    return Response("".join(line + "\n" for line in lines), media_type="text/plain")


# attachments


async def attach(request: Request) -> Response:
    """Attach a resource to an app: ``{"addon": NAME, "as": NAME?}``."""
    found = services(request)
    engine = engine_of(request)
    data = await json_body(request)
    name, label = data.get("addon"), data.get("as")
    if not isinstance(name, str) or (label is not None and not isinstance(label, str)):
        raise InvalidInput("Give the add-on: {'addon': 'postgres-swift-12345'}.")
    app = request.path_params["app"]
    attachment, release = await run_sync(
        manager.attach_addon, found.platform, engine, name, app, label
    )
    found.reconciler.poke()
    body = attachment.to_json() | {"release": release.version}
    return JSONResponse(body, status_code=201)


async def detach(request: Request) -> Response:
    """Detach an attachment (by its name or the resource's) from an app."""
    found = services(request)
    engine = engine_of(request)
    app = request.path_params["app"]
    name = request.path_params["name"]
    await run_sync(found.platform.store.get_app, app)
    release = await run_sync(manager.detach_addon, found.platform, engine, app, name)
    found.reconciler.poke()
    return JSONResponse({"app": app, "name": name, "release": release.version})


routes = [
    Route("/v1/addon-services", list_services),
    Route("/v1/addon-services/{service}/plans", list_plans),
    Route("/v1/addons", list_all),
    Route("/v1/addons/{addon}", get_one),
    Route("/v1/addons/{addon}", destroy, methods=["DELETE"]),
    Route("/v1/addons/{addon}/logs", logs),
    Route("/v1/apps/{app}/addons", list_app_addons),
    Route("/v1/apps/{app}/addons", create, methods=["POST"]),
    Route("/v1/apps/{app}/addon-attachments", attach, methods=["POST"]),
    Route("/v1/apps/{app}/addon-attachments/{name}", detach, methods=["DELETE"]),
]
