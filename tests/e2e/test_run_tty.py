"""paas run on a terminal: an interactive shell in a one-off dyno."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

from tests.e2e.conftest import APPS, Platform, make_repo, wait_for


def run_on_terminal(
    platform: Platform, args: list[str], typed: bytes
) -> tuple[str, int]:
    """Run the CLI on a pseudo-terminal, type once a prompt shows; return output."""
    pid, fd = pty.fork()
    if pid == 0:
        env = platform.env | {"TERM": "xterm"}
        os.execve(sys.executable, [sys.executable, "-m", "paas.cli", *args], env)
    output = b""
    sent = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            output += data
        if not sent and b"$ " in output:
            os.write(fd, typed)
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return output.decode(errors="replace"), os.waitstatus_to_exitcode(status)


def test_run_bash_on_a_terminal(
    platform: Platform, tmp_path: Path, new_app: str
) -> None:
    repo = make_repo(tmp_path / "app", APPS / "echo", platform.env)
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    assert platform.git("push", "paas", "main", cwd=repo).code == 0
    typed = b"echo tty-$DYNO; tty; exit 5\r"
    output, code = run_on_terminal(platform, ["run", "-a", new_app, "bash"], typed)
    assert code == 5
    assert "tty-run." in output
    assert "/dev/pts/" in output


def test_terminal_whose_client_dies_is_stopped(
    platform: Platform, tmp_path: Path, new_app: str
) -> None:
    repo = make_repo(tmp_path / "app", APPS / "echo", platform.env)
    platform.paas("git:remote", "-a", new_app, cwd=repo)
    assert platform.git("push", "paas", "main", cwd=repo).code == 0
    pid, fd = pty.fork()
    if pid == 0:
        env = platform.env | {"TERM": "xterm"}
        args = ["-m", "paas.cli", "run", "-a", new_app, "bash"]
        os.execve(sys.executable, [sys.executable, *args], env)
    output = b""
    deadline = time.monotonic() + 60
    while b"$ " not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            output += os.read(fd, 4096)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)
    assert b"$ " in output

    def stopped() -> bool:
        return "run." not in platform.paas("ps", "-a", new_app).stdout

    wait_for(stopped, timeout=60)
