"""The pushed tree is the build context: links out of it never get unpacked."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from paas.builder import extract_source
from paas.errors import BuildFailed


def archive(tmp_path: Path, links: dict[str, str]) -> Path:
    """Write a tar like 'git archive' makes: a Dockerfile and symlinks."""
    path = tmp_path / "push.tar"
    with tarfile.open(path, "w") as tar:
        data = b"FROM paas/stack:trixie\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            link = tarfile.TarInfo(name)
            link.type = tarfile.SYMTYPE
            link.linkname = target
            tar.addfile(link)
    return path


@pytest.mark.parametrize(
    ("links", "message"),
    [
        (
            {"hosts": "/etc/hosts"},
            "The push has a symlink 'hosts' -> '/etc/hosts' that points outside "
            "the repo, where builds cannot reach: commit the file itself instead.",
        ),
        (
            {"up": "../../etc/hosts"},
            "The push has a symlink 'up' -> '../../etc/hosts' that points "
            "outside the repo, where builds cannot reach: commit the file "
            "itself instead.",
        ),
    ],
    ids=["absolute", "dot-dot"],
)
def test_symlink_out_of_the_push_is_refused(
    tmp_path: Path, links: dict[str, str], message: str
) -> None:
    destination = tmp_path / "src"
    destination.mkdir()
    with pytest.raises(BuildFailed) as refused:
        extract_source(archive(tmp_path, links), destination)
    assert refused.value.message == message


def test_symlink_inside_the_push_is_kept(tmp_path: Path) -> None:
    destination = tmp_path / "src"
    destination.mkdir()
    extract_source(archive(tmp_path, {"Dockerfile.link": "Dockerfile"}), destination)
    assert (destination / "Dockerfile.link").read_text() == "FROM paas/stack:trixie\n"
