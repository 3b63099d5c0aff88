"""CLI commands for add-ons: the catalog, resources and attachments."""

from __future__ import annotations

import json
from typing import Any

import click

from paas.cli.client import Client, CliError, app_from_git_remote, resolve_app
from paas.cli.main import APP_OPTION, JSON_OPTION, cli
from paas.cli.output import print_json, step, table, when

RESULT_PREFIX = "\x00paas-result "


@cli.command("addons")
@APP_OPTION
@click.option("--all", "show_all", is_flag=True, help="Add-ons of every app.")
@JSON_OPTION
def addons(app: str | None, show_all: bool, as_json: bool) -> None:
    """List an app's add-ons (or every add-on with --all)."""
    name = None if show_all else (app or app_from_git_remote())
    client = Client()
    if name is None:
        found = client.request("GET", "/v1/addons")
    else:
        found = client.request("GET", f"/v1/apps/{name}/addons")
    if as_json:
        print_json(found)
        return
    if not found:
        where = f"{name}" if name else "any app"
        click.echo(f"No add-ons on {where}.")
        return
    click.echo(table(addon_rows(found, name)))


def addon_rows(found: list[dict[str, Any]], app: str | None) -> list[list[str]]:
    """Return ``paas addons`` rows: each resource, then its attachments."""
    rows = [["Add-on", "Plan", "State"]]
    for addon in found:
        owner = "" if addon["app"] == app else f" on {addon['app']}"
        rows.append([f"{addon['name']}{owner}", addon["plan"], addon["state"]])
        for attachment in addon["attachments"]:
            where = "" if attachment["app"] == app else f" on {attachment['app']}"
            rows.append([f" └─ as {attachment['name']}{where}", "", ""])
    return rows


@cli.command("addons:create")
@click.argument("service", required=False)
@click.option("--as", "attach_as", help="Attachment name (config var prefix).")
@click.option("--name", "resource", help="Resource name (default: generated).")
@click.option("--image", help="Run any registry image as the add-on.")
@click.option("--port", type=int, help="The port the --image listens on.")
@APP_OPTION
@JSON_OPTION
def addons_create(
    service: str | None,
    attach_as: str | None,
    resource: str | None,
    image: str | None,
    port: int | None,
    app: str | None,
    as_json: bool,
) -> None:
    """Create an add-on: SERVICE[:PLAN], or --image REF --port N --as NAME."""
    name = resolve_app(app)
    if not service and not image:
        raise click.UsageError("Give SERVICE[:PLAN] or --image REF.")
    body = {
        "service": service,
        "as": attach_as,
        "name": resource,
        "image": image,
        "port": port,
    }
    click.echo(f"Creating {service or image} on {name}...", err=True)
    result = _stream_create(Client(), name, body)
    if "error" in result:
        raise CliError(result["error"])
    addon = result["addon"]
    if as_json:
        print_json(result)
        return
    click.echo(f"done, v{result['release']}", err=True)
    keys = ", ".join(addon["config_vars"])
    click.echo(f"Created {addon['name']} as {keys}")
    click.echo(f"Run 'paas addons:info {addon['name']}' to see it.", err=True)


def _stream_create(client: Client, app: str, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"error": "The platform ended the stream early."}
    path = f"/v1/apps/{app}/addons"
    with client.stream("POST", path, json=body) as response:
        for line in response.iter_lines():
            if line.startswith(RESULT_PREFIX):
                result = json.loads(line.removeprefix(RESULT_PREFIX))
            else:
                click.echo(line, err=True)
    return result


@cli.command("addons:info")
@click.argument("addon")
@APP_OPTION
@JSON_OPTION
def addons_info(addon: str, app: str | None, as_json: bool) -> None:
    """Show an add-on: plan, attachments, owning app, state."""
    params = {"app": app or app_from_git_remote() or ""}
    info = Client().request("GET", f"/v1/addons/{addon}", params=params)
    if as_json:
        print_json(info)
        return
    attached = ", ".join(f"{a['app']}::{a['name']}" for a in info["attachments"])
    rows = [
        ["Plan:", info["plan"]],
        ["Image:", info["image"]],
        ["Attachments:", attached or "(none)"],
        ["Config vars:", ", ".join(info["config_vars"]) or "(none)"],
        ["Owning app:", info["app"]],
        ["Installed at:", when(info["created_at"])],
        ["State:", info["state"]],
        ["Container:", info.get("container", "-")],
    ]
    click.echo(f"=== {info['name']}")
    click.echo(table(rows))


@cli.command("addons:catalog")
@JSON_OPTION
def addons_catalog(as_json: bool) -> None:
    """List the services add-ons can be made of."""
    services = Client().request("GET", "/v1/addon-services")
    if as_json:
        print_json(services)
        return
    rows = [["Service", "Default plan", "Config var", "Description"]]
    for service in services:
        config = ", ".join(service["config_vars"])
        rows.append(
            [service["name"], service["default_plan"], config, service["description"]]
        )
    click.echo(table(rows))


@cli.command("addons:plans")
@click.argument("service")
@JSON_OPTION
def addons_plans(service: str, as_json: bool) -> None:
    """List a service's plans: image and memory."""
    plans = Client().request("GET", f"/v1/addon-services/{service}/plans")
    if as_json:
        print_json(plans)
        return
    rows = [["", "Plan", "Image", "Memory"]]
    for plan in plans:
        mark = "default" if plan["default"] else ""
        name = f"{service}:{plan['name']}"
        rows.append([mark, name, plan["image"], f"{plan['memory_mb']} MB"])
    click.echo(table(rows))


@cli.command("addons:attach")
@click.argument("addon")
@click.option("--as", "attach_as", help="Attachment name (config var prefix).")
@APP_OPTION
def addons_attach(addon: str, attach_as: str | None, app: str | None) -> None:
    """Attach an existing add-on to another app."""
    name = resolve_app(app)
    body = {"addon": addon, "as": attach_as}
    with step(f"Attaching {addon}{f' as {attach_as}' if attach_as else ''} to {name}"):
        found = Client().request(
            "POST", f"/v1/apps/{name}/addon-attachments", json=body
        )
    click.echo("done", err=True)
    click.echo(
        f"Setting {found['name']} config vars and restarting {name}... "
        f"done, v{found['release']}",
        err=True,
    )


@cli.command("addons:detach")
@click.argument("attachment")
@APP_OPTION
def addons_detach(attachment: str, app: str | None) -> None:
    """Detach an add-on from an app; its config vars go, the add-on stays."""
    name = resolve_app(app)
    with step(f"Detaching {attachment} from {name}"):
        found = Client().request(
            "DELETE", f"/v1/apps/{name}/addon-attachments/{attachment}"
        )
    click.echo(f"done, v{found['release']}", err=True)


@cli.command("addons:destroy")
@click.argument("addon")
@click.option("--confirm", help="The owning app's name, to confirm.")
@APP_OPTION
def addons_destroy(addon: str, confirm: str | None, app: str | None) -> None:
    """Destroy an add-on: its container and its data, on every app."""
    client = Client()
    owner = client.request("GET", f"/v1/addons/{addon}")["app"]
    if app and app != owner:
        raise CliError(f"{addon} is on {owner}, not {app}.")
    if confirm is not None and confirm != owner:
        raise CliError(
            f"--confirm {confirm} does not match {owner}, the app {addon} is "
            f"on. Nothing was destroyed. To proceed, run "
            f"'paas addons:destroy {addon} --confirm {owner}'."
        )
    if confirm != owner:
        raise CliError(
            f"This destroys {addon} and its data on {owner}. To proceed, run "
            f"'paas addons:destroy {addon} --confirm {owner}'."
        )
    with step(f"Destroying {addon} on {owner}"):
        client.request("DELETE", f"/v1/addons/{addon}", params={"confirm": confirm})
    click.echo("done", err=True)


@cli.command("addons:logs")
@click.argument("addon")
@click.option(
    "-n",
    "--num",
    "lines",
    type=click.IntRange(1, 1500),
    default=100,
    help="Lines to show.",
)
def addons_logs(addon: str, lines: int) -> None:
    """Show the last lines an add-on's service printed."""
    params = {"lines": str(lines)}
    with Client().stream("GET", f"/v1/addons/{addon}/logs", params=params) as response:
        for line in response.iter_lines():
            click.echo(line)
