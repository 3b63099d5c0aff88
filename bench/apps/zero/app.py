"""The zero-downtime bench app: answers with its release marker and dyno.

The marker is the code's own (``RELEASE``, rewritten on every bench push)
plus the ``MARKER`` config var, so each deploy and config change shows.
"""

import os
import time

RELEASE = "code-0"


def app(environ, start_response):
    """Answer every path with the markers, after a short pause of work."""
    # A little work per request keeps some requests in flight at every stop.
    time.sleep(0.005)
    marker = os.environ.get("MARKER", "-")
    body = f"{RELEASE} config-{marker} {os.environ.get('DYNO')}\n".encode()
    headers = [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(body))),
    ]
    start_response("200 OK", headers)
    return [body]
