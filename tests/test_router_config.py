"""Router timeouts can be set by environment variables."""

from __future__ import annotations

import pytest

from paas.router.config import RouterConfig


def test_env_sets_request_and_idle_timeouts() -> None:
    env = {"PAAS_ROUTER_REQUEST_TIMEOUT": "2.5", "PAAS_ROUTER_IDLE_TIMEOUT": "9"}
    config = RouterConfig.from_env(env)
    assert (config.first_byte_timeout, config.idle_timeout) == (2.5, 9.0)


def test_unset_env_keeps_herokus_defaults() -> None:
    assert RouterConfig.from_env({}) == RouterConfig()


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_bad_timeout_is_refused(value: str) -> None:
    message = rf"^PAAS_ROUTER_REQUEST_TIMEOUT='{value}' is invalid: give a positive"
    with pytest.raises(ValueError, match=message):
        RouterConfig.from_env({"PAAS_ROUTER_REQUEST_TIMEOUT": value})
