"""How the CLI shows things: times, tables, ps groups."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click


def when(timestamp: float | None, now: float | None = None) -> str:
    """Format a time as ``2026/12/04 11:20:00 +0000 (~ 5s ago)``."""
    if timestamp is None:
        return "-"
    moment = datetime.fromtimestamp(timestamp, UTC).strftime("%Y/%m/%d %H:%M:%S +0000")
    age = max(0, int((now or time.time()) - timestamp))
    if age >= 25 * 3600:
        return moment
    if age < 60:
        ago = f"{age}s"
    elif age < 3600:
        ago = f"{age // 60}m"
    else:
        ago = f"{age // 3600}h"
    return f"{moment} (~ {ago} ago)"


def print_json(data: Any) -> None:
    """Print data as indented JSON."""
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def table(rows: list[list[str]]) -> str:
    """Align rows into columns separated by two spaces."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def ps_lines(dynos: list[dict[str, Any]]) -> list[str]:
    """Return ``paas ps`` output in Heroku's shape, one-off dynos first."""
    lines: list[str] = []
    one_offs = [d for d in dynos if d["one_off"]]
    if one_offs:
        lines += [f"=== run: one-off processes ({len(one_offs)})", ""]
        for dyno in one_offs:
            state = f"{dyno['state']} {when(dyno['updated_at'])}"
            lines.append(f"{dyno['name']} ({dyno['size']}): {state}: {dyno['command']}")
        lines.append("")
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for dyno in dynos:
        if not dyno["one_off"]:
            key = (dyno["type"], dyno["size"], dyno["command"])
            groups.setdefault(key, []).append(dyno)
    for (kind, size, command), members in sorted(groups.items()):
        lines += [f"=== {kind} ({size}): {command} ({len(members)})", ""]
        lines += [_dyno_line(dyno) for dyno in members]
        lines.append("")
    return lines


def _dyno_line(dyno: dict[str, Any]) -> str:
    line = f"{dyno['name']}: {dyno['state']} {when(dyno['updated_at'])}"
    if dyno["state"] == "crashed" or dyno["restarts"]:
        line += f" (restarts: {dyno['restarts']}, last exit: {dyno['exit_code']})"
    return line


def human_size(size: int) -> str:
    """Format a byte count as ``12.3 MB`` (binary units)."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def shell_quote(value: str) -> str:
    """Quote a value for ``config --shell`` output."""
    return shlex.quote(value)


@contextmanager
def step(text: str) -> Iterator[None]:
    """Print ``text... `` before a request; end the line with ``!`` if it fails.

    Without the ``!`` the ``Error:`` line would be glued to the step's text.
    """
    click.echo(f"{text}... ", nl=False, err=True)
    try:
        yield
    except click.ClickException:
        click.echo("!", err=True)
        raise
