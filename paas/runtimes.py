"""Runtime versions: what an app asks for, checked against what the stack offers.

Apps name a version in ``runtime.txt`` or ``.python-version`` (Python), in
``engines.node`` of ``package.json`` (a node-semver range) or in the ``go``
line of ``go.mod``. The stack has one version of each; a request it cannot
meet is a build error that names the version on offer.
"""

from __future__ import annotations

import re
from pathlib import Path

from paas.errors import BuildFailed

Version = tuple[int, int, int]

PYTHON_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
PARTIAL = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+].*)?$")
COMPARATOR = re.compile(r"^(<=|>=|<|>|=|~>|~|\^)?(.*)$")
GO_DIRECTIVE = re.compile(r"^go\s+(\d+)\.(\d+)(?:\.(\d+))?\s*(?://.*)?$", re.M)


def parse_version(text: str) -> Version:
    """Parse ``N.N.N`` (missing parts are zero).

    Raises:
        ValueError: the text is not a dotted version.
    """
    parts = [int(part) for part in text.strip().lstrip("v").split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def short(version: Version) -> str:
    """Return ``major.minor`` of a version."""
    return f"{version[0]}.{version[1]}"


# Python


def read_python_request(source: Path) -> tuple[str, str] | None:
    """Return the Python version an app asks for, and the file that says so.

    ``runtime.txt`` wins over ``.python-version``, as on Heroku.

    Raises:
        BuildFailed: the file is not in the documented form.
    """
    runtime = source / "runtime.txt"
    if runtime.is_file():
        text = runtime.read_text(errors="replace").strip()
        if not text.startswith("python-") or not PYTHON_VERSION.match(text[7:]):
            raise BuildFailed(
                f"runtime.txt holds {text!r}, which is not a Python version: "
                "write it as 'python-3.13'."
            )
        return text[7:], "runtime.txt"
    pinned = source / ".python-version"
    if pinned.is_file():
        return _read_python_version_file(pinned), ".python-version"
    return None


def _read_python_version_file(path: Path) -> str:
    lines = [
        line.strip()
        for line in path.read_text(errors="replace").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if len(lines) != 1 or not PYTHON_VERSION.match(lines[0]):
        shown = "\n".join(lines) or "nothing"
        raise BuildFailed(
            f".python-version holds {shown!r}, not one version: "
            "write one line such as '3.13'."
        )
    return lines[0]


def check_python(request: str, source_file: str, offered: str) -> str:
    """Check a requested Python version against the stack's; return a note.

    Raises:
        BuildFailed: the stack has another major.minor version.
    """
    wanted = parse_version(request)
    have = parse_version(offered)
    if wanted[:2] != have[:2]:
        raise BuildFailed(
            f"{source_file} asks for Python {request}, which this platform does "
            f"not offer. Available: Python {short(have)} ({offered}). "
            f"Change {source_file} to ask for {short(have)}."
        )
    return f"Using Python {short(have)} specified in {source_file}"


# Node.js


def node_range_allows(expression: str, version: Version) -> bool:
    """Tell whether a node-semver range (``>=18 <21 || 22.x``) allows a version.

    Raises:
        ValueError: the range is not in node-semver's grammar.
    """
    return any(
        all(_compare(version, op, bound) for op, bound in _comparator_set(part))
        for part in expression.split("||")
    )


def _comparator_set(text: str) -> list[tuple[str, Version]]:
    text = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", text.strip())
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        return _lower(">=", hyphen.group(1)) + _upper_inclusive(hyphen.group(2))
    bounds: list[tuple[str, Version]] = []
    for word in text.split():
        bounds.extend(_comparator(word))
    return bounds


def _comparator(word: str) -> list[tuple[str, Version]]:
    found = COMPARATOR.match(word)
    if found is None:
        raise ValueError(word)
    op, rest = found.group(1) or "", found.group(2)
    if op in ("", "="):
        return _lower(">=", rest) + _upper_inclusive(rest)
    if op in (">=", ">"):
        return _lower(op, rest)
    if op == "<=":
        return _upper_inclusive(rest)
    if op == "<":
        return [("<", _parts(rest, fill=0)[0])]
    if op in ("~", "~>"):
        return _tilde(rest)
    return _caret(rest)


def _parts(text: str, fill: int) -> tuple[Version, int]:
    """Return the version with wildcards filled, and how many parts were given."""
    found = PARTIAL.match(text)
    if found is None:
        raise ValueError(text)
    given: list[int] = []
    for part in found.groups():
        if part is None or part in "xX*":
            break
        given.append(int(part))
    padded = given + [fill] * (3 - len(given))
    return (padded[0], padded[1], padded[2]), len(given)


def _lower(op: str, text: str) -> list[tuple[str, Version]]:
    version, given = _parts(text, fill=0)
    if given == 0:
        return []
    if op == ">" and given < 3:
        return [(">=", _bump(version, given - 1))]
    return [(op, version)]


def _upper_inclusive(text: str) -> list[tuple[str, Version]]:
    version, given = _parts(text, fill=0)
    if given == 0:
        return []
    if given == 3:
        return [("<=", version)]
    return [("<", _bump(version, given - 1))]


def _tilde(text: str) -> list[tuple[str, Version]]:
    version, given = _parts(text, fill=0)
    if given == 0:
        return []
    return [(">=", version), ("<", _bump(version, 0 if given == 1 else 1))]


def _caret(text: str) -> list[tuple[str, Version]]:
    version, given = _parts(text, fill=0)
    if given == 0:
        return []
    index = 0
    while index < given - 1 and version[index] == 0:
        index += 1
    return [(">=", version), ("<", _bump(version, index))]


def _bump(version: Version, index: int) -> Version:
    parts = list(version[:index]) + [version[index] + 1] + [0] * (2 - index)
    return parts[0], parts[1], parts[2]


def _compare(version: Version, op: str, bound: Version) -> bool:
    return {
        ">=": version >= bound,
        ">": version > bound,
        "<=": version <= bound,
        "<": version < bound,
    }[op]


def check_node(expression: str, offered: str) -> str:
    """Check ``engines.node`` against the stack's Node.js; return a note.

    Raises:
        BuildFailed: the range is malformed or excludes the stack's version.
    """
    try:
        allowed = node_range_allows(expression, parse_version(offered))
    except ValueError as exc:
        raise BuildFailed(
            f"engines.node in package.json is {expression!r}, which is not a "
            "semver range: use one such as '20.x' or '>=18'."
        ) from exc
    if not allowed:
        major = offered.split(".")[0]
        raise BuildFailed(
            f"engines.node in package.json asks for {expression!r}, which this "
            f"platform cannot meet. Available: Node.js {offered}. "
            f"Allow it, for example with '{major}.x'."
        )
    return f"Using Node.js {offered} (engines.node {expression!r})"


# Go


def check_go(go_mod: str, offered: str) -> str:
    """Check the ``go`` line of go.mod against the stack's Go; return a note.

    Raises:
        BuildFailed: go.mod asks for a newer Go than the stack has.
    """
    found = GO_DIRECTIVE.search(go_mod)
    have = parse_version(offered)
    if found is None:
        return f"Using Go {offered}"
    wanted = tuple(int(part or 0) for part in found.groups())
    if wanted[:2] > have[:2]:
        asked = ".".join(part for part in found.groups() if part)
        raise BuildFailed(
            f"go.mod asks for Go {asked}, which this platform does not offer. "
            f"Available: Go {offered}. Change the 'go' line of go.mod to "
            f"'go {short(have)}' or lower."
        )
    return f"Using Go {offered} (go.mod asks for go {found.group(1)}.{found.group(2)})"
