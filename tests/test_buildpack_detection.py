"""Detection, table-driven: which buildpack a source tree gets, or why none."""

from __future__ import annotations

from pathlib import Path

import pytest

from paas.buildpacks import detect_all, detect_buildpack, load_buildpacks
from paas.errors import BuildFailed

EVERY_MARKER = [
    (buildpack.name, marker)
    for buildpack in load_buildpacks()
    for marker in buildpack.any_of
]
MARKERS = ", ".join(sorted({marker for _, marker in EVERY_MARKER}))
NO_LANGUAGE = (
    "No default language could be detected for this app. "
    f"Add one of these files at the root of the repo: {MARKERS}."
)


def make_tree(root: Path, files: list[str]) -> Path:
    """Create empty files (and their folders); a trailing '/' makes a folder."""
    for name in files:
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    return root


@pytest.mark.parametrize(
    ("name", "marker"), EVERY_MARKER, ids=[m for _, m in EVERY_MARKER]
)
def test_each_marker_selects_its_buildpack(
    tmp_path: Path, name: str, marker: str
) -> None:
    buildpack, found = detect_buildpack(make_tree(tmp_path, [marker]))
    assert (buildpack.name, found) == (name, marker)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["Dockerfile", "package.json"], ("dockerfile", "Dockerfile")),
        (["Dockerfile", "requirements.txt"], ("dockerfile", "Dockerfile")),
        (["package.json", "requirements.txt"], ("nodejs", "package.json")),
        (["package.json", "go.mod"], ("nodejs", "package.json")),
        (["requirements.txt", "go.mod"], ("python", "requirements.txt")),
        (["go.mod", "index.html"], ("go", "go.mod")),
        (["package.json", "index.html"], ("nodejs", "package.json")),
        (["requirements.txt", "static.json"], ("python", "requirements.txt")),
        (["index.html", "static.json"], ("static", "static.json")),
        (["index.html", "web/package.json"], ("static", "index.html")),
    ],
    ids=[
        "dockerfile-over-node",
        "dockerfile-over-python",
        "node-over-python",
        "node-over-go",
        "python-over-go",
        "go-over-static",
        "node-over-static",
        "python-over-static",
        "static-json-first",
        "nested-marker-ignored",
    ],
)
def test_conflicting_markers_first_buildpack_wins(
    tmp_path: Path, files: list[str], expected: tuple[str, str]
) -> None:
    buildpack, found = detect_buildpack(make_tree(tmp_path, files))
    assert (buildpack.name, found) == expected


def test_all_matching_buildpacks_are_listed_in_order(tmp_path: Path) -> None:
    make_tree(tmp_path, ["index.html", "package.json", "Dockerfile"])
    found = [(bp.name, marker) for bp, marker in detect_all(tmp_path)]
    assert found == [
        ("dockerfile", "Dockerfile"),
        ("nodejs", "package.json"),
        ("static", "index.html"),
    ]


@pytest.mark.parametrize(
    ("files", "hint"),
    [
        ([], ""),
        ([".gitignore", "notes.txt"], ""),
        (
            ["Package.json"],
            " Found 'Package.json': names are case-sensitive, rename it to "
            "'package.json'.",
        ),
        (
            ["dockerfile"],
            " Found 'dockerfile': names are case-sensitive, rename it to 'Dockerfile'.",
        ),
        (
            ["INDEX.HTML"],
            " Found 'INDEX.HTML': names are case-sensitive, rename it to 'index.html'.",
        ),
        (["package.json/"], " Found 'package.json', but it is a folder, not a file."),
        (
            ["web/package.json"],
            " Found 'web/package.json' in a subfolder: only files at the root of "
            "the repo are detected, so move it there.",
        ),
        (
            ["src/main/go.mod"],
            "",
        ),
    ],
    ids=[
        "empty-repo",
        "no-marker",
        "mis-cased-package-json",
        "mis-cased-dockerfile",
        "mis-cased-index",
        "marker-is-a-folder",
        "nested-marker",
        "deeply-nested-marker",
    ],
)
def test_refusal_names_what_to_change(
    tmp_path: Path, files: list[str], hint: str
) -> None:
    with pytest.raises(BuildFailed) as refused:
        detect_buildpack(make_tree(tmp_path, files))
    assert refused.value.message == NO_LANGUAGE + hint
