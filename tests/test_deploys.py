"""Unit tests of a push's deploy: build records end whatever happens."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from paas.deploys import deploy_push
from paas.errors import BuildFailed
from paas.platform import Platform


class FailingBuilder:
    """A builder whose build fails as given."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def build(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


def archive(tmp_path: Path) -> Path:
    path = tmp_path / "push.tar"
    with tarfile.open(path, "w") as tar:
        data = b"web: python app.py\n"
        member = tarfile.TarInfo("Procfile")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("error", "raised"),
    [(BuildFailed("no"), BuildFailed), (FileNotFoundError("package.json"), OSError)],
    ids=["build-failed", "platform-fault"],
)
def test_failed_build_is_recorded_as_failed(
    platform: Platform, tmp_path: Path, error: Exception, raised: type[Exception]
) -> None:
    platform.create_app("shop")
    builder = FailingBuilder(error)
    with pytest.raises(raised):
        deploy_push(platform, builder, "shop", archive(tmp_path), "c" * 40, print)  # type: ignore[arg-type]
    builds = platform.store.list_builds("shop")
    assert [build.status for build in builds] == ["failed"]
    assert platform.store.current_release("shop") is None
