"""The git receiver: bare repos and the smart-HTTP receive-pack endpoint.

Pushes use git's stateless-RPC protocol over HTTP: ``GET
/<app>.git/info/refs?service=git-receive-pack`` advertises the refs, then
``POST /<app>.git/git-receive-pack`` carries the pack. Both are served by the
real ``git receive-pack``; its pre-receive hook hands the commit to the
builder. See https://git-scm.com/docs/http-protocol.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

from paas.errors import BackendUnavailable, InvalidInput

logger = logging.getLogger(__name__)

HOOK = """#!/bin/sh
# Installed by paas: hand pushed commits to the builder.
exec "{python}" -m paas.hooks.pre_receive
"""


def ensure_repo(path: Path) -> Path:
    """Create a bare repo with our pre-receive hook if it is missing."""
    if not (path / "HEAD").exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [
                    "git",
                    "init",
                    "--bare",
                    "--quiet",
                    "--initial-branch=main",
                    str(path),
                ],
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise BackendUnavailable(
                f"Could not create git repo {path}: {exc}"
            ) from exc
    hook = path / "hooks" / "pre-receive"
    hook.write_text(HOOK.format(python=sys.executable))
    hook.chmod(0o755)
    return path


def pkt_line(text: str) -> bytes:
    """Encode one pkt-line: four hex digits of length, then the data."""
    data = text.encode()
    return f"{len(data) + 4:04x}".encode() + data


async def advertise_refs(repo: Path) -> bytes:
    """Return the ref advertisement for ``info/refs?service=git-receive-pack``."""
    process = await asyncio.create_subprocess_exec(
        "git",
        "receive-pack",
        "--stateless-rpc",
        "--advertise-refs",
        str(repo),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise BackendUnavailable(f"git receive-pack failed: {stderr.decode().strip()}")
    return pkt_line("# service=git-receive-pack\n") + b"0000" + stdout


async def receive_pack(
    repo: Path, pack: Path, hook_env: dict[str, str]
) -> AsyncIterator[bytes]:
    """Run ``git receive-pack`` on a saved request body; yield its answer.

    The body is read in full before the answer starts: a streamed response
    and a streamed request body cannot share one ASGI receive channel.
    """
    with pack.open("rb") as stdin:
        process = await asyncio.create_subprocess_exec(
            "git",
            "receive-pack",
            "--stateless-rpc",
            str(repo),
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            env=os.environ | hook_env,
        )
    try:
        stdout = process.stdout
        while stdout is not None and (chunk := await stdout.read(65536)):
            yield chunk
    finally:
        if process.returncode is None:
            await process.wait()
        pack.unlink(missing_ok=True)


async def save_request_body(
    body: AsyncIterator[bytes], encoding: str, directory: Path
) -> Path:
    """Write a (possibly gzipped) request body to a file and return its path.

    Raises:
        InvalidInput: the body uses an encoding git does not send.
    """
    if encoding not in ("", "identity", "gzip"):
        raise InvalidInput(f"Content-Encoding {encoding!r} is not supported.")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    directory.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=directory, suffix=".pack", delete=False)
    with handle:
        async for chunk in body:
            handle.write(inflate.decompress(chunk) if inflate else chunk)
        if inflate:
            handle.write(inflate.flush())
    return Path(handle.name)
