"""An app for add-on tests: notes in Postgres and Redis, and a TCP probe.

GET /db/add/TEXT     insert a note through DATABASE_URL
GET /db/notes        the notes, one a line
GET /redis/set/TEXT  set a key through REDIS_URL
GET /redis/get       the key's value
GET /probe/HOST/PORT resolved or not, then open or closed
"""

import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

import pg8000.native
import redis


def database() -> pg8000.native.Connection:
    url = urlparse(os.environ["DATABASE_URL"])
    return pg8000.native.Connection(
        user=url.username,
        password=url.password,
        host=url.hostname,
        port=url.port or 5432,
        database=url.path.lstrip("/"),
        timeout=10,
    )


def db_add(text: str) -> str:
    db = database()
    try:
        db.run("CREATE TABLE IF NOT EXISTS notes (body TEXT NOT NULL)")
        db.run("INSERT INTO notes VALUES (:body)", body=text)
    finally:
        db.close()
    return "added"


def db_notes() -> str:
    db = database()
    try:
        db.run("CREATE TABLE IF NOT EXISTS notes (body TEXT NOT NULL)")
        rows = db.run("SELECT body FROM notes ORDER BY body")
    finally:
        db.close()
    return "".join(f"{row[0]}\n" for row in rows)


def redis_set(text: str) -> str:
    redis.from_url(os.environ["REDIS_URL"], socket_timeout=10).set("note", text)
    return "set"


def redis_get() -> str:
    value = redis.from_url(os.environ["REDIS_URL"], socket_timeout=10).get("note")
    return (value or b"").decode()


def probe(host: str, port: str) -> str:
    try:
        address = socket.getaddrinfo(host, int(port))[0][4][0]
    except OSError:
        return "unresolved"
    try:
        with socket.create_connection((address, int(port)), timeout=3):
            return "open"
    except OSError:
        return "closed"


def answer(path: str) -> str:
    parts = [unquote(part) for part in path.strip("/").split("/")]
    if parts[:2] == ["db", "add"]:
        return db_add(parts[2])
    if parts == ["db", "notes"]:
        return db_notes()
    if parts[:2] == ["redis", "set"]:
        return redis_set(parts[2])
    if parts == ["redis", "get"]:
        return redis_get()
    if parts[0] == "probe":
        return probe(parts[1], parts[2])
    return "addons test app\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        try:
            body, status = answer(self.path).encode(), 200
        except Exception as exc:
            body, status = f"{type(exc).__name__}: {exc}".encode(), 500
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    port = int(os.environ["PORT"])
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
