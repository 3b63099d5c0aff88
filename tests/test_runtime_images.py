"""Runtime images are built once, from the buildpack's Debian packages."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from paas.buildpacks import find_buildpack
from paas.errors import BuildFailed
from paas.runtime_images import (
    DIGEST_LABEL,
    base_image,
    render_runtime_dockerfile,
    runtime_tag,
)

STACK = "paas/stack:trixie"


def ignore(line: str) -> None:
    """Drop a build output line."""


class FakeImage:
    def __init__(self, image_id: str, labels: dict[str, str]) -> None:
        self.id = image_id
        self.labels = labels


class EngineStandIn:
    """Holds images by tag; a build stores one labelled as asked."""

    def __init__(self) -> None:
        self.api = self
        self.images = self
        self.stored = {STACK: FakeImage("sha256:stack", {})}
        self.built: list[str] = []

    def get(self, tag: str) -> FakeImage:
        if tag not in self.stored:
            raise docker.errors.ImageNotFound(tag)
        return self.stored[tag]

    def build(self, **kwargs: Any) -> list[dict[str, str]]:
        self.built.append(kwargs["tag"])
        self.stored[kwargs["tag"]] = FakeImage("sha256:new", kwargs["labels"])
        return [{"stream": "Step 1/1 : FROM paas/stack:trixie\n"}]


def test_runtime_tag_names_buildpack_version_and_stack() -> None:
    tag = runtime_tag(find_buildpack("nodejs"), STACK)
    assert tag == "paas/runtime-nodejs:20.19.2-trixie"


def test_runtime_dockerfile_installs_the_packages() -> None:
    text = render_runtime_dockerfile(find_buildpack("go"), STACK)
    assert text.splitlines()[3] == "FROM paas/stack:trixie"
    assert "    --no-install-recommends golang-1.24-go >/dev/null \\" in text
    assert "RUN go version && go build std" in text


def test_buildpack_without_packages_builds_on_the_stack() -> None:
    engine: Any = EngineStandIn()
    assert base_image(engine, find_buildpack("python"), STACK, ignore) == STACK
    assert engine.built == []


def test_runtime_image_is_built_once() -> None:
    engine: Any = EngineStandIn()
    lines: list[str] = []
    nodejs = find_buildpack("nodejs")
    first = base_image(engine, nodejs, STACK, lines.append)
    second = base_image(engine, nodejs, STACK, lines.append)
    assert (first, second) == ("paas/runtime-nodejs:20.19.2-trixie",) * 2
    assert engine.built == [first]
    assert lines[-1] == f"       Runtime image {first}, built before: reused"


@pytest.mark.parametrize("change", ["stack", "label"])
def test_runtime_image_is_rebuilt_when_its_inputs_change(change: str) -> None:
    engine: Any = EngineStandIn()
    static = find_buildpack("static")
    tag = base_image(engine, static, STACK, ignore)
    if change == "stack":
        engine.stored[STACK] = FakeImage("sha256:rebuilt-stack", {})
    else:
        engine.stored[tag].labels[DIGEST_LABEL] = "stale"
    base_image(engine, static, STACK, ignore)
    assert engine.built == [tag, tag]


def test_missing_stack_says_how_to_build_it() -> None:
    engine: Any = EngineStandIn()
    del engine.stored[STACK]
    with pytest.raises(BuildFailed, match="run 'deploy/setup' to build it"):
        base_image(engine, find_buildpack("go"), STACK, ignore)
