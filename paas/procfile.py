"""Procfile parsing by Heroku's rules.

Each line is ``<process type>: <command>``; blank lines and ``#`` comments are
allowed and CRLF line ends are fine. Any other line rejects the whole file:
dropping it silently would lose a process (a merge-conflict marker, say).
See https://devcenter.heroku.com/articles/procfile.
"""

from __future__ import annotations

import re

from paas.errors import InvalidInput

LINE = re.compile(r"^\s*([A-Za-z0-9_-]{1,63})\s*:\s*(\S.*?)\s*$")


def parse_procfile(text: str) -> dict[str, str]:
    """Return the process types and commands a Procfile declares.

    Raises:
        InvalidInput: a line is neither blank, a comment nor a declaration,
            or declares a process type a line before did (``Web`` and
            ``web`` are one type).
    """
    process_types: dict[str, str] = {}
    declared: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise InvalidInput(
                f"Procfile line {number} is not 'type: command': {stripped!r}. "
                "Fix or remove the line and push again."
            )
        name, command = match.groups()
        kind = name.lower().replace("_", "-")
        if kind in declared:
            raise InvalidInput(
                f"Procfile line {number} declares {kind!r} again (first on line "
                f"{declared[kind]}). Keep one line per process type and push again."
            )
        declared[kind] = number
        process_types[kind] = command
    return process_types
