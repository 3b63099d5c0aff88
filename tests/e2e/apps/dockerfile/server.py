"""Answer every GET with a greeting set by the image's ENTRYPOINT."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"{os.environ.get('GREETING')} on {os.environ.get('DYNO')}\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body.encode())


HTTPServer(("", int(os.environ["PORT"])), Handler).serve_forever()
