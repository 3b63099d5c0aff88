"""The pre-receive hook of every app repo: hand pushed commits to the builder.

git runs it with the pushed refs on stdin (``old new ref`` lines) and relays
what it prints to the pusher as ``remote:`` lines; a non-zero exit rejects
the push (``pre-receive hook declined``) and leaves the refs as they were.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import IO

import httpx

DEPLOY_REFS = ("refs/heads/main", "refs/heads/master")
ZERO = "0" * 40
RESULT_PREFIX = "\x00paas-result "


def say(line: str) -> None:
    """Print one line to the pusher at once."""
    print(line, flush=True)


def main() -> int:
    """Build and release the pushed main/master commit; return the exit code."""
    updates = [line.split() for line in sys.stdin if line.strip()]
    status = 0
    for old, new, ref in updates:
        if new == ZERO:
            continue
        if ref not in DEPLOY_REFS:
            branch = ref.removeprefix("refs/heads/")
            say(f"-----> Pushed to branch {branch!r}: accepted, not built.")
            say(
                "       Only main or master deploy. Run 'git push paas "
                f"{branch}:main' to deploy it."
            )
            continue
        status |= deploy(new, old, ref)
    return status


def deploy(commit: str, old: str = ZERO, ref: str = DEPLOY_REFS[0]) -> int:
    """Send the commit's tree to the control plane and relay its output.

    The control plane refuses the push when ``ref`` no longer points at
    ``old`` once its turn comes (another push landed meanwhile).
    """
    with tempfile.NamedTemporaryFile(suffix=".tar") as archive:
        command = ["git", "archive", "--format=tar", commit]
        subprocess.run(command, stdout=archive, check=True)
        archive.seek(0)
        return stream_build(archive, commit, old, ref)


def stream_build(
    archive: IO[bytes], commit: str, old: str = ZERO, ref: str = DEPLOY_REFS[0]
) -> int:
    """POST the archive to the control plane; print what it streams back."""
    url = f"{os.environ['PAAS_API_URL']}/v1/apps/{os.environ['PAAS_APP']}/builds"
    headers = {"Authorization": f"Bearer {os.environ['PAAS_HOOK_TOKEN']}"}
    chunks = iter(lambda: archive.read(1 << 16), b"")
    timeout = httpx.Timeout(30, read=None)
    ok = False
    try:
        with httpx.stream(
            "POST",
            url,
            params={"commit": commit, "old": old, "ref": ref},
            content=chunks,
            headers=headers,
            timeout=timeout,
        ) as response:
            for line in response.iter_lines():
                if line.startswith(RESULT_PREFIX):
                    ok = line.removeprefix(RESULT_PREFIX) == "ok"
                else:
                    say(line)
    except httpx.HTTPError as exc:
        say(f" !     The control plane did not answer: {exc}")
    if not ok:
        say(" !     Push rejected.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
