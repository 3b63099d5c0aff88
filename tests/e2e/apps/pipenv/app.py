"""A WSGI app whose only dependency, gunicorn, comes from Pipfile.lock."""


def app(environ, start_response):
    """Answer every path with a fixed line."""
    body = b"hello from Pipfile.lock\n"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
