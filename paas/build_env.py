"""Build settings: what a build may read besides the pushed source.

Two sources, both optional:

- the operator's build environment, ``KEY=value`` lines in the file named by
  ``PAAS_BUILD_ENV`` (package index URLs, proxies), read at each build;
- the app's config vars, as on Heroku.

They reach the build as env files in the build context (``.paas/*.env``),
never as build args or ``ENV``: Docker's classic builder writes the value of
every build arg a ``RUN`` uses into ``docker history``. A template that asks
for the files copies them into a stage named ``build`` and copies only its
results into the image that runs, so the values stay out of the layers the
app's users can read back. A template that does not mention them gets none.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from paas.errors import BuildFailed

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
DEFAULT_TIMEOUT = 900.0

# Config vars the dependency install sees. The rest wait for the steps that
# run the app's code, so that setting an unrelated config var does not make
# the next push reinstall every dependency.
INSTALL_PREFIXES = ("PIP_", "NPM_CONFIG_")
INSTALL_KEYS = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}

INSTALL_ENV = ".paas/install.env"
APP_ENV = ".paas/app.env"


@dataclass
class BuildSettings:
    """The operator's build settings."""

    env_file: Path | None = None
    ca_bundle: Path = DEFAULT_CA_BUNDLE
    timeout: float = DEFAULT_TIMEOUT
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> BuildSettings:
        """Read PAAS_BUILD_ENV, PAAS_BUILD_CA_BUNDLE and PAAS_BUILD_TIMEOUT.

        Raises:
            ValueError: PAAS_BUILD_TIMEOUT is not a positive number.
        """
        env = os.environ
        timeout = float(env.get("PAAS_BUILD_TIMEOUT", str(DEFAULT_TIMEOUT)))
        if timeout <= 0:
            raise ValueError(f"PAAS_BUILD_TIMEOUT must be above 0, not {timeout!r}")
        named = env.get("PAAS_BUILD_ENV")
        return cls(
            env_file=Path(named) if named else None,
            ca_bundle=Path(env.get("PAAS_BUILD_CA_BUNDLE", str(DEFAULT_CA_BUNDLE))),
            timeout=timeout,
        )

    def operator_env(self) -> dict[str, str]:
        """Return the operator's build environment.

        Raises:
            BuildFailed: the file is missing or has a line that is not KEY=value.
        """
        found = dict(self.extra_env)
        if self.env_file is None:
            return found
        try:
            text = self.env_file.read_text()
        except OSError as exc:
            raise BuildFailed(
                f"The build environment file {str(self.env_file)!r} (PAAS_BUILD_ENV) "
                f"cannot be read: {exc.strerror}. Fix the path or unset it."
            ) from exc
        return found | parse_env_file(text, str(self.env_file))


def parse_env_file(text: str, name: str) -> dict[str, str]:
    """Parse ``KEY=value`` lines; blank lines and ``#`` comments are skipped.

    Raises:
        BuildFailed: a line is not ``KEY=value`` with a valid key.
    """
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key = key.removeprefix("export ").strip()
        if not sep or not KEY.fullmatch(key):
            raise BuildFailed(
                f"Line {number} of {name!r} is not KEY=value: "
                "write one setting per line, such as PIP_INDEX_URL=https://..."
            )
        found[key] = _unquote(value.strip())
    return found


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def is_install_key(key: str) -> bool:
    """Tell whether the dependency install step sees a config var."""
    return key.upper() in INSTALL_KEYS or key.startswith(INSTALL_PREFIXES)


def build_envs(
    operator: dict[str, str], config_vars: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Return the env files' contents: the install step's and the app steps'.

    A config var overrides the operator's value of the same name.
    """
    usable = {key: value for key, value in config_vars.items() if KEY.fullmatch(key)}
    install = operator | {k: v for k, v in usable.items() if is_install_key(k)}
    return {INSTALL_ENV: install, APP_ENV: operator | usable}


def render_env_file(values: dict[str, str]) -> str:
    """Return ``KEY='value'`` lines that ``set -a; . FILE`` exports."""
    return "".join(
        f"{key}={shlex.quote(value)}\n" for key, value in sorted(values.items())
    )


def write_env_files(
    source: Path, dockerfile: str, operator: dict[str, str], config_vars: dict[str, str]
) -> list[str]:
    """Write the env files a rendered Dockerfile copies; return their paths.

    Files the Dockerfile does not name are not written, so a template that
    copies the whole context into its image cannot pick up a secret.
    """
    written = []
    for path, values in build_envs(operator, config_vars).items():
        if path not in dockerfile:
            continue
        target = source / path
        target.write_text(render_env_file(values))
        target.chmod(0o600)
        written.append(path)
    return written


def load_command(path: str) -> str:
    """Return the shell words that export an env file copied to ``path``."""
    return f"set -a && . {path} && set +a"
