"""Go: read go.mod, refuse what needs the module proxy, find main packages."""

from __future__ import annotations

import os
import re
from pathlib import Path

from paas.buildpacks import Buildpack
from paas.buildplans.base import BuildPlan, Output
from paas.errors import BuildFailed
from paas.runtimes import check_go

MODULE = re.compile(r"^module\s+(\S+)", re.M)
REQUIRE_BLOCK = re.compile(r"^require\s*\((.*?)^\)", re.M | re.S)
REQUIRE_LINE = re.compile(r"^require\s+([^\s(]+)\s", re.M)
PACKAGE = re.compile(r"^package\s+(\w+)", re.M)
MAJOR_SUFFIX = re.compile(r"^v[2-9]\d*$")
SKIPPED_DIRS = {"vendor", "testdata"}


def plan(buildpack: Buildpack, source: Path, out: Output) -> BuildPlan:
    """Plan a Go build.

    Raises:
        BuildFailed: go.mod is unusable, needs downloads, or there is no
            main package to build.
    """
    go_mod = (source / "go.mod").read_text(errors="replace")
    offered = buildpack.runtime.version if buildpack.runtime else "unknown"
    out(f"-----> {check_go(go_mod, offered)}")
    module = _module_path(go_mod)
    _refuse_downloads(go_mod, source)
    binaries = main_binaries(source, module)
    if not binaries:
        raise BuildFailed(
            "go.mod is here but no Go file of the module is in 'package main': "
            "add a main package to build a program."
        )
    out(f"       Main packages -> bin/{', bin/'.join(binaries)}")
    process_types = {"web": f"bin/{binaries[0]}"} if len(binaries) == 1 else {}
    if len(binaries) > 1:
        out("       More than one main package: declare web in the Procfile.")
    return BuildPlan({"binaries": binaries}, process_types)


def _module_path(go_mod: str) -> str:
    found = MODULE.search(go_mod)
    if found is None:
        raise BuildFailed(
            "go.mod has no 'module' line: start it with 'module <path>', as "
            "'go mod init' writes it."
        )
    return found.group(1).strip('"')


def required_modules(go_mod: str) -> list[str]:
    """Return the module paths go.mod requires."""
    required = [found.group(1) for found in REQUIRE_LINE.finditer(go_mod)]
    for block in REQUIRE_BLOCK.finditer(go_mod):
        for line in block.group(1).splitlines():
            words = line.split("//")[0].split()
            if words:
                required.append(words[0])
    return required


def _refuse_downloads(go_mod: str, source: Path) -> None:
    # No Go module proxy answers from this machine (DESIGN.md), and with
    # GOPROXY=off a download is refused at once instead of hanging.
    required = required_modules(go_mod)
    if not required or (source / "vendor" / "modules.txt").is_file():
        return
    shown = ", ".join(required[:3]) + (", ..." if len(required) > 3 else "")
    raise BuildFailed(
        f"go.mod requires {len(required)} module(s) ({shown}) and the Go module "
        "proxy is out of reach from this platform, so they cannot be "
        "downloaded. Run 'go mod vendor' and commit the vendor folder."
    )


def main_binaries(source: Path, module: str) -> list[str]:
    """Return the names 'go build -o bin/ ./...' gives the module's programs."""
    names = []
    for folder in _package_dirs(source):
        if _is_main(folder):
            relative = folder.relative_to(source).as_posix()
            path = module if relative == "." else f"{module}/{relative}"
            names.append(_binary_name(path))
    return sorted(names)


def _package_dirs(source: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(source):
        here = Path(root)
        # Like './...': no vendor, testdata, hidden or '_' dirs, no nested
        # modules.
        dirs[:] = [
            name
            for name in dirs
            if name not in SKIPPED_DIRS
            and not name.startswith((".", "_"))
            and not (here / name / "go.mod").exists()
        ]
        if any(name.endswith(".go") for name in files):
            found.append(here)
    return found


def _is_main(folder: Path) -> bool:
    for path in folder.glob("*.go"):
        if path.name.endswith("_test.go") or path.name.startswith((".", "_")):
            continue
        package = PACKAGE.search(path.read_text(errors="replace"))
        if package is not None and package.group(1) == "main":
            return True
    return False


def _binary_name(import_path: str) -> str:
    parts = import_path.split("/")
    if len(parts) > 1 and MAJOR_SUFFIX.match(parts[-1]):
        return parts[-2]
    return parts[-1]
