"""CLI commands for routing: domains and per-dyno request counts."""

from __future__ import annotations

from urllib.parse import quote

import click

from paas.cli.client import Client, resolve_app
from paas.cli.main import APP_OPTION, JSON_OPTION, cli
from paas.cli.output import print_json, step, table


@cli.command("domains")
@APP_OPTION
@JSON_OPTION
def domains(app: str | None, as_json: bool) -> None:
    """List an app's domains: its default one and custom ones."""
    name = resolve_app(app)
    found = Client().request("GET", f"/v1/apps/{name}/domains")
    if as_json:
        print_json(found)
        return
    default = [d["hostname"] for d in found if d["kind"] == "default"]
    custom = [d["hostname"] for d in found if d["kind"] == "custom"]
    click.echo(f"=== {name} Default Domain")
    click.echo("")
    click.echo("\n".join(default))
    if not custom:
        return
    target = default[0] if default else ""
    click.echo("")
    click.echo(f"=== {name} Custom Domains")
    click.echo("")
    rows = [["Domain Name", "DNS Record Type", "DNS Target"]]
    rows += [[host, "CNAME", target] for host in custom]
    click.echo(table(rows))


@cli.command("domains:add")
@click.argument("hostname")
@APP_OPTION
def domains_add(hostname: str, app: str | None) -> None:
    """Route a custom host name to an app."""
    name = resolve_app(app)
    body = {"hostname": hostname}
    with step(f"Adding {hostname} to {name}"):
        added = Client().request("POST", f"/v1/apps/{name}/domains", json=body)
    click.echo("done", err=True)
    click.echo(
        f"Point {added['hostname']} at the router: a CNAME to {name}'s default "
        f"domain, or an A record to the router's address."
    )


@cli.command("domains:remove")
@click.argument("hostname")
@APP_OPTION
def domains_remove(hostname: str, app: str | None) -> None:
    """Stop routing a custom host name to an app."""
    name = resolve_app(app)
    path = f"/v1/apps/{name}/domains/{quote(hostname, safe='')}"
    with step(f"Removing {hostname} from {name}"):
        Client().request("DELETE", path)
    click.echo("done", err=True)


@cli.command("router:stats")
@APP_OPTION
@JSON_OPTION
def router_stats(app: str | None, as_json: bool) -> None:
    """Show how many requests the router sent to each web dyno."""
    name = resolve_app(app)
    stats = Client().request("GET", f"/v1/apps/{name}/router-stats")
    if as_json:
        print_json(stats)
        return
    dynos = stats["dynos"]
    if not dynos:
        click.echo(f"No requests routed to {name}'s dynos yet.")
        return
    click.echo(f"=== {name} Requests per dyno (since each router process started)")
    click.echo("")
    rows = [["Dyno", "Requests", "In flight"]]
    for dyno, counts in dynos.items():
        rows.append([dyno, str(counts["requests"]), str(counts["in_flight"])])
    click.echo(table(rows))
