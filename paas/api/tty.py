"""Interactive one-off dynos: a WebSocket bridged to the dyno's terminal.

Binary frames carry terminal bytes both ways. Text frames carry control
messages as JSON: the client sends ``{"resize": [rows, cols]}``; the server
ends with ``{"exit": CODE}`` when the dyno's process exits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from paas.api.deps import run_sync, services
from paas.rollout import end_one_off
from paas.scheduler.base import SchedulerBackend

logger = logging.getLogger(__name__)


async def terminal(websocket: WebSocket) -> None:
    """Bridge a WebSocket to a one-off dyno's TTY until the process exits."""
    found = services(websocket)
    app = websocket.path_params["app"]
    name = websocket.path_params["dyno"]
    dynos = await run_sync(found.platform.backend.list_dynos, app)
    matching = [d for d in dynos if d.name == name and d.one_off]
    await websocket.accept()
    if not matching:
        await websocket.send_text(
            json.dumps({"error": f"No dyno {name!r} on {app!r}."})
        )
        await websocket.close()
        return
    dyno = matching[0]
    backend = found.platform.backend
    raw = await run_sync(backend.open_terminal, dyno.id)
    found.platform.attached.add(dyno.id)
    try:
        await _bridge(websocket, raw, backend, dyno.id)
        code = await run_sync(found.platform.backend.wait_dyno, dyno.id, 30)
        await websocket.send_text(json.dumps({"exit": code}))
        await websocket.close()
    except WebSocketDisconnect:
        logger.info("Terminal of %s on %s closed by the client", name, app)
    finally:
        found.platform.attached.discard(dyno.id)
        raw.close()
        await run_sync(end_one_off, found.platform, dyno)


async def _bridge(
    websocket: WebSocket,
    raw: socket.socket,
    backend: SchedulerBackend,
    container_id: str,
) -> None:
    # Whichever side ends first ends the bridge: the dyno's process exits,
    # or the client goes away (its WebSocketDisconnect is raised here).
    upstream = asyncio.create_task(
        _client_to_dyno(websocket, raw, backend, container_id)
    )
    downstream = asyncio.create_task(_dyno_to_client(websocket, raw))
    tasks = {upstream, downstream}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
    for task in done:
        task.result()


async def _dyno_to_client(websocket: WebSocket, raw: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    while data := await loop.sock_recv(raw, 65536):
        await websocket.send_bytes(data)


async def _client_to_dyno(
    websocket: WebSocket,
    raw: socket.socket,
    backend: SchedulerBackend,
    container_id: str,
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("bytes") is not None:
            await loop.sock_sendall(raw, message["bytes"])
        elif message.get("text"):
            await _control(message["text"], backend, container_id)


async def _control(text: str, backend: SchedulerBackend, container_id: str) -> None:
    try:
        rows, cols = json.loads(text)["resize"]
    except (ValueError, KeyError, TypeError):
        return
    await run_sync(backend.resize_terminal, container_id, int(rows), int(cols))


routes = [WebSocketRoute("/v1/apps/{app}/dynos/{dyno}/tty", terminal)]
