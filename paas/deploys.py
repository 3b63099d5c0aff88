"""Deploying a push: build the commit, make a release, roll it out."""

from __future__ import annotations

import logging
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from paas.builder import Builder, BuildResult, extract_source
from paas.errors import BuildFailed, DeployFailed, InvalidInput, PaasError
from paas.healthcheck import load_app_config, parse_start_first
from paas.platform import Platform
from paas.registry import push_image, release_registry_from_env
from paas.rollout import roll_out
from paas.store import Build, Release

logger = logging.getLogger(__name__)

ZERO = "0" * 40
# Seconds to wait for git to write the ref of the push that deployed last.
LANDING_WAIT = 10.0

Output = Callable[[str], None]


def new_build_id() -> str:
    """Return a fresh build id (also the image tag)."""
    return secrets.token_hex(6)


def deploy_push(
    platform: Platform,
    builder: Builder,
    app: str,
    archive: Path,
    commit: str,
    out: Output,
    pushed: tuple[str, str] | None = None,
) -> Release:
    """Build a pushed commit and release it.

    Args:
        pushed: the ref pushed to and the commit it pointed at before the
            push; the push is refused when the ref moved meanwhile.

    Raises:
        BuildFailed: the commit could not be built, or another push landed
            first; nothing changed.
        DeployFailed: the release did not come up; the old one still serves.
    """

    def waiting() -> None:
        out(f"-----> Another change of {app} is in progress; waiting for it")

    with platform.changing(app, "the deploy", on_wait=waiting):
        if pushed is not None:
            check_ref_unmoved(platform, app, *pushed)
        build = _start_build(platform, app, commit)
        captured = _capturing(out, build)
        result, start_first = _run_build(platform, builder, build, archive, captured)
        push_release_image(builder, result.image, captured)
        release = _release_build(platform, build, result, start_first, captured)
        if pushed is not None:
            platform.landing[(app, pushed[0])] = commit
        return release


def check_ref_unmoved(platform: Platform, app: str, ref: str, old: str) -> None:
    """Refuse a push whose ref moved while it waited for another change.

    git updates the ref only after the pre-receive hook of the push before
    has ended, so first wait (briefly) for that push's commit to land.

    Raises:
        BuildFailed: the ref no longer points at ``old``.
    """
    repo = platform.settings.repos_dir / f"{app}.git"
    landing = platform.landing.pop((app, ref), None)
    deadline = time.monotonic() + LANDING_WAIT
    current = read_ref(repo, ref)
    while landing is not None and current != landing and time.monotonic() < deadline:
        time.sleep(0.05)
        current = read_ref(repo, ref)
    if current != old:
        branch = ref.removeprefix("refs/heads/")
        raise BuildFailed(
            f"Another push updated {branch} to {current[:7]} while this one "
            f"waited. Run 'git pull paas {branch}', then push again."
        )


def read_ref(repo: Path, ref: str) -> str:
    """Return the commit a ref of a bare repo points at (zeros if none)."""
    found = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "-q", ref],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() if found.returncode == 0 else ZERO


def _start_build(platform: Platform, app: str, commit: str) -> Build:
    build = Build(
        id=new_build_id(),
        app=app,
        status="building",
        commit=commit,
        buildpack=None,
        image=None,
        started_at=time.time(),
        finished_at=None,
    )
    platform.store.create_build(build)
    platform.event(app, f"Build {build.id} started for {commit[:7]}")
    return build


def _capturing(out: Output, build: Build) -> Output:
    def emit(line: str) -> None:
        build.output += line + "\n"
        out(line)

    return emit


def _run_build(
    platform: Platform, builder: Builder, build: Build, archive: Path, out: Output
) -> tuple[BuildResult, list[str]]:
    app = platform.store.get_app(build.app)
    try:
        with tempfile.TemporaryDirectory(prefix="paas-build-") as tmp:
            source = Path(tmp)
            extract_source(archive, source)
            start_first = read_start_first(source)
            result = builder.build(
                app.name, build.id, source, out, app.buildpack, app.config_vars
            )
    except PaasError as exc:
        # The pusher sees this line from the caller; the record keeps it too.
        build.output += f" !     {exc.message}\n"
        _finish_build(platform, build, "failed")
        platform.event(app.name, f"Build {build.id} failed")
        raise BuildFailed(exc.message) from exc
    except Exception:
        # A fault of ours: the record must still end, not stay 'building'.
        build.output += " !     The platform failed during the build.\n"
        _finish_build(platform, build, "failed")
        platform.event(app.name, f"Build {build.id} failed")
        raise
    build.buildpack = result.buildpack
    build.image = result.image
    _finish_build(platform, build, "succeeded")
    if app.buildpack is None:
        platform.store.set_buildpack(app.name, result.buildpack)
    return result, start_first


def read_start_first(source: Path) -> list[str]:
    """Return the process types paas.yaml replaces start-first.

    Raises:
        BuildFailed: paas.yaml is malformed.
    """
    try:
        return parse_start_first(load_app_config(source).get("processes"))
    except InvalidInput as exc:
        raise BuildFailed(exc.message) from exc


def _finish_build(platform: Platform, build: Build, status: str) -> None:
    build.status = status
    build.finished_at = time.time()
    platform.store.finish_build(build)


def push_release_image(builder: Builder, image: str, out: Output) -> None:
    """Push a built image to PAAS_RELEASE_REGISTRY, when one is set.

    A push that fails fails the deploy: a release whose image the registry
    lacks could not be pulled again from it (another host, a restore).

    Raises:
        DeployFailed: the setting is malformed, or the registry refused or
            failed the push; nothing is released.
    """
    try:
        registry = release_registry_from_env()
        if registry is None:
            return
        out(f"-----> Pushing the image to {registry.host}")
        target = push_image(image, registry, out, client=builder.client)
    except PaasError as exc:
        raise DeployFailed(
            f"{exc.message.rstrip('.')}. Nothing was released: fix the registry "
            "or unset PAAS_RELEASE_REGISTRY, then push again."
        ) from exc
    out(f"       Pushed {target}")


def _release_build(
    platform: Platform,
    build: Build,
    result: BuildResult,
    start_first: list[str],
    out: Output,
) -> Release:
    app = platform.store.get_app(build.app)
    if "web" not in result.process_types:
        out(" !     No web process type declared: this app will get no HTTP traffic.")
        out(" !     Add a 'web: <command>' line to the Procfile to serve requests.")
    out("-----> Launching...")
    release = platform.store.create_release(
        app.name,
        description=f"Deploy {(build.commit or '')[:7]}",
        image=result.image,
        commit=build.commit,
        build_id=build.id,
        config_vars=app.config_vars,
        process_types=result.process_types,
        created_by="git push",
        healthcheck=result.healthcheck.to_json() if result.healthcheck else None,
        start_first=start_first,
    )
    # A failure's message reaches the pusher from the caller, once.
    roll_out(platform, release, out)
    platform.event(app.name, f"Release v{release.version} created by git push")
    out(f"       Released v{release.version}")
    out(f"       {platform.settings.app_url(app.name)} deployed to paas")
    return release
