"""A dependency-free app for tests: echoes its environment and requests."""

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/env"):
            body = json.dumps(dict(os.environ)).encode()
        elif self.path.startswith("/sleep"):
            time.sleep(float(self.path.rsplit("/", 1)[-1] or 1))
            body = b"slept"
        elif self.path.startswith("/alloc"):
            hog = bytearray(int(self.path.rsplit("/", 1)[-1]) * 1024 * 1024)
            body = str(len(hog)).encode()
        else:
            body = f"echo from {os.environ.get('DYNO')}\n".encode()
        print(f"served {self.path} on {os.environ.get('DYNO')}", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    print(f"echo app starting on port {os.environ['PORT']}", flush=True)
    sys.stdout.flush()
    ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
