"""Runtime versions: what an app asks for against what the stack offers."""

from __future__ import annotations

import pytest

from paas.errors import BuildFailed
from paas.runtimes import check_go, check_node, node_range_allows

NODE = (20, 19, 2)


@pytest.mark.parametrize(
    ("expression", "allowed"),
    [
        ("20.x", True),
        ("20", True),
        ("*", True),
        ("", True),
        (">=18", True),
        (">=18 <20", False),
        ("^20.10.0", True),
        ("^20.20", False),
        ("~20.19.0", True),
        ("~20.18", False),
        ("20.19.2", True),
        ("=20.19.1", False),
        (">20.19", False),
        (">20.18", True),
        ("<=20.19", True),
        ("18 - 20", True),
        ("18 - 20.18", False),
        ("16.x || 20.x", True),
        ("16.x || 22.x", False),
        (">= 20", True),
        ("v20.x", True),
        ("22", False),
    ],
)
def test_node_range_against_the_stack_node(expression: str, allowed: bool) -> None:
    assert node_range_allows(expression, NODE) == allowed


def test_node_range_that_is_not_semver_is_refused() -> None:
    with pytest.raises(BuildFailed) as refused:
        check_node("latest", "20.19.2")
    assert refused.value.message == (
        "engines.node in package.json is 'latest', which is not a semver range: "
        "use one such as '20.x' or '>=18'."
    )


@pytest.mark.parametrize(
    ("go_mod", "note"),
    [
        ("module m\n\ngo 1.22\n", "Using Go 1.24.4 (go.mod asks for go 1.22)"),
        (
            "module m\n\ngo 1.24.4 // pinned\n",
            "Using Go 1.24.4 (go.mod asks for go 1.24)",
        ),
        ("module m\n", "Using Go 1.24.4"),
    ],
    ids=["older", "same", "no-go-line"],
)
def test_go_line_at_or_below_the_stack_builds(go_mod: str, note: str) -> None:
    assert check_go(go_mod, "1.24.4") == note


def test_go_line_above_the_stack_is_refused() -> None:
    with pytest.raises(BuildFailed, match=r"^go.mod asks for Go 1.25.1, which"):
        check_go("module m\ngo 1.25.1\n", "1.24.4")
