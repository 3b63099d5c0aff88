"""Python: which files say what to install, which Python, and Django.

One package manager file per app: ``requirements.txt``, ``Pipfile.lock`` or
a ``pyproject.toml`` that declares dependencies. ``Pipfile.lock`` is turned
into a pip requirements file here (with its hashes), so the build needs no
pipenv. A ``pyproject.toml`` whose dependencies are static has them
installed in a layer of their own, before the code is copied.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paas.buildpacks import Buildpack, find_buildpack
from paas.buildplans.base import BuildPlan, Output
from paas.errors import BuildFailed
from paas.runtimes import check_python, read_python_request, short

REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# pip's own fallback when pyproject.toml has no [build-system] (PEP 518).
DEFAULT_BUILD_REQUIRES = ["setuptools>=40.8.0"]
GENERATED = "requirements.txt"


@dataclass
class PythonPlan:
    """How a Python app is installed, and what the build says about it."""

    manager: str
    manager_file: str
    requirements: list[str] = field(default_factory=list)
    require_hashes: bool = False
    django: bool = False
    notes: list[str] = field(default_factory=list)


def stack_python_version() -> str:
    """Return the Python version the stack offers, from the buildpack's data."""
    runtime = find_buildpack("python").runtime
    return runtime.version if runtime else "3.13"


def plan_python_build(source: Path, offered: str | None = None) -> PythonPlan:
    """Decide how a Python app is built.

    Raises:
        BuildFailed: no or several package manager files, an unreadable
            one, or a Python version the stack does not offer.
    """
    pyproject = read_pyproject(source)
    manager, manager_file = choose_manager(source, pyproject)
    plan = PythonPlan(manager, manager_file)
    if manager == "pipfile":
        lock = read_pipfile_lock(source)
        plan.requirements, plan.require_hashes = pipfile_requirements(lock)
        if not plan.require_hashes and any(
            entry.get("hashes")
            for entry in (lock.get("default") or {}).values()
            if isinstance(entry, dict)
        ):
            # pip checks hashes for all packages or for none.
            plan.notes.append(
                "Warning: some packages in Pipfile.lock have no hashes, so no "
                "hash is checked. Run 'pipenv lock' to hash them all."
            )
    elif manager == "pyproject" and has_static_dependencies(pyproject):
        plan.requirements = pyproject_requirements(pyproject)
    elif manager == "pyproject":
        plan.manager = "project"
    plan.notes.append(python_version_note(source, offered or stack_python_version()))
    plan.django = is_django(source, plan, pyproject)
    return plan


def read_pyproject(source: Path) -> dict[str, Any] | None:
    """Return the parsed ``pyproject.toml``, or None without one.

    Raises:
        BuildFailed: the file is not valid TOML.
    """
    path = source / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        return tomllib.loads(path.read_text(errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        raise BuildFailed(f"pyproject.toml is not valid TOML: {exc}.") from exc


def declares_dependencies(pyproject: dict[str, Any] | None) -> bool:
    """Tell whether a pyproject.toml lists what to install (not just tools)."""
    if pyproject is None:
        return False
    project = pyproject.get("project") or {}
    poetry = (pyproject.get("tool") or {}).get("poetry") or {}
    return bool(
        project.get("dependencies")
        or "dependencies" in (project.get("dynamic") or [])
        or poetry.get("dependencies")
    )


def has_static_dependencies(pyproject: dict[str, Any] | None) -> bool:
    """Tell whether pyproject.toml's dependencies can be read without building."""
    project = (pyproject or {}).get("project")
    if not isinstance(project, dict):
        return False
    return "dependencies" not in (project.get("dynamic") or [])


def choose_manager(source: Path, pyproject: dict[str, Any] | None) -> tuple[str, str]:
    """Return the install mode and the file that decides it.

    Raises:
        BuildFailed: none or more than one package manager file.
    """
    found = [
        name
        for name, present in [
            ("requirements.txt", (source / "requirements.txt").is_file()),
            ("Pipfile.lock", (source / "Pipfile.lock").is_file()),
            ("Pipfile", (source / "Pipfile").is_file()),
            ("pyproject.toml", declares_dependencies(pyproject)),
        ]
        if present
    ]
    if "Pipfile.lock" in found and "Pipfile" in found:
        found.remove("Pipfile")
    if len(found) > 1:
        raise BuildFailed(
            f"This app has more than one package manager file: {', '.join(found)}. "
            "Keep the one that lists the app's dependencies and delete the "
            "others, so that one set of dependencies is installed."
        )
    if found == ["Pipfile"]:
        raise BuildFailed(
            "Pipfile has no Pipfile.lock beside it: run 'pipenv lock' and "
            "commit Pipfile.lock, so the build installs the versions you tested."
        )
    if found:
        return _MODES[found[0]], found[0]
    return _fallback_manager(source, pyproject)


_MODES = {
    "requirements.txt": "requirements",
    "Pipfile.lock": "pipfile",
    "pyproject.toml": "pyproject",
}


def _fallback_manager(
    source: Path, pyproject: dict[str, Any] | None
) -> tuple[str, str]:
    if pyproject is not None and "project" in pyproject:
        return "pyproject", "pyproject.toml"
    if (source / "setup.py").is_file():
        return "project", "setup.py"
    raise BuildFailed(
        "No Python package manager file found: add requirements.txt (it may "
        "be empty), a pyproject.toml with a [project] table, or Pipfile.lock."
    )


def pyproject_requirements(pyproject: dict[str, Any] | None) -> list[str]:
    """Return the build backend and dependencies of a static pyproject.toml.

    With dynamic dependencies it returns nothing and the whole project is
    installed with its code (see ``PythonPlan.manager == "project"``).
    """
    if pyproject is None:
        return []
    project = pyproject.get("project") or {}
    build_system = pyproject.get("build-system") or {}
    requires = list(build_system.get("requires") or DEFAULT_BUILD_REQUIRES)
    return [str(item) for item in requires + list(project.get("dependencies") or [])]


def read_pipfile_lock(source: Path) -> dict[str, Any]:
    """Return the parsed Pipfile.lock.

    Raises:
        BuildFailed: it is not a JSON object.
    """
    try:
        data = json.loads((source / "Pipfile.lock").read_text(errors="replace"))
    except json.JSONDecodeError as exc:
        raise BuildFailed(
            f"Pipfile.lock is not valid JSON ({exc}): run 'pipenv lock' again."
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("default", {}), dict):
        raise BuildFailed("Pipfile.lock has no 'default' section: run 'pipenv lock'.")
    return data


def pipfile_requirements(lock: dict[str, Any]) -> tuple[list[str], bool]:
    """Turn the lock's ``default`` packages into pip requirement lines.

    Returns the lines and whether every one carries hashes (then pip checks
    them all, as ``pipenv install --deploy`` would).

    Raises:
        BuildFailed: a package is locked to a VCS or a path the build cannot use.
    """
    entries: list[tuple[str, list[str]]] = []
    for name, entry in sorted(lock.get("default", {}).items()):
        if not isinstance(entry, dict):
            raise BuildFailed(f"Pipfile.lock entry {name!r} is not an object.")
        if entry.get("path") == ".":
            continue
        _refuse_unfetchable(name, entry)
        entries.append((_requirement(name, entry), list(entry.get("hashes") or [])))
    hashed = bool(entries) and all(hashes for _, hashes in entries)
    lines = [
        line + "".join(f" --hash={h}" for h in hashes) if hashed else line
        for line, hashes in entries
    ]
    return lines, hashed


def _refuse_unfetchable(name: str, entry: dict[str, Any]) -> None:
    for kind in ("git", "hg", "svn", "path", "file"):
        if kind in entry:
            raise BuildFailed(
                f"Pipfile.lock installs {name!r} from {kind} {entry[kind]!r}, which "
                "the build cannot fetch: publish it to the package index or "
                "vendor it into the app."
            )


def _requirement(name: str, entry: dict[str, Any]) -> str:
    extras = entry.get("extras") or []
    line = name + (f"[{','.join(extras)}]" if extras else "")
    version = entry.get("version")
    if isinstance(version, str) and version != "*":
        line += version
    if entry.get("markers"):
        line += f" ; {entry['markers']}"
    return line


def python_version_note(source: Path, offered: str) -> str:
    """Check the Python version the app asks for; return what the build says.

    ``runtime.txt`` wins, then ``.python-version``, then ``Pipfile.lock``.

    Raises:
        BuildFailed: the stack does not have that version.
    """
    request = read_python_request(source) or _pipfile_python(source)
    if request is None:
        return (
            f"No Python version was specified. Using Python {short_version(offered)} "
            "from the stack"
        )
    return check_python(request[0], request[1], offered)


def short_version(version: str) -> str:
    """Return ``major.minor`` of a dotted version string."""
    parts = [int(part) for part in version.split(".")[:3]] + [0, 0]
    return short((parts[0], parts[1], parts[2]))


def _pipfile_python(source: Path) -> tuple[str, str] | None:
    path = source / "Pipfile.lock"
    if not path.is_file():
        return None
    requires = read_pipfile_lock(source).get("_meta", {}).get("requires", {})
    version = requires.get("python_full_version") or requires.get("python_version")
    return (str(version), "Pipfile.lock") if version else None


def is_django(source: Path, plan: PythonPlan, pyproject: dict[str, Any] | None) -> bool:
    """Tell whether an app is a Django project: manage.py and django in deps."""
    if not (source / "manage.py").is_file():
        return False
    if plan.manager == "requirements":
        names = requirement_names(source / "requirements.txt")
    else:
        names = {_name(line) for line in plan.requirements}
        if pyproject is not None:
            names |= {_name(str(d)) for d in _poetry_deps(pyproject)}
    return "django" in names


def _poetry_deps(pyproject: dict[str, Any]) -> list[str]:
    poetry = (pyproject.get("tool") or {}).get("poetry") or {}
    return list(poetry.get("dependencies") or {})


def requirement_names(path: Path, depth: int = 0) -> set[str]:
    """Return the package names of a requirements file and the files it includes."""
    names: set[str] = set()
    if depth > 5 or not path.is_file():
        return names
    for line in path.read_text(errors="replace").splitlines():
        stripped = line.split("#", 1)[0].strip()
        for flag in ("-r ", "--requirement "):
            if stripped.startswith(flag):
                included = path.parent / stripped[len(flag) :].strip()
                names |= requirement_names(included, depth + 1)
        if stripped and not stripped.startswith("-"):
            names.add(_name(stripped))
    return names


def _name(requirement: str) -> str:
    found = REQUIREMENT_NAME.match(requirement)
    return found.group(1).lower().replace("_", "-") if found else ""


def plan(buildpack: Buildpack, source: Path, out: Output) -> BuildPlan:
    """Plan a Python build and report it.

    The plan's files land in ``.paas/``; its variables are those of
    ``python.Dockerfile.j2``.

    Raises:
        BuildFailed: see ``plan_python_build``.
    """
    found = plan_python_build(source)
    for note in found.notes:
        out(f"       {note}")
    out(f"       Installing from {found.manager_file}")
    if found.django:
        out(
            "       Django app: static files are collected at build "
            "(config var DISABLE_COLLECTSTATIC=1 skips it)"
        )
    requirements = "\n".join(found.requirements) + "\n"
    variables = {
        "manager": found.manager,
        "manager_file": found.manager_file,
        "require_hashes": found.require_hashes,
        "generated": bool(found.requirements),
        "collectstatic": found.django,
    }
    return BuildPlan(
        variables=variables,
        process_types=dict(buildpack.default_process_types),
        files={GENERATED: requirements} if found.requirements else {},
    )
