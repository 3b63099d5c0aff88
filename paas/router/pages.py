"""The router's error pages: Heroku's codes and the responses that carry them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import jinja2

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "errors"


@dataclass(frozen=True)
class ErrorCode:
    """One of Heroku's router error codes."""

    code: str
    status: int
    desc: str
    title: str
    message: str


_DOWN = "The app is not answering right now. Try again in a moment."
ERROR_CODES = {
    e.code: e
    for e in [
        ErrorCode("H10", 503, "App crashed", "Application error", _DOWN),
        ErrorCode(
            "H12",
            503,
            "Request timeout",
            "Request timeout",
            "The app took too long to start its answer.",
        ),
        ErrorCode(
            "H13",
            503,
            "Connection closed without response",
            "Application error",
            _DOWN,
        ),
        ErrorCode(
            "H14",
            503,
            "No web processes running",
            "No web dynos running",
            "The app has no web dynos running to answer requests.",
        ),
        ErrorCode("H15", 503, "Idle connection", "Application error", _DOWN),
        ErrorCode(
            "H17", 503, "Poorly formatted HTTP response", "Application error", _DOWN
        ),
        ErrorCode("H18", 503, "Server Request Interrupted", "Application error", _DOWN),
        ErrorCode("H19", 503, "Backend connection timeout", "Application error", _DOWN),
        ErrorCode(
            "H20",
            503,
            "App boot timeout",
            "Application starting",
            "The app is still starting. Try again in a moment.",
        ),
        ErrorCode("H21", 503, "Backend connection refused", "Application error", _DOWN),
        ErrorCode(
            "H81",
            503,
            "Blank app",
            "Nothing here yet",
            "This app has not been deployed yet: push code to it first.",
        ),
    ]
}
REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    414: b"URI Too Long",
    417: b"Expectation Failed",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
    505: b"HTTP Version Not Supported",
}


class ErrorPages:
    """Render each error page once and build the responses that carry them."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        loader = jinja2.FileSystemLoader(str(templates_dir))
        self._env = jinja2.Environment(loader=loader, autoescape=True)
        self._app_pages: dict[tuple[str, str | None], bytes] = {}
        self._bad_pages: dict[tuple[int, str], bytes] = {}
        self.not_found = self._render("no_such_app.html")
        for code in ERROR_CODES:
            self.app_error(code, None)

    def _render(self, name: str, **context: object) -> bytes:
        logger.debug("Rendering error page %s %s", name, context)
        return self._env.get_template(name).render(**context).encode()

    def app_error(self, code: str, error_page_url: str | None) -> bytes:
        """Return the page for an H code, linking the app's own page if any."""
        key = (code, error_page_url)
        page = self._app_pages.get(key)
        if page is None:
            error = ERROR_CODES[code]
            page = self._render(
                "app_error.html",
                code=code,
                title=error.title,
                message=error.message,
                error_page_url=error_page_url,
            )
            if len(self._app_pages) < 1000:
                self._app_pages[key] = page
        return page

    def bad_request(self, status: int, reason: str) -> bytes:
        """Return the page for a request the router refuses."""
        key = (status, reason)
        page = self._bad_pages.get(key)
        if page is None:
            page = self._render(
                "bad_request.html",
                status=status,
                reason=REASONS.get(status, b"Error").decode(),
                detail=reason,
            )
            self._bad_pages[key] = page
        return page


def build_response(
    status: int, page: bytes, request_id: bytes, close: bool, head_only: bool
) -> bytes:
    """Return a whole HTML response for a page the router answers by itself."""
    reason = REASONS.get(status, b"Error")
    lines = [
        b"HTTP/1.1 %d %s" % (status, reason),
        b"Content-Type: text/html; charset=utf-8",
        b"Content-Length: %d" % len(page),
        b"Cache-Control: no-cache, no-store",
        b"X-Request-Id: " + request_id,
        b"Via: 1.1 paas",
    ]
    if close:
        lines.append(b"Connection: close")
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    return head if head_only else head + page
