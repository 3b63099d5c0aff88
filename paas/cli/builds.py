"""CLI commands for builds and an app's buildpack."""

from __future__ import annotations

from typing import Any

import click

from paas.cli.client import Client, CliError, resolve_app
from paas.cli.main import APP_OPTION, JSON_OPTION, cli
from paas.cli.output import print_json, table, when


@cli.command("buildpacks")
@APP_OPTION
@JSON_OPTION
def buildpacks(app: str | None, as_json: bool) -> None:
    """Show the buildpack an app builds with (remembered or pinned)."""
    name = resolve_app(app)
    found = Client().request("GET", f"/v1/apps/{name}/buildpack")
    if as_json:
        print_json(found)
    elif found["buildpack"] is None:
        click.echo(f"{name} has no buildpack set. The next push detects one.")
    else:
        click.echo(f"=== {name} Buildpack")
        click.echo("")
        click.echo(found["buildpack"])


@cli.command("buildpacks:set")
@click.argument("buildpack")
@APP_OPTION
def buildpacks_set(buildpack: str, app: str | None) -> None:
    """Pin the buildpack of an app's next builds."""
    name = resolve_app(app)
    path = f"/v1/apps/{name}/buildpack"
    found = Client().request("PUT", path, json={"buildpack": buildpack})
    click.echo(f"Buildpack set. Next release on {name} will use {found['buildpack']}.")
    click.echo("Run git push paas main to create a new release using this buildpack.")


@cli.command("buildpacks:clear")
@APP_OPTION
def buildpacks_clear(app: str | None) -> None:
    """Forget an app's buildpack, so the next push detects one."""
    name = resolve_app(app)
    Client().request("DELETE", f"/v1/apps/{name}/buildpack")
    click.echo(f"Buildpack cleared. Next release on {name} will detect a buildpack.")


def duration(build: dict[str, Any]) -> str:
    """Format a build's duration as ``1m 05s``, or ``-`` while it runs."""
    seconds = build.get("duration")
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    return f"{whole // 60}m {whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def build_rows(found: list[dict[str, Any]]) -> list[list[str]]:
    """Return the rows of ``paas builds``: a header, then one per build."""
    rows = [["ID", "Status", "Commit", "Buildpack", "Duration", "Started"]]
    for build in found:
        rows.append(
            [
                build["id"],
                build["status"],
                (build["commit"] or "-")[:7],
                build["buildpack"] or "-",
                duration(build),
                when(build["started_at"]),
            ]
        )
    return rows


@cli.command("builds")
@click.option(
    "-n", "--num", "limit", type=click.IntRange(min=1), default=15, help="How many."
)
@APP_OPTION
@JSON_OPTION
def builds(limit: int, app: str | None, as_json: bool) -> None:
    """List an app's builds, newest first."""
    name = resolve_app(app)
    path = f"/v1/apps/{name}/builds"
    found = Client().request("GET", path, params={"limit": limit})
    if as_json:
        print_json(found)
        return
    if not found:
        click.echo(f"{name} has no builds. Push to build it: git push paas main.")
        return
    click.echo(f"=== {name} Builds")
    click.echo("")
    click.echo(table(build_rows(found)))


@cli.command("builds:output")
@click.argument("build_id", required=False)
@APP_OPTION
def builds_output(build_id: str | None, app: str | None) -> None:
    """Show the output of a build (the latest by default)."""
    name = resolve_app(app)
    client = Client()
    if build_id is None:
        latest = client.request("GET", f"/v1/apps/{name}/builds", params={"limit": 1})
        if not latest:
            raise CliError(f"{name} has no builds yet. Push to build it.")
        build_id = latest[0]["id"]
    build = client.request("GET", f"/v1/apps/{name}/builds/{build_id}")
    click.echo(build["output"], nl=False)
