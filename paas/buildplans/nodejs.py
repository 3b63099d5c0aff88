"""Node.js: read package.json, check engines.node, choose the npm commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from paas.buildpacks import Buildpack
from paas.buildplans.base import BuildPlan, Output
from paas.errors import BuildFailed
from paas.runtimes import check_node

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")
OTHER_MANAGERS = ("yarn.lock", "pnpm-lock.yaml")


def read_package_json(source: Path) -> dict[str, Any]:
    """Return package.json as a dict.

    Raises:
        BuildFailed: it is not a JSON object.
    """
    text = (source / "package.json").read_text(errors="replace")
    try:
        package = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildFailed(
            f"package.json is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}): fix it and push again."
        ) from exc
    if not isinstance(package, dict):
        raise BuildFailed(
            "package.json must hold a JSON object: fix it and push again."
        )
    return package


def _mapping(package: dict[str, Any], key: str) -> dict[str, Any]:
    value = package.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BuildFailed(f"package.json field {key!r} must be an object.")
    return value


def plan(buildpack: Buildpack, source: Path, out: Output) -> BuildPlan:
    """Plan a Node.js build.

    Raises:
        BuildFailed: package.json is malformed or engines.node cannot be met.
    """
    package = read_package_json(source)
    scripts = _mapping(package, "scripts")
    out(f"-----> {_version_note(package, buildpack)}")
    lockfile = next((name for name in LOCKFILES if (source / name).is_file()), None)
    _warn_other_managers(source, lockfile, out)
    install = "npm ci" if lockfile else "npm install"
    copied = ["package.json"] + ([lockfile] if lockfile else [])
    if (source / ".npmrc").is_file():
        copied.append(".npmrc")
    variables = {
        "install_command": install,
        "dependency_files": copied,
        "build_script": _build_script(scripts),
        "prune": bool(_mapping(package, "devDependencies")),
    }
    return BuildPlan(variables, _process_types(source, scripts, out))


def _version_note(package: dict[str, Any], buildpack: Buildpack) -> str:
    offered = buildpack.runtime.version if buildpack.runtime else "unknown"
    wanted = _mapping(package, "engines").get("node")
    if wanted is None:
        return f"Using Node.js {offered} (package.json sets no engines.node)"
    if not isinstance(wanted, str):
        raise BuildFailed(
            f"engines.node in package.json is {wanted!r}: write a semver range "
            "string such as '20.x'."
        )
    return check_node(wanted, offered)


def _warn_other_managers(source: Path, lockfile: str | None, out: Output) -> None:
    others = [name for name in OTHER_MANAGERS if (source / name).is_file()]
    if others and lockfile is None:
        out(f" !     Found {', '.join(others)}: this platform installs with npm")
        out("       and ignores it. Commit a package-lock.json to pin versions.")


def _build_script(scripts: dict[str, Any]) -> str | None:
    # Heroku runs heroku-postbuild instead of build when both exist.
    for name in ("heroku-postbuild", "build"):
        if name in scripts:
            return name
    return None


def _process_types(
    source: Path, scripts: dict[str, Any], out: Output
) -> dict[str, str]:
    # 'npm start' runs scripts.start, or 'node server.js' when there is none.
    if "start" in scripts or (source / "server.js").is_file():
        return {"web": "npm start"}
    if (source / "Procfile").is_file():
        return {}
    out(" !     package.json has no 'start' script and there is no server.js,")
    out("       so there is no default web process: add a 'start' script to")
    out("       package.json or a 'web:' line to the Procfile.")
    return {}
