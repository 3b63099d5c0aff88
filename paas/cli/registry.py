"""CLI commands that read a registry: images, tags, and what is in an image."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import click

from paas.cli.client import Client, CliError
from paas.cli.main import JSON_OPTION, cli
from paas.cli.output import human_size, print_json, table

REGISTRY_OPTION = click.option(
    "--registry", help="A configured registry host (default: the first one)."
)
PAGE_OPTION = click.option(
    "-n", "page_size", type=click.IntRange(min=1), help="Page size to ask for."
)


def split_image(text: str) -> tuple[str | None, str, str]:
    """Split ``[host/]name[:tag|@digest]`` into host, name and reference.

    Raises:
        CliError: the text names no image.
    """
    rest, at, digest = text.partition("@")
    first, slash, path = rest.partition("/")
    host = None
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, rest = first, path
    name, colon, tag = rest.rpartition(":")
    if not colon or "/" in tag:
        name, tag = rest, "latest"
    if not name:
        raise CliError(f"{text!r} names no image: use NAME[:TAG], e.g. postgres:17.")
    return host, name, digest if at else tag


def query(registry: str | None, page_size: int | None) -> dict[str, str]:
    """Return the query parameters the registry endpoints take."""
    params = {}
    if registry:
        params["registry"] = registry
    if page_size:
        params["n"] = str(page_size)
    return params


@cli.command("registry:images")
@REGISTRY_OPTION
@PAGE_OPTION
@JSON_OPTION
def registry_images(registry: str | None, page_size: int | None, as_json: bool) -> None:
    """List the repositories of a registry."""
    body = Client().request(
        "GET", "/v1/registry/images", params=query(registry, page_size)
    )
    if as_json:
        print_json(body)
        return
    names = body["repositories"]
    click.echo(f"=== {body['registry']} ({len(names)} repositories)")
    for name in names:
        click.echo(name)


@cli.command("registry:tags")
@click.argument("image")
@REGISTRY_OPTION
@PAGE_OPTION
@JSON_OPTION
def registry_tags(
    image: str, registry: str | None, page_size: int | None, as_json: bool
) -> None:
    """List the tags of an image (repository) in a registry."""
    host, name, _ = split_image(image)
    path = f"/v1/registry/images/{quote(name)}/tags"
    body = Client().request("GET", path, params=query(registry or host, page_size))
    if as_json:
        print_json(body)
        return
    click.echo(f"=== {body['registry']}/{body['name']} ({len(body['tags'])} tags)")
    for tag in body["tags"]:
        click.echo(tag)


@cli.command("registry:inspect")
@click.argument("image")
@REGISTRY_OPTION
@click.option("--platform", help="os/arch to pick from a multi-platform image.")
@JSON_OPTION
def registry_inspect(
    image: str, registry: str | None, platform: str | None, as_json: bool
) -> None:
    """Show an image's digest, layers, sizes, created time, command and ports."""
    host, name, reference = split_image(image)
    path = f"/v1/registry/images/{quote(name)}/manifests/{quote(reference)}"
    params = query(registry or host, None)
    if platform:
        params["platform"] = platform
    body = Client().request("GET", path, params=params)
    if as_json:
        print_json(body)
        return
    click.echo("\n".join(inspect_lines(body)))


cli.add_command(registry_inspect, "registry:info")


def inspect_lines(info: dict[str, Any]) -> list[str]:
    """Return ``registry:inspect`` output for an image's description."""
    rows = [
        ["Registry:", info["registry"]],
        ["Digest:", info["digest"]],
        ["Media type:", info["media_type"]],
        ["Platform:", info["platform"] or "-"],
        ["Created:", info["created"] or "-"],
        ["Entrypoint:", _command(info["entrypoint"])],
        ["Command:", _command(info["cmd"])],
        ["Ports:", ", ".join(info["exposed_ports"]) or "-"],
        ["Total size:", human_size(info["total_size"])],
    ]
    lines = [f"=== {info['name']}:{info['reference']}", table(rows)]
    if info["platforms"]:
        lines.append(f"Platforms ({len(info['platforms'])}):")
        lines += [f"  {p['platform']}  {p['digest']}" for p in info["platforms"]]
    lines.append(f"Layers ({len(info['layers'])}):")
    layer_rows = [
        [f"  {layer['digest']}", human_size(layer["size"])] for layer in info["layers"]
    ]
    lines.append(table(layer_rows))
    return lines


def _command(words: list[str] | None) -> str:
    return json.dumps(words) if words else "-"
