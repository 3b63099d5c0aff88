"""Python build plans: package manager files, versions, Django, the template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paas.buildpacks import find_buildpack, render_dockerfile
from paas.buildplans import make_plan
from paas.buildplans.python import (
    pipfile_requirements,
    plan_python_build,
    requirement_names,
)
from paas.errors import BuildFailed

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "shop"
version = "1.0"
dependencies = ["flask>=3", "gunicorn"]
"""


def write(source: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (source / name).write_text(text)
    return source


def lock(packages: dict[str, Any], python: str | None = None) -> str:
    meta = {"requires": {"python_version": python}} if python else {}
    return json.dumps({"_meta": meta, "default": packages, "develop": {}})


FLASK_LOCK = lock({"flask": {"version": "==3.0.3", "hashes": ["sha256:aa"]}})


@pytest.mark.parametrize(
    ("files", "manager", "manager_file"),
    [
        ({"requirements.txt": "flask\n"}, "requirements", "requirements.txt"),
        ({"Pipfile.lock": FLASK_LOCK}, "pipfile", "Pipfile.lock"),
        ({"Pipfile": "", "Pipfile.lock": FLASK_LOCK}, "pipfile", "Pipfile.lock"),
        ({"pyproject.toml": PYPROJECT}, "pyproject", "pyproject.toml"),
        (
            {
                "requirements.txt": "",
                "pyproject.toml": "[tool.ruff]\nline-length = 88\n",
            },
            "requirements",
            "requirements.txt",
        ),
        (
            {"pyproject.toml": "[project]\nname = 'x'\ndynamic = ['dependencies']\n"},
            "project",
            "pyproject.toml",
        ),
        ({"setup.py": "from setuptools import setup\n"}, "project", "setup.py"),
    ],
    ids=[
        "requirements",
        "pipfile-lock",
        "pipfile-and-lock",
        "pyproject",
        "requirements-with-tool-only-pyproject",
        "pyproject-dynamic-deps",
        "setup-py",
    ],
)
def test_manager_follows_the_files(
    tmp_path: Path, files: dict[str, str], manager: str, manager_file: str
) -> None:
    plan = plan_python_build(write(tmp_path, files))
    assert (plan.manager, plan.manager_file) == (manager, manager_file)


@pytest.mark.parametrize(
    ("files", "named"),
    [
        (
            {"requirements.txt": "", "Pipfile.lock": FLASK_LOCK},
            "requirements.txt, Pipfile.lock",
        ),
        (
            {"requirements.txt": "", "pyproject.toml": PYPROJECT},
            "requirements.txt, pyproject.toml",
        ),
        ({"requirements.txt": "", "Pipfile": ""}, "requirements.txt, Pipfile"),
        (
            {"Pipfile.lock": FLASK_LOCK, "pyproject.toml": PYPROJECT},
            "Pipfile.lock, pyproject.toml",
        ),
    ],
    ids=[
        "requirements-pipfile-lock",
        "requirements-pyproject",
        "requirements-pipfile",
        "lock-pyproject",
    ],
)
def test_two_manager_files_are_refused_by_name(
    tmp_path: Path, files: dict[str, str], named: str
) -> None:
    message = (
        f"This app has more than one package manager file: {named}. Keep the "
        "one that lists the app's dependencies and delete the others, so that "
        "one set of dependencies is installed."
    )
    with pytest.raises(BuildFailed) as caught:
        plan_python_build(write(tmp_path, files))
    assert caught.value.message == message


def test_pipfile_without_lock_asks_for_one(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed, match=r"^Pipfile has no Pipfile\.lock beside it"):
        plan_python_build(write(tmp_path, {"Pipfile": "[packages]\n"}))


def test_no_manager_file_says_what_to_add(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed) as caught:
        plan_python_build(write(tmp_path, {".python-version": "3.13\n"}))
    assert caught.value.message == (
        "No Python package manager file found: add requirements.txt (it may "
        "be empty), a pyproject.toml with a [project] table, or Pipfile.lock."
    )


def test_bad_pyproject_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed, match=r"^pyproject\.toml is not valid TOML: "):
        plan_python_build(write(tmp_path, {"pyproject.toml": "[project\n"}))


def test_pyproject_requirements_are_backend_then_dependencies(tmp_path: Path) -> None:
    plan = plan_python_build(write(tmp_path, {"pyproject.toml": PYPROJECT}))
    assert plan.requirements == ["hatchling", "flask>=3", "gunicorn"]


def test_pyproject_without_build_system_gets_setuptools(tmp_path: Path) -> None:
    text = "[project]\nname = 'x'\ndependencies = ['flask']\n"
    plan = plan_python_build(write(tmp_path, {"pyproject.toml": text}))
    assert plan.requirements == ["setuptools>=40.8.0", "flask"]


# Pipfile.lock


def test_pipfile_lock_becomes_hashed_requirements() -> None:
    packages = {
        "flask": {"version": "==3.0.3", "hashes": ["sha256:aa", "sha256:bb"]},
        "uvicorn": {
            "version": "==0.30.0",
            "extras": ["standard"],
            "markers": "python_version >= '3.8'",
            "hashes": ["sha256:cc"],
        },
    }
    lines, hashed = pipfile_requirements(json.loads(lock(packages)))
    assert (lines, hashed) == (
        [
            "flask==3.0.3 --hash=sha256:aa --hash=sha256:bb",
            "uvicorn[standard]==0.30.0 ; python_version >= '3.8' --hash=sha256:cc",
        ],
        True,
    )


def test_pipfile_lock_without_hashes_everywhere_drops_them() -> None:
    packages = {
        "flask": {"version": "==3.0.3", "hashes": ["sha256:aa"]},
        "gunicorn": {"version": "*"},
    }
    assert pipfile_requirements(json.loads(lock(packages))) == (
        ["flask==3.0.3", "gunicorn"],
        False,
    )


def test_pipfile_lock_skips_the_app_itself() -> None:
    packages = {"shop": {"editable": True, "path": "."}}
    assert pipfile_requirements(json.loads(lock(packages))) == ([], False)


def test_pipfile_lock_from_git_is_refused() -> None:
    packages = {"lib": {"git": "https://example.com/lib.git", "ref": "abc"}}
    message = r"^Pipfile\.lock installs 'lib' from git 'https://example\.com/lib\.git'"
    with pytest.raises(BuildFailed, match=message):
        pipfile_requirements(json.loads(lock(packages)))


def test_pipfile_lock_that_is_not_json_says_to_relock(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed, match=r"run 'pipenv lock' again\.$"):
        plan_python_build(write(tmp_path, {"Pipfile.lock": "{nope"}))


# Python versions


@pytest.mark.parametrize(
    ("files", "note"),
    [
        (
            {"runtime.txt": "python-3.13.1\n"},
            "Using Python 3.13 specified in runtime.txt",
        ),
        (
            {".python-version": "3.13\n"},
            "Using Python 3.13 specified in .python-version",
        ),
        ({}, "No Python version was specified. Using Python 3.13 from the stack"),
    ],
    ids=["runtime-txt", "python-version", "none"],
)
def test_python_version_note(tmp_path: Path, files: dict[str, str], note: str) -> None:
    write(tmp_path, files | {"requirements.txt": ""})
    assert plan_python_build(tmp_path, offered="3.13.5").notes == [note]


def test_pipfile_lock_python_version_is_checked(tmp_path: Path) -> None:
    write(tmp_path, {"Pipfile.lock": lock({}, python="3.13")})
    notes = plan_python_build(tmp_path, offered="3.13.5").notes
    assert notes == ["Using Python 3.13 specified in Pipfile.lock"]


@pytest.mark.parametrize(
    ("name", "text"),
    [("runtime.txt", "python-3.11.9\n"), (".python-version", "3.12\n")],
    ids=["runtime-txt", "python-version"],
)
def test_python_version_the_stack_lacks_names_what_it_has(
    tmp_path: Path, name: str, text: str
) -> None:
    write(tmp_path, {name: text, "requirements.txt": ""})
    asked = text.strip().removeprefix("python-")
    message = (
        f"{name} asks for Python {asked}, which this platform does not offer. "
        f"Available: Python 3.13 (3.13.5). Change {name} to ask for 3.13."
    )
    with pytest.raises(BuildFailed) as caught:
        plan_python_build(tmp_path, offered="3.13.5")
    assert caught.value.message == message


# Django


@pytest.mark.parametrize(
    ("files", "django"),
    [
        ({"manage.py": "", "requirements.txt": "Django==5.1\ngunicorn\n"}, True),
        (
            {
                "manage.py": "",
                "requirements.txt": "-r base.txt\n",
                "base.txt": "django",
            },
            True,
        ),
        ({"requirements.txt": "django\n"}, False),
        ({"manage.py": "", "requirements.txt": "flask\n"}, False),
        (
            {
                "manage.py": "",
                "pyproject.toml": "[project]\nname='x'\ndependencies=['django>=5']\n",
            },
            True,
        ),
        (
            {"manage.py": "", "Pipfile.lock": lock({"django": {"version": "==5.1"}})},
            True,
        ),
    ],
    ids=[
        "requirements",
        "included-file",
        "no-manage-py",
        "no-django",
        "pyproject",
        "pipfile",
    ],
)
def test_django_needs_manage_py_and_django(
    tmp_path: Path, files: dict[str, str], django: bool
) -> None:
    assert plan_python_build(write(tmp_path, files)).django is django


def test_requirement_names_skip_options_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("# web\n--index-url https://x\nDjango_Extensions>=1 # c\n\n")
    assert requirement_names(path) == {"django-extensions"}


# The rendered Dockerfile


def render(source: Path) -> tuple[str, dict[str, str]]:
    python = find_buildpack("python")
    plan = make_plan(python, source, lambda line: None)
    text = render_dockerfile(
        python, source, app="shop", stack="paas/stack:trixie", variables=plan.variables
    )
    return text, plan.files


def run_lines(dockerfile: str) -> list[str]:
    lines = dockerfile.splitlines()
    return [line for line in lines if line.startswith("RUN") and "useradd" not in line]


def stages(dockerfile: str) -> list[list[str]]:
    found: list[list[str]] = []
    for line in dockerfile.splitlines():
        if line.startswith("FROM "):
            found.append([])
        if found and line and not line.startswith("#"):
            found[-1].append(line)
    return found


def test_requirements_are_installed_before_the_code_is_copied(tmp_path: Path) -> None:
    text, _ = render(write(tmp_path, {"requirements.txt": "flask\n"}))
    lines = text.splitlines()
    install = next(i for i, line in enumerate(lines) if "pip install -r" in line)
    assert lines.index("COPY requirements.txt /app/requirements.txt") < install
    assert install < lines.index("COPY --chown=1000:1000 . /app")


def test_install_reads_the_install_env_file_not_build_args(tmp_path: Path) -> None:
    text, _ = render(write(tmp_path, {"requirements.txt": ""}))
    assert "ARG " not in text
    assert run_lines(text)[1] == (
        "RUN set -a && . /opt/paas/build/install.env && set +a && "
        "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 "
        "PIP_ROOT_USER_ACTION=ignore pip install -r /app/requirements.txt"
    )


def test_image_that_runs_copies_only_venv_and_app(tmp_path: Path) -> None:
    text, _ = render(write(tmp_path, {"requirements.txt": ""}))
    build, final = stages(text)
    assert build[0] == "FROM paas/stack:trixie AS build"
    assert [line for line in final if line.startswith(("COPY", "RUN", "FROM"))] == [
        "FROM paas/stack:trixie",
        "COPY .paas/ca-bundle.crt /etc/ssl/certs/paas-ca-bundle.crt",
        "RUN useradd --uid 1000 --home-dir /app --no-create-home --shell /bin/bash "
        "dyno \\",
        "COPY --from=build /opt/paas/venv /opt/paas/venv",
        "COPY --from=build --chown=1000:1000 /app /app",
    ]


def test_build_stage_drops_paas_files_from_app(tmp_path: Path) -> None:
    text, _ = render(write(tmp_path, {"requirements.txt": ""}))
    build, _ = stages(text)
    assert build.index("RUN rm -rf /app/.paas") == (
        build.index("COPY --chown=1000:1000 . /app") + 1
    )


def test_pyproject_deps_get_their_own_layer(tmp_path: Path) -> None:
    text, files = render(write(tmp_path, {"pyproject.toml": PYPROJECT}))
    assert files == {"requirements.txt": "hatchling\nflask>=3\ngunicorn\n"}
    deps, drop, app = run_lines(text)[1:4]
    assert deps.endswith("pip install -r /opt/paas/build/requirements.txt")
    assert (drop, app.split(" && ")[-1]) == (
        "RUN rm -rf /app/.paas",
        "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 "
        "PIP_ROOT_USER_ACTION=ignore pip install --no-deps --no-build-isolation /app",
    )


def test_pipfile_lock_is_installed_with_hashes_required(tmp_path: Path) -> None:
    text, files = render(write(tmp_path, {"Pipfile.lock": FLASK_LOCK}))
    assert files == {"requirements.txt": "flask==3.0.3 --hash=sha256:aa\n"}
    assert run_lines(text)[1].endswith(
        "pip install --require-hashes -r /opt/paas/build/requirements.txt"
    )


def test_setup_py_app_installs_with_its_code(tmp_path: Path) -> None:
    text, files = render(write(tmp_path, {"setup.py": ""}))
    assert files == {}
    assert run_lines(text)[-1].endswith("pip install /app")


def test_django_app_collects_static_with_config_vars(tmp_path: Path) -> None:
    source = write(tmp_path, {"manage.py": "", "requirements.txt": "django\n"})
    text, _ = render(source)
    lines = text.splitlines()
    step = next(line for line in lines if line.startswith("RUN") and "static" in line)
    assert lines[lines.index(step) - 1] == (
        "# -----> $ python manage.py collectstatic --noinput"
    )
    assert step.startswith("RUN set -a && . /opt/paas/build/app.env && set +a && ")
    assert 'if [ -n "${DISABLE_COLLECTSTATIC:-}" ]' in step


def test_plain_app_has_no_collectstatic(tmp_path: Path) -> None:
    text, _ = render(write(tmp_path, {"requirements.txt": "django\n"}))
    assert "collectstatic" not in text
    assert ".paas/app.env" not in text


def test_partly_hashed_pipfile_lock_warns_that_no_hash_is_checked(
    tmp_path: Path,
) -> None:
    partly = lock(
        {
            "flask": {"version": "==3.0.3", "hashes": ["sha256:aa"]},
            "click": {"version": "==8.1.7"},
        }
    )
    plan = plan_python_build(write(tmp_path, {"Pipfile.lock": partly}))
    assert not plan.require_hashes
    assert (
        "Warning: some packages in Pipfile.lock have no hashes, so no hash is "
        "checked. Run 'pipenv lock' to hash them all." in plan.notes
    )


def test_fully_hashed_pipfile_lock_has_no_warning(tmp_path: Path) -> None:
    plan = plan_python_build(write(tmp_path, {"Pipfile.lock": FLASK_LOCK}))
    assert plan.require_hashes
    assert not [note for note in plan.notes if note.startswith("Warning")]
