"""What every endpoint needs: the platform's services, and a thread hop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import HTTPConnection

from paas.addons.engine import AddonEngine
from paas.builder import Builder
from paas.platform import Platform
from paas.reconciler import Reconciler


class Services:
    """What the endpoints need, set once when the app is made."""

    def __init__(
        self,
        platform: Platform,
        builder: Builder,
        reconciler: Reconciler,
        token: str,
        addons: AddonEngine | None = None,
    ) -> None:
        self.platform = platform
        self.builder = builder
        self.reconciler = reconciler
        self.token = token
        self.addons = addons


def services(request: HTTPConnection) -> Services:
    """Return the services of the app serving a request."""
    found: Services = request.app.state.services
    return found


async def run_sync(function: Callable[..., Any], *args: Any) -> Any:
    """Run blocking platform code off the event loop."""
    return await asyncio.to_thread(function, *args)
