"""Buildpacks are detected by marker files and render a Dockerfile."""

from __future__ import annotations

from pathlib import Path

import pytest

from paas.buildpacks import (
    detect_buildpack,
    find_buildpack,
    load_buildpacks,
)
from paas.errors import BuildFailed, InvalidInput


@pytest.mark.parametrize(
    "marker",
    [
        "requirements.txt",
        "pyproject.toml",
        "Pipfile.lock",
        "setup.py",
        "runtime.txt",
        ".python-version",
    ],
)
def test_python_is_detected_by_marker_file(tmp_path: Path, marker: str) -> None:
    (tmp_path / marker).write_text("")
    buildpack, found = detect_buildpack(tmp_path)
    assert (buildpack.name, found) == ("python", marker)


def test_marker_must_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").mkdir()
    with pytest.raises(BuildFailed):
        detect_buildpack(tmp_path)


def test_no_marker_message_lists_the_files_to_add(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    markers = sorted({m for bp in load_buildpacks() for m in bp.any_of})
    with pytest.raises(BuildFailed) as caught:
        detect_buildpack(tmp_path)
    assert caught.value.message == (
        "No default language could be detected for this app. Add one of these "
        f"files at the root of the repo: {', '.join(markers)}."
    )
    assert "requirements.txt" in markers


def test_buildpack_is_found_by_name() -> None:
    assert find_buildpack("python").display_name == "Python"


def test_unknown_buildpack_name_lists_known_ones() -> None:
    known = ", ".join(buildpack.name for buildpack in load_buildpacks())
    with pytest.raises(InvalidInput) as caught:
        find_buildpack("ruby")
    assert (
        caught.value.message == f"No buildpack named 'ruby'. Known buildpacks: {known}."
    )
    assert "python" in known


def test_buildpacks_load_in_their_order(tmp_path: Path) -> None:
    for name, order in [("late", 90), ("early", 10), ("also-early", 10)]:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "buildpack.yaml").write_text(
            f"name: {name}\ndisplay_name: {name}\norder: {order}\n"
            "template: x.j2\ndetect:\n  any_of: [x]\n"
        )
    names = [buildpack.name for buildpack in load_buildpacks(tmp_path)]
    assert names == ["also-early", "early", "late"]
