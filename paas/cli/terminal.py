"""``paas run`` on a terminal: raw mode, bytes over a WebSocket, exit code."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import termios
import threading
import tty
from types import FrameType

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from paas.cli.client import Client, CliError


def terminal_env() -> dict[str, str]:
    """Return TERM, COLUMNS and LINES of the local terminal."""
    size = shutil.get_terminal_size()
    return {
        "TERM": os.environ.get("TERM", "xterm"),
        "COLUMNS": str(size.columns),
        "LINES": str(size.lines),
    }


def run_in_terminal(client: Client, app: str, dyno: str) -> int:
    """Attach the local terminal to a one-off dyno; return its exit code."""
    url = client.url.replace("http", "ws", 1) + f"/v1/apps/{app}/dynos/{dyno}/tty"
    headers = {"Authorization": f"Bearer {client.token}"}
    try:
        connection = connect(url, additional_headers=headers, max_size=None)
    except (OSError, ValueError) as exc:
        raise CliError(f"Could not open a terminal on {dyno}: {exc}.") from exc
    saved = termios.tcgetattr(sys.stdin.fileno())
    try:
        tty.setraw(sys.stdin.fileno())
        _send_size(connection)
        _watch_resizes(connection)
        threading.Thread(target=_pump_stdin, args=(connection,), daemon=True).start()
        return _pump_output(connection)
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
        connection.close()


def _send_size(connection: ClientConnection) -> None:
    size = shutil.get_terminal_size()
    connection.send(json.dumps({"resize": [size.lines, size.columns]}))


def _watch_resizes(connection: ClientConnection) -> None:
    def resized(signum: int, frame: FrameType | None) -> None:
        _send_size(connection)

    signal.signal(signal.SIGWINCH, resized)


def _pump_stdin(connection: ClientConnection) -> None:
    try:
        while data := os.read(sys.stdin.fileno(), 4096):
            connection.send(data)
    except (OSError, ConnectionClosed):
        return


def _pump_output(connection: ClientConnection) -> int:
    out = sys.stdout.buffer
    try:
        for message in connection:
            if isinstance(message, bytes):
                out.write(message)
                out.flush()
                continue
            control = json.loads(message)
            if "error" in control:
                raise CliError(control["error"])
            if "exit" in control:
                return int(control["exit"])
    except ConnectionClosed:
        pass
    return 1
