"""Token authentication for every API and git request."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import secrets
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send


def load_or_create_token(path: Path) -> tuple[str, bool]:
    """Return the API token, creating it (mode 0600) on first start.

    Returns:
        The token, and whether it was created now.
    """
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token, True


def token_from_header(value: str) -> str | None:
    """Return the token of an Authorization header (Bearer, or Basic password)."""
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


class TokenAuthMiddleware:
    """Answer 401 to any HTTP request without the platform's token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass authorised requests on; refuse the rest."""
        if scope["type"] not in ("http", "websocket") or self._authorised(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # Closing before accepting makes the server answer the upgrade 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps(
            {
                "id": "unauthorized",
                "error": "Missing or wrong API token. Run 'paas login' or set "
                "PAAS_TOKEN.",
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # git asks its credential helpers only after a Basic challenge.
            (b"www-authenticate", b'Basic realm="paas"'),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _authorised(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = token_from_header(value.decode("latin-1"))
                return token is not None and hmac.compare_digest(
                    token.encode(), self.token
                )
        return False
