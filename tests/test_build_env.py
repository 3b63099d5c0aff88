"""Build settings: the operator's build env file and config vars as env files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from paas.build_env import (
    APP_ENV,
    INSTALL_ENV,
    BuildSettings,
    build_envs,
    parse_env_file,
    render_env_file,
    write_env_files,
)
from paas.builder import Builder
from paas.errors import BuildFailed


def test_env_file_lines_are_parsed() -> None:
    text = (
        "# mirror\n\nPIP_INDEX_URL=https://u:p@mirror/simple\n"
        "export HTTPS_PROXY='http://proxy:3128'\nEMPTY=\n"
    )
    assert parse_env_file(text, "build.env") == {
        "PIP_INDEX_URL": "https://u:p@mirror/simple",
        "HTTPS_PROXY": "http://proxy:3128",
        "EMPTY": "",
    }


@pytest.mark.parametrize("line", ["NOEQUALS", "1BAD=x", "A B=x"])
def test_bad_env_file_line_is_refused_by_number(line: str) -> None:
    with pytest.raises(BuildFailed) as caught:
        parse_env_file(f"OK=1\n{line}\n", "/etc/paas/build.env")
    assert caught.value.message == (
        "Line 2 of '/etc/paas/build.env' is not KEY=value: write one setting "
        "per line, such as PIP_INDEX_URL=https://..."
    )


def test_missing_env_file_names_the_setting(tmp_path: Path) -> None:
    settings = BuildSettings(env_file=tmp_path / "nope.env")
    with pytest.raises(BuildFailed, match=r"\(PAAS_BUILD_ENV\) cannot be read"):
        settings.operator_env()


def test_settings_are_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAAS_BUILD_ENV", str(tmp_path / "b.env"))
    monkeypatch.setenv("PAAS_BUILD_CA_BUNDLE", "/etc/corp.pem")
    monkeypatch.setenv("PAAS_BUILD_TIMEOUT", "60")
    assert BuildSettings.from_env() == BuildSettings(
        tmp_path / "b.env", Path("/etc/corp.pem"), 60.0
    )


def test_default_timeout_is_fifteen_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAAS_BUILD_TIMEOUT", raising=False)
    assert BuildSettings.from_env().timeout == 900.0


def test_install_step_sees_only_package_manager_config_vars() -> None:
    envs = build_envs(
        {"PIP_INDEX_URL": "https://mirror/simple"},
        {
            "PIP_EXTRA_INDEX_URL": "https://t@extra",
            "SECRET_KEY": "s",
            "https_proxy": "p",
        },
    )
    assert envs[INSTALL_ENV] == {
        "PIP_INDEX_URL": "https://mirror/simple",
        "PIP_EXTRA_INDEX_URL": "https://t@extra",
        "https_proxy": "p",
    }


def test_app_steps_see_every_config_var_over_operator_values() -> None:
    envs = build_envs({"A": "operator", "B": "operator"}, {"B": "app", "C": "app"})
    assert envs[APP_ENV] == {"A": "operator", "B": "app", "C": "app"}


def test_env_file_round_trips_through_the_shell(tmp_path: Path) -> None:
    values = {"QUOTE": 'it\'s "x" $HOME `id`', "LINES": "a\nb", "EMPTY": ""}
    path = tmp_path / "x.env"
    path.write_text(render_env_file(values))
    script = (
        f'set -a && . {path} && set +a && printf "%s|%s|%s" "$QUOTE" "$LINES" "$EMPTY"'
    )
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert done.stdout == 'it\'s "x" $HOME `id`|a\nb|'


def test_only_env_files_the_dockerfile_copies_are_written(tmp_path: Path) -> None:
    (tmp_path / ".paas").mkdir()
    dockerfile = f"COPY {INSTALL_ENV} /opt/paas/build/install.env\n"
    written = write_env_files(tmp_path, dockerfile, {}, {"SECRET": "s"})
    assert written == [INSTALL_ENV]
    assert not (tmp_path / APP_ENV).exists()
    assert (tmp_path / INSTALL_ENV).stat().st_mode & 0o777 == 0o600


class EngineStandIn:
    """Answers builds with nothing, so the builder's context can be read."""

    def __init__(self) -> None:
        self.api = self

    def build(self, **kwargs: object) -> list[dict[str, str]]:
        return []


def django_source(tmp_path: Path) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "requirements.txt").write_text("django\n")
    (tmp_path / "Procfile").write_text("web: gunicorn site.wsgi\n")
    return tmp_path


def test_builder_hands_config_vars_to_the_build_context(tmp_path: Path) -> None:
    operator = tmp_path / "operator.env"
    operator.write_text("PIP_INDEX_URL=https://mirror/simple\n")
    source = django_source(tmp_path / "src")
    builder = Builder(EngineStandIn(), "t", "stack", BuildSettings(env_file=operator))
    config = {"SECRET_KEY": "s", "PIP_EXTRA_INDEX_URL": "https://x"}
    builder.build("shop", "b1", source, lambda line: None, config_vars=config)
    assert (source / INSTALL_ENV).read_text() == (
        "PIP_EXTRA_INDEX_URL=https://x\nPIP_INDEX_URL=https://mirror/simple\n"
    )
    assert "SECRET_KEY=s\n" in (source / APP_ENV).read_text()


def test_missing_ca_bundle_names_the_setting(tmp_path: Path) -> None:
    settings = BuildSettings(ca_bundle=tmp_path / "corp.pem")
    builder = Builder(EngineStandIn(), "t", "stack", settings)
    with pytest.raises(BuildFailed, match=r"set PAAS_BUILD_CA_BUNDLE to a PEM file"):
        builder.build("shop", "b1", django_source(tmp_path), lambda line: None)
