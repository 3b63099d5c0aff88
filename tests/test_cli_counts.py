"""Counts given with -n are checked before any request is sent."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from paas.cli.main import cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["builds", "-n", "0", "-a", "shop"], "0 is not in the range x>=1."),
        (["releases", "-n", "-1", "-a", "shop"], "-1 is not in the range x>=1."),
        (["addons:logs", "db", "-n", "-3"], "-3 is not in the range 1<=x<=1500."),
        (["registry:images", "-n", "0"], "0 is not in the range x>=1."),
    ],
)
def test_count_out_of_range_is_a_usage_error(args: list[str], message: str) -> None:
    done = CliRunner().invoke(cli, args, prog_name="paas")
    assert done.exit_code == 2
    assert done.stderr.endswith(f"{message}\n")
