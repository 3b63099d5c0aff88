"""The /v1 endpoints of routing: an app's domains and its per-dyno counts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paas.api.deps import run_sync, services
from paas.api.views import json_body
from paas.domains import add_domain, list_domains, remove_domain
from paas.errors import InvalidInput
from paas.router.stats import read_app_stats


async def get_domains(request: Request) -> Response:
    """List an app's domains, the default one first."""
    platform = services(request).platform
    found = await run_sync(list_domains, platform, request.path_params["app"])
    return JSONResponse([domain.to_json() for domain in found])


async def post_domain(request: Request) -> Response:
    """Add a custom domain: ``{"hostname": "www.example.com"}``."""
    data = await json_body(request)
    hostname = data.get("hostname")
    if not isinstance(hostname, str):
        raise InvalidInput("Give a host name: {'hostname': 'www.example.com'}.")
    platform = services(request).platform
    app = request.path_params["app"]
    domain = await run_sync(add_domain, platform, app, hostname)
    return JSONResponse(domain.to_json(), status_code=201)


async def delete_domain(request: Request) -> Response:
    """Remove a custom domain."""
    platform = services(request).platform
    app, hostname = request.path_params["app"], request.path_params["hostname"]
    await run_sync(remove_domain, platform, app, hostname)
    return JSONResponse({"hostname": hostname, "app": app, "removed": True})


async def get_router_stats(request: Request) -> Response:
    """Return the requests the routers sent to each of an app's dynos."""
    platform = services(request).platform
    app = request.path_params["app"]
    await run_sync(platform.store.get_app, app)
    counts = await run_sync(read_app_stats, platform.settings.run_dir, app)
    return JSONResponse({"app": app, "dynos": counts})


routes = [
    Route("/v1/apps/{app}/domains", get_domains),
    Route("/v1/apps/{app}/domains", post_domain, methods=["POST"]),
    Route("/v1/apps/{app}/domains/{hostname}", delete_domain, methods=["DELETE"]),
    Route("/v1/apps/{app}/router-stats", get_router_stats),
]
