"""Build plans: what a buildpack reads from a source tree before the build.

Each language module looks at the pushed files, checks what the app asks for
against what the platform offers, and returns a ``BuildPlan``: values for
the buildpack's Dockerfile template, files to put beside it, and default
process types. A buildpack without a module here builds from its template
and YAML defaults alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from paas.buildpacks import Buildpack
from paas.buildplans import dockerfile, golang, nodejs, python, static
from paas.buildplans.base import BuildPlan, Output

Planner = Callable[[Buildpack, Path, Output], BuildPlan]
PLANNERS: dict[str, Planner] = {
    "nodejs": nodejs.plan,
    "go": golang.plan,
    "static": static.plan,
    "dockerfile": dockerfile.plan,
    "python": python.plan,
}


def make_plan(buildpack: Buildpack, source: Path, out: Output) -> BuildPlan:
    """Check a source tree for a buildpack and return its build plan.

    Raises:
        BuildFailed: the source asks for something the platform cannot do.
    """
    planner = PLANNERS.get(buildpack.name)
    if planner is None:
        return BuildPlan(process_types=dict(buildpack.default_process_types))
    return planner(buildpack, source, out)


__all__ = ["BuildPlan", "make_plan"]
