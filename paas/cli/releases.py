"""CLI commands for config vars, releases and rollback."""

from __future__ import annotations

from typing import Any

import click

from paas.cli.client import Client, CliError, resolve_app
from paas.cli.main import APP_OPTION, JSON_OPTION, cli
from paas.cli.output import human_size, print_json, shell_quote, step, table, when


@cli.command("config")
@click.option("-s", "--shell", is_flag=True, help="Print KEY=value lines.")
@APP_OPTION
@JSON_OPTION
def config(shell: bool, app: str | None, as_json: bool) -> None:
    """Show an app's config vars."""
    name = resolve_app(app)
    config_vars = Client().request("GET", f"/v1/apps/{name}/config-vars")
    if as_json:
        print_json(config_vars)
    elif shell:
        for key, value in sorted(config_vars.items()):
            click.echo(f"{key}={shell_quote(value)}")
    elif not config_vars:
        click.echo(f"{name} has no config vars.")
    else:
        click.echo(f"=== {name} Config Vars")
        click.echo("")
        rows = [[f"{key}:", value] for key, value in sorted(config_vars.items())]
        click.echo(table(rows))


def parse_assignments(pairs: tuple[str, ...]) -> dict[str, str | None]:
    """Parse KEY=value arguments; the value is everything after the first '='.

    Raises:
        CliError: an argument has no '='.
    """
    changes: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"{pair!r} is invalid. Must be in the format FOO=bar.")
        changes[key] = value
    return changes


@cli.command("config:set")
@click.argument("pairs", nargs=-1, required=True)
@APP_OPTION
def config_set(pairs: tuple[str, ...], app: str | None) -> None:
    """Set config vars (KEY=value ...); releases and restarts the app."""
    name = resolve_app(app)
    changes = parse_assignments(pairs)
    path = f"/v1/apps/{name}/config-vars"
    with step(f"Setting {', '.join(changes)} and restarting {name}"):
        result = Client().request("PATCH", path, json=changes)
    _say_release(result)
    for key, value in changes.items():
        click.echo(f"{key}: {value}")


@cli.command("config:get")
@click.argument("key")
@APP_OPTION
def config_get(key: str, app: str | None) -> None:
    """Print one config var's value."""
    name = resolve_app(app)
    config_vars = Client().request("GET", f"/v1/apps/{name}/config-vars")
    click.echo(config_vars.get(key, ""))


@cli.command("config:unset")
@click.argument("keys", nargs=-1, required=True)
@APP_OPTION
def config_unset(keys: tuple[str, ...], app: str | None) -> None:
    """Unset config vars; releases and restarts the app."""
    name = resolve_app(app)
    client = Client()
    config_vars = client.request("GET", f"/v1/apps/{name}/config-vars")
    unknown = [key for key in keys if key not in config_vars]
    if unknown:
        verb = "is" if len(unknown) == 1 else "are"
        click.echo(f"{', '.join(unknown)} {verb} not set on {name}.", err=True)
    if len(unknown) == len(keys):
        click.echo("Nothing changed: no new release.", err=True)
        return
    changes = dict.fromkeys(keys)
    path = f"/v1/apps/{name}/config-vars"
    with step(f"Unsetting {', '.join(keys)} and restarting {name}"):
        result = client.request("PATCH", path, json=changes)
    _say_release(result)


def _say_release(result: dict[str, object]) -> None:
    if result["release"] is None:
        click.echo("done, no change: no new release", err=True)
    else:
        click.echo(f"done, v{result['release']}", err=True)


STATUS_NOTE = {"failed": "release failed", "pending": "release pending"}


def _status(release: dict[str, Any]) -> str:
    failure = release.get("failure")
    return f"{release['status']} ({failure})" if failure else str(release["status"])


def _status_note(release: dict[str, Any]) -> str | None:
    if release["status"] == "failed" and release.get("failure"):
        return str(release["failure"])
    return STATUS_NOTE.get(release["status"])


@cli.command("releases")
@click.option(
    "-n", "--num", "limit", type=click.IntRange(min=1), default=15, help="How many."
)
@APP_OPTION
@JSON_OPTION
def releases(limit: int, app: str | None, as_json: bool) -> None:
    """List an app's releases, newest first."""
    name = resolve_app(app)
    found = Client().request(
        "GET", f"/v1/apps/{name}/releases", params={"limit": limit}
    )
    if as_json:
        print_json(found)
        return
    if not found:
        click.echo(f"{name} has no releases.")
        return
    current = next((r["version"] for r in found if r["current"]), None)
    click.echo(
        f"=== {name} Releases - Current: v{current}"
        if current
        else f"=== {name} Releases"
    )
    click.echo("")
    rows = [
        [
            f"v{r['version']}",
            " ".join(filter(None, [r["description"], _status_note(r)])),
            r["created_by"],
            when(r["created_at"]),
        ]
        for r in found
    ]
    click.echo(table(rows))


def parse_version(text: str) -> int:
    """Parse ``v12`` or ``12``.

    Raises:
        CliError: not a release number.
    """
    digits = text.removeprefix("v")
    if not (digits.isascii() and digits.isdigit()):
        raise CliError(f"{text!r} is not a release. Use a version such as v3.")
    return int(digits)


@cli.command("releases:info")
@click.argument("version")
@APP_OPTION
@JSON_OPTION
def releases_info(version: str, app: str | None, as_json: bool) -> None:
    """Show one release: image, commit, config keys and status."""
    name = resolve_app(app)
    number = parse_version(version)
    release = Client().request("GET", f"/v1/apps/{name}/releases/{number}")
    if as_json:
        print_json(release)
        return
    click.echo(f"=== Release v{number}")
    rows = [
        ["By:", release["created_by"]],
        ["Change:", release["description"]],
        ["Commit:", release["commit"] or "-"],
        ["Config:", ", ".join(release["config_keys"]) or "-"],
        ["Image:", release["image"] or "-"],
        ["Status:", _status(release)],
        ["When:", when(release["created_at"])],
    ]
    click.echo(table(rows))
    if release["image"]:
        click.echo("\n".join(layer_lines(Client(), name, number)))


def layer_lines(client: Client, app: str, version: int) -> list[str]:
    """Return the Layers part of ``releases:info``; a pruned image says so."""
    try:
        found = client.request("GET", f"/v1/apps/{app}/releases/{version}/layers")
    except CliError as exc:
        return ["", f"Layers: {exc.message}"]
    previous = found["previous"]
    shared = sum(1 for layer in found["layers"] if layer["shared"])
    versus = f", {shared} shared with v{previous['version']}" if previous else ""
    lines = ["", f"=== Layers ({len(found['layers'])}{versus})"]
    rows = [
        [
            layer["digest"].removeprefix("sha256:")[:12],
            size_text(layer["size"]),
            "shared" if layer["shared"] else "new",
            layer["created_by"] or "",
        ]
        for layer in found["layers"]
    ]
    lines.append(table(rows))
    total, reused = found["total_size"], found["shared_size"]
    if total is not None and previous:
        lines.append(f"Total {size_text(total)}, {size_text(total - reused)} new")
    return lines


def size_text(size: int | None) -> str:
    """Format a byte count as ``12.3 MB``, or ``?`` when unknown."""
    return "?" if size is None else human_size(size)


@cli.command("rollback")
@click.argument("version", required=False)
@APP_OPTION
def rollback(version: str | None, app: str | None) -> None:
    """Release an earlier release's code and config again."""
    name = resolve_app(app)
    client = Client()
    before = client.request("GET", f"/v1/apps/{name}/releases", params={"limit": 1})
    target = parse_version(version) if version else None
    label = f"v{target}" if target else "the previous release"
    with step(f"Rolling back {name} to {label}"):
        release = client.request(
            "POST", f"/v1/apps/{name}/releases", json={"rollback": target}
        )
    click.echo(f"done, v{release['version']}", err=True)
    click.echo(
        "Rollback affects code and config vars; it doesn't add or remove add-ons."
    )
    if before:
        click.echo(f"To undo, run: paas rollback v{before[0]['version']}")
    if release["status"] != "succeeded":
        raise CliError(f"Release v{release['version']} did not come up.")
