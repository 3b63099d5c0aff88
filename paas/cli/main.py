"""The ``paas`` command: a client of the API, plus ``paas serve``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click

from paas.cli.client import (
    Client,
    CliError,
    resolve_app,
    save_credentials,
    version_mismatch,
)
from paas.cli.output import print_json, step, table, when

APP_OPTION = click.option("-a", "--app", "app", help="The app (default: git remote).")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="paas")
def cli() -> None:
    """A Heroku-style platform as a service on Docker."""


@cli.command("serve")
@click.option("--home", type=click.Path(path_type=Path), help="Data dir (PAAS_HOME).")
@click.option("--api-port", type=int, help="API port (PAAS_API_PORT).")
@click.option("--router-port", type=int, help="Router port (PAAS_ROUTER_PORT).")
@click.option("--router-workers", type=int, help="Router processes.")
@click.option("--domain", help="App domain (PAAS_DOMAIN).")
def serve_command(
    home: Path | None,
    api_port: int | None,
    router_port: int | None,
    router_workers: int | None,
    domain: str | None,
) -> None:
    """Run the control plane and the router."""
    from paas.server import serve
    from paas.settings import Settings

    settings = Settings.from_env()
    settings.home = home or settings.home
    settings.api_port = api_port or settings.api_port
    settings.router_port = router_port or settings.router_port
    settings.router_workers = router_workers or settings.router_workers
    settings.domain = domain or settings.domain
    serve(settings)


@cli.command("login")
@click.option("--url", required=True, help="The API URL, e.g. http://127.0.0.1:7070.")
@click.option("--token", prompt=True, hide_input=True, help="The API token.")
def login(url: str, token: str) -> None:
    """Store the API URL and token for later commands."""
    path = save_credentials(url.rstrip("/"), token)
    Client().request("GET", "/v1/version")
    click.echo(f"Logged in to {url}; credentials in {path}.")


@cli.command("version")
def version_command() -> None:
    """Show the CLI's and the server's versions."""
    from paas import API_VERSION, __version__

    click.echo(f"paas CLI {__version__} (API v{API_VERSION})")
    server = Client().request("GET", "/v1/version", any_version=True)
    click.echo(f"paas server {server['version']} (API v{server['api_version']})")
    if str(server["api_version"]) != str(API_VERSION):
        click.echo(f"Warning: {version_mismatch(str(server['api_version']))}", err=True)


@cli.command("system:df")
@JSON_OPTION
def system_df(as_json: bool) -> None:
    """Show the disk the platform uses: images per app, containers, data."""
    usage = Client().request("GET", "/v1/disk")
    if as_json:
        print_json(usage)
        return
    rows = [["App", "Images", "Size"]]
    for app, entry in sorted(usage["apps"].items()):
        rows.append([app, str(entry["images"]), human_size(entry["bytes"])])
    click.echo(table(rows))
    click.echo("")
    click.echo(f"Release images:   {human_size(usage['images_bytes'])}")
    click.echo(f"Dyno containers:  {human_size(usage['containers_bytes'])}")
    click.echo(
        f"Dangling layers:  {human_size(usage['dangling_bytes'])} (the whole engine's)"
    )
    click.echo(f"Data dir:         {human_size(usage['data_dir_bytes'])}")


def human_size(size: int) -> str:
    """Format bytes as KB, MB or GB."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GB"


# apps


@cli.command("apps")
@JSON_OPTION
def apps(as_json: bool) -> None:
    """List apps."""
    found = Client().request("GET", "/v1/apps")
    if as_json:
        print_json(found)
        return
    click.echo("=== Apps")
    click.echo("")
    for app in found:
        click.echo(app["name"])


@cli.command("apps:create")
@click.argument("name")
@click.option("--no-remote", is_flag=True, help="Do not add a 'paas' git remote.")
def apps_create(name: str, no_remote: bool) -> None:
    """Create an app."""
    with step(f"Creating {name}"):
        app = Client().request("POST", "/v1/apps", json={"name": name})
    click.echo("done", err=True)
    click.echo(f"{app['web_url']} | {app['git_url']}")
    if not no_remote and _in_git_repo():
        _set_remote(app["git_url"])


@cli.command("apps:info")
@APP_OPTION
@JSON_OPTION
def apps_info(app: str | None, as_json: bool) -> None:
    """Show an app."""
    info = Client().request("GET", f"/v1/apps/{resolve_app(app)}")
    if as_json:
        print_json(info)
        return
    release = f"v{info['release']}" if info["release"] else "none"
    rows = [
        ["Buildpack:", info["buildpack"] or "(detected at first push)"],
        ["Domains:", ", ".join(info["domains"])],
        ["Git URL:", info["git_url"]],
        ["Release:", release],
        ["Web URL:", info["web_url"]],
    ]
    click.echo(f"=== {info['name']}")
    click.echo(table(rows))


@cli.command("apps:destroy")
@click.argument("name", required=False)
@APP_OPTION
@click.option("--confirm", help="The app's name again, to confirm.")
def apps_destroy(name: str | None, app: str | None, confirm: str | None) -> None:
    """Destroy an app: its dynos, images, repo and state."""
    if name and app and name != app:
        raise CliError(f"Two apps given: {name!r} and -a {app!r}. Name the app once.")
    name = resolve_app(name or app)
    if confirm != name:
        raise CliError(
            f"This destroys {name!r} and everything it has. To proceed, run "
            f"'paas apps:destroy {name} --confirm {name}'."
        )
    with step(f"Destroying {name}"):
        Client().request("DELETE", f"/v1/apps/{name}")
    click.echo("done", err=True)


# git


def _in_git_repo() -> bool:
    result = subprocess.run(
        ["git", "rev-parse", "--git-dir"], capture_output=True, check=False
    )
    return result.returncode == 0


def _set_remote(url: str) -> None:
    existing = subprocess.run(
        ["git", "remote", "get-url", "paas"], capture_output=True, check=False
    )
    verb = "set-url" if existing.returncode == 0 else "add"
    subprocess.run(["git", "remote", verb, "paas", url], check=True)
    # git asks this helper for the token, so it never sits in .git/config.
    paas = shutil.which("paas") or sys.argv[0]
    helper = f"!'{Path(paas).resolve()}' git:credentials"
    subprocess.run(["git", "config", f"credential.{url}.helper", helper], check=True)
    click.echo(f"Git remote paas set to {url}")


@cli.command("git:remote")
@APP_OPTION
def git_remote(app: str | None) -> None:
    """Add the 'paas' git remote of an app to the current repo."""
    if not _in_git_repo():
        raise CliError("Not inside a git repo. Run 'git init' first.")
    info = Client().request("GET", f"/v1/apps/{resolve_app(app)}")
    _set_remote(info["git_url"])


@cli.command("git:credentials", hidden=True)
@click.argument("operation")
def git_credentials(operation: str) -> None:
    """Answer git's credential helper protocol with the API token."""
    if operation != "get":
        return
    sys.stdin.read()
    token = Client().token
    if token:
        click.echo(f"username=paas\npassword={token}")
        return
    # Without a token git would prompt for a user name, and with no
    # terminal fail with "could not read Username": say what is missing.
    click.echo(
        "paas: no API token for git. Run 'paas login --url URL', or set "
        "PAAS_TOKEN (on the platform's machine, PAAS_HOME holds it).",
        err=True,
    )
    click.echo("quit=1")


from paas.cli import addons as _addons  # noqa: E402,F401  (registers commands)
from paas.cli import builds as _builds  # noqa: E402,F401
from paas.cli import dynos as _dynos  # noqa: E402,F401
from paas.cli import registry as _registry  # noqa: E402,F401
from paas.cli import releases as _releases  # noqa: E402,F401
from paas.cli import routing as _routing  # noqa: E402,F401


def main() -> None:
    """Run the CLI."""
    cli(prog_name="paas")


__all__ = ["cli", "main", "when"]
