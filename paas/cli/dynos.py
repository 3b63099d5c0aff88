"""CLI commands for dynos: ps, scaling, restarts, one-off runs and logs."""

from __future__ import annotations

import shlex
import sys

import click

from paas.cli.client import Client, CliError, resolve_app
from paas.cli.main import APP_OPTION, JSON_OPTION, cli
from paas.cli.output import print_json, ps_lines, step
from paas.cli.terminal import run_in_terminal, terminal_env

EXIT_PREFIX = "\x00paas-exit "
# Heroku keeps and shows at most 1500 lines.
MAX_LOG_LINES = 1500


@cli.command("ps")
@click.argument("process_type", required=False)
@APP_OPTION
@JSON_OPTION
def ps(process_type: str | None, app: str | None, as_json: bool) -> None:
    """List an app's dynos."""
    name = resolve_app(app)
    dynos = Client().request("GET", f"/v1/apps/{name}/dynos")
    if process_type:
        dynos = [d for d in dynos if d["type"] == process_type]
    if as_json:
        print_json(dynos)
        return
    if not dynos:
        what = f"{process_type} dynos" if process_type else "dynos"
        click.echo(f"No {what} on {name}.")
        return
    click.echo("\n".join(ps_lines(dynos)).rstrip("\n"))


@cli.command("ps:scale")
@click.argument("changes", nargs=-1)
@APP_OPTION
def ps_scale(changes: tuple[str, ...], app: str | None) -> None:
    """Scale process types: web=2 worker+1 web=1:standard-2x."""
    name = resolve_app(app)
    client = Client()
    if not changes:
        formation = client.request("GET", f"/v1/apps/{name}/formation")
        if not formation:
            raise CliError(f"No process types on {name}. Push a Procfile first.")
        click.echo(" ".join(_entry(e) for e in formation))
        return
    body = {"updates": list(changes)}
    with step("Scaling dynos"):
        formation = client.request("PATCH", f"/v1/apps/{name}/formation", json=body)
    summary = ", ".join(
        f"{e['process_type']} at {e['quantity']}:{e['size']}" for e in formation
    )
    click.echo(f"done, now running {summary}", err=True)


def _entry(entry: dict[str, object]) -> str:
    return f"{entry['process_type']}={entry['quantity']}:{entry['size']}"


@cli.command("ps:resize")
@click.argument("changes", nargs=-1, required=True)
@APP_OPTION
def ps_resize(changes: tuple[str, ...], app: str | None) -> None:
    """Change dyno sizes: web=standard-2x."""
    name = resolve_app(app)
    client = Client()
    current = {
        e["process_type"]: e["quantity"]
        for e in client.request("GET", f"/v1/apps/{name}/formation")
    }
    updates = []
    for change in changes:
        kind, _, size = change.partition("=")
        if not size:
            raise CliError(f"{change!r} is invalid. Use TYPE=SIZE (web=standard-2x).")
        updates.append(f"{kind}={current.get(kind, 0)}:{size}")
    client.request("PATCH", f"/v1/apps/{name}/formation", json={"updates": updates})
    click.echo(f"Resized {', '.join(changes)} on {name}.", err=True)


@cli.command("ps:restart")
@click.argument("target", required=False)
@click.option("-p", "--process-type", help="Restart dynos of this type.")
@click.option("-d", "--dyno", help="Restart this dyno (web.1).")
@APP_OPTION
def ps_restart(
    target: str | None, process_type: str | None, dyno: str | None, app: str | None
) -> None:
    """Restart all dynos, one process type or one dyno."""
    name = resolve_app(app)
    if target and "." in target:
        dyno = dyno or target
    elif target:
        process_type = process_type or target
    params = {k: v for k, v in {"type": process_type, "dyno": dyno}.items() if v}
    what = (
        f"dyno {dyno}"
        if dyno
        else f"all {process_type} dynos"
        if process_type
        else "all dynos"
    )
    with step(f"Restarting {what} on {name}"):
        Client().request("DELETE", f"/v1/apps/{name}/dynos", params=params)
    click.echo("done", err=True)


@cli.command("ps:stop")
@click.argument("dyno")
@APP_OPTION
def ps_stop(dyno: str, app: str | None) -> None:
    """Stop a dyno; a formation dyno is started again fresh."""
    name = resolve_app(app)
    with step(f"Stopping {dyno} on {name}"):
        Client().request("DELETE", f"/v1/apps/{name}/dynos", params={"dyno": dyno})
    click.echo("done", err=True)


@cli.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--detach", is_flag=True, help="Run in the background; see paas logs.")
@click.option("-s", "--size", help="Dyno size.")
@click.option("--no-tty", is_flag=True, help="Do not attach a terminal.")
@APP_OPTION
def run(
    command: tuple[str, ...],
    detach: bool,
    size: str | None,
    no_tty: bool,
    app: str | None,
) -> None:
    """Run a one-off command in a fresh dyno; its exit code is passed on."""
    name = resolve_app(app)
    client = Client()
    # One argument is a shell command line; several keep their quoting.
    text = command[0] if len(command) == 1 else shlex.join(command)
    use_tty = not detach and not no_tty and sys.stdin.isatty() and sys.stdout.isatty()
    body: dict[str, object] = {"command": text, "size": size, "detach": detach}
    if use_tty:
        body |= {"tty": True, "env": terminal_env()}
    with step(f"Running {text} on {name}"):
        dyno = client.request("POST", f"/v1/apps/{name}/dynos", json=body)
    click.echo(f"up, {dyno['name']} ({dyno['size']})", err=True)
    if detach:
        click.echo(f"Run 'paas logs -a {name} --ps {dyno['name']}' to see its output.")
        return
    if use_tty:
        sys.exit(run_in_terminal(client, name, dyno["name"]))
    sys.exit(_attach(client, name, dyno["name"]))


def _attach(client: Client, app: str, dyno: str) -> int:
    code = 1
    with client.stream("GET", f"/v1/apps/{app}/dynos/{dyno}/attach") as response:
        try:
            for line in response.iter_lines():
                if line.startswith(EXIT_PREFIX):
                    code = int(line.removeprefix(EXIT_PREFIX))
                else:
                    click.echo(line)
        except KeyboardInterrupt:
            _stop_one_off(client, app, dyno)
            return 130
    return code


def _stop_one_off(client: Client, app: str, dyno: str) -> None:
    # Stopped while still attached; the server would stop it on the hang-up
    # too, but this way the user learns that it happened.
    click.echo("", err=True)
    with step(f"Stopping {dyno} on {app}"):
        client.request("DELETE", f"/v1/apps/{app}/dynos", params={"dyno": dyno})
    click.echo("done", err=True)


@cli.command("logs")
@click.option("-n", "--num", "lines", type=int, default=100, help="Lines to show.")
@click.option("-t", "--tail", is_flag=True, help="Keep following new lines.")
@click.option(
    "-p",
    "-d",
    "--ps",
    "--dyno",
    "--dyno-name",
    "--process-type",
    "dyno",
    help="Only this dyno (web.1) or process type (web).",
)
@click.option("-s", "--source", help="Only this source: app, paas or router.")
@APP_OPTION
def logs(
    lines: int, tail: bool, dyno: str | None, source: str | None, app: str | None
) -> None:
    """Show an app's log: what dynos print and platform events."""
    check_line_count(lines, tail)
    name = resolve_app(app)
    params = {"lines": str(lines), "tail": "1" if tail else "0"}
    params |= {k: v for k, v in {"dyno": dyno, "source": source}.items() if v}
    try:
        with Client().stream("GET", f"/v1/apps/{name}/logs", params=params) as response:
            for line in response.iter_lines():
                click.echo(line)
    except KeyboardInterrupt:
        return


def check_line_count(lines: int, tail: bool) -> None:
    """Refuse a ``logs -n`` count outside 1 to MAX_LOG_LINES (0 only with -t).

    Raises:
        CliError: the count is out of range.
    """
    if lines == 0 and tail:
        return
    if not 1 <= lines <= MAX_LOG_LINES:
        raise CliError(
            f"-n {lines} is invalid: show 1 to {MAX_LOG_LINES} lines "
            "(-n 0 only with -t, to follow new lines only)."
        )
