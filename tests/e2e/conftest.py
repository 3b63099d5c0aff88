"""One real platform shared by the end-to-end tests of a run.

It runs ``paas serve`` in a temporary data dir on free loopback ports, and
on the way out removes every container, network and image it labelled.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "python-getting-started"
APPS = Path(__file__).resolve().parent / "apps"


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Result:
    """What a command printed and how it ended."""

    code: int
    stdout: str
    stderr: str

    @property
    def remote(self) -> str:
        """Return stderr with git's padding after ``remote:`` lines removed."""
        return "\n".join(line.rstrip() for line in self.stderr.splitlines())

    @property
    def output(self) -> str:
        """Return stdout and stderr together."""
        return self.stdout + self.stderr


@dataclass
class Platform:
    """A running platform and helpers to drive it as a user would."""

    home: Path
    api_port: int
    router_port: int
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        """Return the API token the platform created."""
        return (self.home / "token").read_text().strip()

    @property
    def platform_id(self) -> str:
        """Return the id the platform labels its Docker objects with."""
        return (self.home / "platform-id").read_text().strip()

    def paas(self, *args: str, cwd: Path | None = None, timeout: float = 300) -> Result:
        """Run the paas CLI."""
        command = [sys.executable, "-m", "paas.cli", *args]
        done = subprocess.run(
            command,
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def git(self, *args: str, cwd: Path, timeout: float = 600) -> Result:
        """Run git with the platform's environment."""
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def get(self, app: str, path: str = "/", **kwargs: object) -> httpx.Response:
        """Send a request through the router by the app's host name."""
        url = f"http://127.0.0.1:{self.router_port}{path}"
        headers = {"Host": f"{app}.localhost"}
        return httpx.get(url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """Call the API with the token."""
        url = f"http://127.0.0.1:{self.api_port}{path}"
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, url, headers=headers, timeout=120, **kwargs)  # type: ignore[arg-type]


def wait_for_api(port: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until the API answers, or fail with the server's output."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("paas serve exited during start")
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/version", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("paas serve did not answer within 30 s")


def start_platform(home: Path, api_port: int, router_port: int) -> Platform:
    """Start ``paas serve`` with its own data dir and ports."""
    env = os.environ | {
        "PAAS_HOME": str(home),
        "PAAS_API_PORT": str(api_port),
        "PAAS_ROUTER_PORT": str(router_port),
        "PAAS_URL": f"http://127.0.0.1:{api_port}",
        "PAAS_CONFIG_DIR": str(home / "cli"),
        "PAAS_STOP_TIMEOUT": "3",
        "PAAS_BOOT_TIMEOUT": "12",
        # Seconds to a first response byte (H12): 30 s is too long for tests.
        "PAAS_ROUTER_REQUEST_TIMEOUT": "4",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    env.pop("PAAS_TOKEN", None)
    with (home / "serve.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "paas.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_for_api(api_port, process)
    return Platform(home, api_port, router_port, process, env)


def stop_platform(platform: Platform) -> None:
    """Stop ``paas serve`` and its router processes."""
    if platform.process.poll() is None:
        os.killpg(platform.process.pid, signal.SIGTERM)
        try:
            platform.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(platform.process.pid, signal.SIGKILL)
            platform.process.wait()


def restart_platform(platform: Platform) -> None:
    """Stop a platform and start it again on its data dir and ports."""
    stop_platform(platform)
    again = start_platform(platform.home, platform.api_port, platform.router_port)
    platform.process = again.process


def remove_docker_objects(platform_id: str) -> None:
    """Remove every container, volume, network and image a platform labelled."""
    client = docker.from_env()
    label = {"label": f"paas.platform={platform_id}"}
    for container in client.containers.list(all=True, filters=label):
        container.remove(force=True, v=True)
    for volume in client.volumes.list(filters=label):
        volume.remove(force=True)
    for network in client.networks.list(filters=label):
        network.remove()
    for image in client.images.list(filters=label):
        client.images.remove(image.id, force=True)
    client.close()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Start one platform for the whole run and clean up after it."""
    home = tmp_path_factory.mktemp("paas-home")
    running = start_platform(home, free_port(), free_port())
    try:
        yield running
    finally:
        platform_id = running.platform_id
        stop_platform(running)
        remove_docker_objects(platform_id)
        if os.environ.get("PAAS_KEEP_HOME") is None:
            shutil.rmtree(home, ignore_errors=True)


def make_repo(path: Path, source: Path, env: dict[str, str]) -> Path:
    """Copy an app into a fresh git repo with one commit."""
    shutil.copytree(source, path)
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=path, env=env, check=True)
    return path


def commit_all(path: Path, env: dict[str, str], message: str) -> None:
    """Commit every change in a repo."""
    subprocess.run(["git", "add", "-A"], cwd=path, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=path, env=env, check=True)


@pytest.fixture(scope="session")
def local_registry() -> str:
    """Start the local registry and fill it offline; return its host.

    deploy/registry and deploy/registry-fill find what is already there and
    return quickly on a second run.
    """
    if os.getuid() != 0:
        pytest.skip("deploy/registry installs and starts a registry: run as root")
    for script in ("registry", "registry-fill"):
        done = subprocess.run(
            [str(ROOT / "deploy" / script)],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"deploy/{script} failed:\n{done.stdout}{done.stderr}")
    return "127.0.0.1:5000"


@pytest.fixture
def new_app(platform: Platform, tmp_path: Path) -> Iterator[str]:
    """Create an app named for the test and destroy it afterwards."""
    name = f"t{os.getpid() % 1000}-{time.monotonic_ns() % 10**8}"
    created = platform.paas("apps:create", name, "--no-remote")
    assert created.code == 0, created.output
    yield name
    platform.paas("apps:destroy", name, "--confirm", name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e as e2e."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)


def wait_for(check: Callable[[], object], timeout: float = 30) -> None:
    """Poll a callable until it returns something true, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"condition not met within {timeout:g} s")


def deploy_app(platform: Platform, name: str, repo: Path) -> Result:
    """Create an app, point the repo's paas remote at it and push main."""
    created = platform.paas("apps:create", name, "--no-remote")
    assert created.code == 0, created.output
    platform.paas("git:remote", "-a", name, cwd=repo)
    return platform.git("push", "paas", "main", cwd=repo)
