"""The control plane's HTTP face: the /v1 REST API and git smart HTTP."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paas import API_VERSION, __version__
from paas.api import addons, builds, registry, routing, tty, views
from paas.api.auth import TokenAuthMiddleware
from paas.api.deps import Services, run_sync, services
from paas.deploys import deploy_push
from paas.disk import disk_usage, prune_app_images, prune_dangling
from paas.errors import InvalidInput, PaasError
from paas.git import advertise_refs, ensure_repo, receive_pack, save_request_body
from paas.hooks.pre_receive import RESULT_PREFIX

logger = logging.getLogger(__name__)

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


class VersionHeaderMiddleware:
    """Tell every client which API version answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add ``X-Paas-Api-Version`` to each response."""

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-paas-api-version", str(API_VERSION).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_version)


async def paas_error(request: Request, exc: Exception) -> Response:
    """Turn our errors into JSON with the status they carry."""
    if not isinstance(exc, PaasError):
        raise exc
    if ".git/" in request.url.path:
        # git shows a text/plain error body to the user as "remote: ..."
        # lines; any other type it drops, leaving only the status code.
        text = f"{exc.message}\n"
        return PlainTextResponse(text, status_code=exc.status_code)
    body = {"id": type(exc).__name__, "error": exc.message}
    return JSONResponse(body, status_code=exc.status_code)


async def disk(request: Request) -> Response:
    """Report the disk the platform uses."""
    found = services(request)
    usage = await run_sync(disk_usage, found.platform, found.builder.client)
    return JSONResponse(usage)


async def version(request: Request) -> Response:
    """Say which API version and release of paas this is."""
    return JSONResponse({"api_version": API_VERSION, "version": __version__})


# git


def repo_path(request: Request) -> Path:
    """Return the bare repo of the app named in a git URL, creating it."""
    name = request.path_params["app"]
    platform = services(request).platform
    platform.store.get_app(name)
    return ensure_repo(platform.settings.repos_dir / f"{name}.git")


async def git_info_refs(request: Request) -> Response:
    """Advertise the refs of an app's repo (git smart HTTP, step one)."""
    if request.query_params.get("service") != "git-receive-pack":
        raise InvalidInput("Only pushes are served here: use 'git push'.")
    repo = await run_sync(repo_path, request)
    body = await advertise_refs(repo)
    media = "application/x-git-receive-pack-advertisement"
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})


async def git_receive_pack(request: Request) -> Response:
    """Receive a pack and run the pre-receive hook (git smart HTTP, step two)."""
    repo = await run_sync(repo_path, request)
    settings = services(request).platform.settings
    hook_env = {
        "PAAS_API_URL": settings.api_url,
        "PAAS_HOOK_TOKEN": services(request).token,
        "PAAS_APP": request.path_params["app"],
    }
    encoding = request.headers.get("content-encoding", "")
    tmp = settings.home / "tmp"
    pack = await save_request_body(request.stream(), encoding, tmp)
    stream = receive_pack(repo, pack, hook_env)
    media = "application/x-git-receive-pack-result"
    return StreamingResponse(stream, media_type=media)


# builds


async def create_build(request: Request) -> Response:
    """Build and release a pushed commit, streaming the build output."""
    app = request.path_params["app"]
    commit = request.query_params.get("commit", "")
    ref, old = request.query_params.get("ref"), request.query_params.get("old")
    pushed = (ref, old) if ref and old else None
    found = services(request)
    await run_sync(found.platform.store.get_app, app)
    archive = await _save_body(request)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def out(line: str) -> None:
        loop.call_soon_threadsafe(lines.put_nowait, line)

    def work() -> None:
        result = "failed"
        try:
            deploy_push(
                found.platform, found.builder, app, archive, commit, out, pushed
            )
            result = "ok"
            prune_app_images(found.platform, found.builder.client, app)
            prune_dangling(found.builder.client)
        except PaasError as exc:
            out(f" !     {exc.message}")
            out(" !     Push failed")
        except Exception:
            logger.exception("Build of %s crashed", app)
            out(" !     The platform failed during the build; see its log.")
        finally:
            archive.unlink(missing_ok=True)
            out(f"{RESULT_PREFIX}{result}")
            loop.call_soon_threadsafe(lines.put_nowait, None)
            found.reconciler.poke()

    threading.Thread(target=work, name=f"build-{app}", daemon=True).start()
    return StreamingResponse(_drain(lines), media_type="text/plain")


async def _save_body(request: Request) -> Path:
    handle = tempfile.NamedTemporaryFile(
        prefix="paas-push-", suffix=".tar", delete=False
    )
    with handle:
        async for chunk in request.stream():
            handle.write(chunk)
    return Path(handle.name)


async def _drain(lines: asyncio.Queue[str | None]) -> AsyncIterator[str]:
    while (line := await lines.get()) is not None:
        yield line + "\n"


def build_app(found: Services, lifespan: Lifespan | None = None) -> Starlette:
    """Return the ASGI app of the control plane.

    Args:
        found: the services the endpoints use.
        lifespan: start-up and shut-down work to run with the server.
    """
    routes = [
        Route("/v1/version", version),
        Route("/v1/disk", disk),
        Route("/{app}.git/info/refs", git_info_refs),
        Route("/{app}.git/git-receive-pack", git_receive_pack, methods=["POST"]),
        Route("/v1/apps/{app}/builds", create_build, methods=["POST"]),
        *views.routes,
        *addons.routes,
        *builds.routes,
        *registry.routes,
        *routing.routes,
        *tty.routes,
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(VersionHeaderMiddleware),
            Middleware(TokenAuthMiddleware, token=found.token),
        ],
        exception_handlers={PaasError: paas_error},
        lifespan=lifespan,
    )
    app.state.services = found
    return app
