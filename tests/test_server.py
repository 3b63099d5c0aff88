"""Unit tests of paas serve's start-up guards."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from paas.errors import PaasError
from paas.server import check_port_free, hold_serve_lock, make_private_home
from paas.settings import Settings


def test_data_dir_is_made_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    make_private_home(home)
    make_private_home(tmp_path / "new" / "home")
    assert home.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "new" / "home").stat().st_mode & 0o777 == 0o700


def test_serve_lock_is_held_once_per_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env()
    settings.home = tmp_path
    held = hold_serve_lock(settings)
    try:
        with pytest.raises(PaasError) as refused:
            hold_serve_lock(settings)
    finally:
        os.close(held)
    again = hold_serve_lock(settings)
    os.close(again)
    assert "Another paas serve (PID " in refused.value.message


def test_taken_port_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PaasError) as refused:
            check_port_free("127.0.0.1", port, "API")
    assert refused.value.message == (
        f"The API port 127.0.0.1:{port} is already in use. Stop what listens "
        "there, or choose another port."
    )
