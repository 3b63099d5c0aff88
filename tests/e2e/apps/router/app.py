"""A test app for the router: it reports what reached it and misbehaves on cue.

Python standard library only. Paths:

- ``/echo...`` (any method): reads the body as it comes (Content-Length or
  chunked, never held whole) and answers JSON: method, path, headers, body
  length, and the peer address the request came from.
- ``/download/N`` (``?chunked=1``): streams N bytes, fixed-length or chunked.
- ``/sleep/S``: answers after S seconds.
- ``/close``: closes the connection without answering.
- ``/status/CODE``: answers CODE (204 and 304 without a body).
- ``/hop``: a response carrying hop-by-hop header fields.
- ``/ws``: a WebSocket that echoes every message.
"""

import base64
import hashlib
import json
import os
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BLOCK = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def __getattr__(self, name: str) -> object:
        # Every method goes to one dispatcher, whatever its name.
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/download/"):
            self.download(int(path.rsplit("/", 1)[1]), "chunked=1" in self.path)
        elif path.startswith("/sleep/"):
            time.sleep(float(path.rsplit("/", 1)[1]))
            self.answer(200, b"slept\n")
        elif path == "/close":
            self.close_connection = True
        elif path.startswith("/status/"):
            self.status(int(path.rsplit("/", 1)[1]))
        elif path == "/hop":
            extra = {"Keep-Alive": "timeout=99", "Proxy-Thing": "secret"}
            self.answer(200, b"hop\n", extra)
        elif path == "/ws":
            self.websocket()
        else:
            self.echo()

    def answer(self, code: int, body: bytes, extra: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def echo(self) -> None:
        received = self.read_body()
        report = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_length": received,
            "peer": f"{self.client_address[0]}:{self.client_address[1]}",
            "dyno": os.environ.get("DYNO"),
        }
        self.answer(
            200, json.dumps(report).encode(), {"Content-Type": "application/json"}
        )

    def read_body(self) -> int:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        remaining = int(self.headers.get("Content-Length") or 0)
        total = 0
        while remaining:
            data = self.rfile.read(min(BLOCK, remaining))
            if not data:
                break
            total += len(data)
            remaining -= len(data)
        return total

    def read_chunked(self) -> int:
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return total
            while size:
                data = self.rfile.read(min(BLOCK, size))
                total += len(data)
                size -= len(data)
            self.rfile.readline()

    def download(self, size: int, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        block = b"x" * BLOCK
        left = size
        while left:
            part = block[: min(BLOCK, left)]
            left -= len(part)
            if chunked:
                part = b"%x\r\n%s\r\n" % (len(part), part)
            self.wfile.write(part)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def status(self, code: int) -> None:
        self.send_response(code)
        if code == 304:
            # A 304 may name the length of the body it stands for; no body follows.
            self.send_header("Content-Length", "10")
            self.send_header("ETag", '"v1"')
        elif code != 204:
            self.send_header("Content-Length", "0")
        self.end_headers()

    def websocket(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.close_connection = True
        while True:
            frame = self.read_frame()
            if frame is None:
                return
            opcode, payload = frame
            if opcode == 8:
                self.send_frame(8, payload[:2])
                return
            self.send_frame(10 if opcode == 9 else opcode, payload)

    def read_frame(self) -> tuple[int, bytes] | None:
        head = self.rfile.read(2)
        if len(head) < 2:
            return None
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(length)
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def send_frame(self, opcode: int, payload: bytes) -> None:
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        self.wfile.write(head + payload)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    print(f"router test app on port {os.environ['PORT']}", flush=True)
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    server.serve_forever()
