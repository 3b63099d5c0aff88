"""What a Dockerfile app may build on: the stack, runtimes, the registries."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import docker
import pytest

from paas.builder import Builder
from paas.buildplans.dockerfile import base_images
from paas.errors import BuildFailed

LOCAL = {
    "paas/stack:trixie": ["paas/stack:trixie"],
    "paas/runtime-nodejs:20.19.2-trixie": ["paas/runtime-nodejs:20.19.2-trixie"],
    # Images built on a runtime inherit its label: other apps' images.
    "paas/shop:0a1b2c": ["paas/shop:0a1b2c"],
    "paas-cache/shop:build": ["paas-cache/shop:build"],
}


class Images:
    """The engine's images, as far as the base check reads them."""

    def get(self, name: str) -> Any:
        if name not in LOCAL:
            raise docker.errors.ImageNotFound(name)
        return SimpleNamespace(tags=LOCAL[name])

    def list(self, filters: dict[str, str]) -> list[Any]:
        return [SimpleNamespace(tags=tags) for name, tags in LOCAL.items()]


def check(*bases: str) -> None:
    client = SimpleNamespace(images=Images())
    Builder(client, "test", "paas/stack:trixie")._check_bases(list(bases))  # type: ignore[arg-type]


ALLOWED = (
    "Start FROM one of: paas/stack:trixie, paas/runtime-nodejs:20.19.2-trixie, "
    "or an image in the operator's registry."
)


@pytest.mark.parametrize(
    "base",
    [
        "paas/stack:trixie",
        "paas/runtime-nodejs:20.19.2-trixie",
        "127.0.0.1:5000/library/redis:8",
        "localhost:5000/team/base:1",
    ],
)
def test_stack_runtimes_and_registry_images_are_allowed(base: str) -> None:
    check(base)


@pytest.mark.parametrize(
    "base",
    [
        "paas/shop:0a1b2c",
        "paas-cache/shop:build",
    ],
)
def test_other_apps_images_are_refused(base: str) -> None:
    with pytest.raises(BuildFailed) as refused:
        check(base)
    assert refused.value.message == (
        f"The Dockerfile starts FROM (or copies from) {base!r}, which is not an "
        f"image apps may build on. {ALLOWED}"
    )


@pytest.mark.parametrize(
    "base", ["127.0.0.1:5000/paas/shop:0a1b2c", "127.0.0.1:5000/paas-cache/shop:build"]
)
def test_release_images_in_the_registry_are_refused(base: str) -> None:
    with pytest.raises(BuildFailed, match="^The Dockerfile starts FROM"):
        check(base)


def test_public_image_is_refused_with_the_local_choices() -> None:
    with pytest.raises(BuildFailed) as refused:
        check("node:20-slim")
    assert refused.value.message == (
        "The Dockerfile starts FROM (or copies from) 'node:20-slim', which is not "
        f"on this machine, and no public image registry is reachable. {ALLOWED}"
    )


def test_image_named_by_a_variable_is_refused() -> None:
    with pytest.raises(BuildFailed) as refused:
        check("$BASE")
    assert refused.value.message == (
        "The Dockerfile names the image '$BASE' with a variable: name the image itself."
    )


def test_copy_from_an_image_is_a_base_but_a_stage_is_not() -> None:
    dockerfile = (
        "FROM paas/stack:trixie AS build\n"
        "COPY --from=paas-cache/shop:build /opt/paas/build/app.env /x\n"
        "FROM paas/stack:trixie\n"
        "COPY --chown=1000 --from=build /x /y\n"
        "ADD --from=0 /x /z\n"
    )
    assert base_images(dockerfile) == ["paas/stack:trixie", "paas-cache/shop:build"]
