"""What every endpoint needs: the platform's services, and a thread hop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import HTTPConnection

from paas.addons.engine import AddonEngine
from paas.builder import Builder
from paas.errors import InvalidInput
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


def count_param(
    request: HTTPConnection, name: str, default: int, maximum: int | None = None
) -> int:
    """Read a count from the query string: a whole number, 0 or more.

    Counts above ``maximum`` are cut to it.

    Raises:
        InvalidInput: the value is not a whole number, or is negative.
    """
    try:
        count = int(request.query_params.get(name, str(default)) or default)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a whole number.") from exc
    if count < 0:
        top = f"0 to {maximum}" if maximum is not None else "0 or more"
        raise InvalidInput(f"{name} {count} is invalid: give {top}.")
    return count if maximum is None else min(count, maximum)
