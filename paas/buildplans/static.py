"""Static sites: read static.json and render nginx's configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from paas.buildpacks import TEMPLATES_DIR, Buildpack
from paas.buildplans.base import BuildPlan, Output
from paas.errors import BuildFailed

# The subset of Heroku's static buildpack settings this platform honours.
KNOWN_KEYS = {"root", "clean_urls", "error_page"}
PORT_PLACEHOLDER = "@PORT@"


def read_static_json(source: Path) -> dict[str, Any]:
    """Return static.json as a dict (empty when there is none).

    Raises:
        BuildFailed: it is not a JSON object.
    """
    path = source / "static.json"
    if not path.is_file():
        return {}
    try:
        settings = json.loads(path.read_text(errors="replace"))
    except json.JSONDecodeError as exc:
        raise BuildFailed(
            f"static.json is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}): fix it and push again."
        ) from exc
    if not isinstance(settings, dict):
        raise BuildFailed("static.json must hold a JSON object: fix it and push again.")
    return settings


def plan(buildpack: Buildpack, source: Path, out: Output) -> BuildPlan:
    """Plan a static site served by nginx.

    Raises:
        BuildFailed: static.json is malformed or names a missing root.
    """
    settings = read_static_json(source)
    ignored = sorted(set(settings) - KNOWN_KEYS)
    if ignored:
        out(f" !     static.json: ignoring unsupported keys {', '.join(ignored)}")
    root = _root(source, settings.get("root", "."))
    error_page = _error_page(source, root, settings.get("error_page"))
    clean_urls = settings.get("clean_urls", False)
    if not isinstance(clean_urls, bool):
        raise BuildFailed("static.json 'clean_urls' must be true or false.")
    shown = "the repo root" if root == "." else f"{root}/"
    out(f"-----> Serving {shown} with nginx on $PORT")
    config = render_nginx_config(root, clean_urls, error_page)
    files = {"nginx.conf": config}
    return BuildPlan(
        {"port_placeholder": PORT_PLACEHOLDER},
        dict(buildpack.default_process_types),
        files,
    )


def _root(source: Path, root: object) -> str:
    if not isinstance(root, str) or not root.strip():
        raise BuildFailed("static.json 'root' must be a folder name such as 'public'.")
    folder = (source / root).resolve()
    if not folder.is_relative_to(source.resolve()) or not folder.is_dir():
        raise BuildFailed(
            f"static.json 'root' is {root!r}, which is not a folder of the repo: "
            "name one that is committed, such as 'public'."
        )
    relative = folder.relative_to(source.resolve()).as_posix()
    return relative or "."


def _error_page(source: Path, root: str, page: object) -> str | None:
    if page is None:
        return None
    if not isinstance(page, str) or not (source / root / page).is_file():
        raise BuildFailed(
            f"static.json 'error_page' is {page!r}, which is not a file in the "
            f"root folder {root!r}: name a committed page such as '404.html'."
        )
    return page.lstrip("/")


def render_nginx_config(root: str, clean_urls: bool, error_page: str | None) -> str:
    """Render nginx.conf; the boot command puts $PORT in for the placeholder."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    template = environment.get_template("buildpacks/static.nginx.conf.j2")
    document_root = "/app" if root == "." else f"/app/{root}"
    return template.render(
        root=document_root,
        clean_urls=clean_urls,
        error_page=error_page,
        port=PORT_PLACEHOLDER,
    )
