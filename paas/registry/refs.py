"""Image references: ``[host[:port]/]path[:tag][@digest]``, as Docker reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paas.errors import InvalidInput

# Grammar of distribution's reference package (docs/content/spec/api.md).
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
PATH = re.compile(rf"^{COMPONENT}(?:/{COMPONENT})*$")
TAG = re.compile(r"^[\w][\w.-]{0,127}$")
DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
DOCKER_HUB = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    """One image reference, split into its parts.

    ``host`` is None when the reference names no registry (``postgres:17``),
    which Docker reads as Docker Hub, where one-word names live under
    ``library/``.
    """

    host: str | None
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """Return the digest if there is one, else the tag (``latest`` if none)."""
        return self.digest or self.tag or "latest"

    @property
    def repository(self) -> str:
        """Return the path inside a registry; Hub's one-word names get ``library/``."""
        if self.host in (None, DOCKER_HUB) and "/" not in self.path:
            return f"library/{self.path}"
        return self.path

    def on(self, host: str) -> str:
        """Return this image's reference on another registry (a mirror)."""
        return f"{host}/{self.repository}{self._suffix()}"

    def __str__(self) -> str:
        prefix = f"{self.host}/" if self.host else ""
        return f"{prefix}{self.path}{self._suffix()}"

    def _suffix(self) -> str:
        if self.digest:
            return f"@{self.digest}"
        return f":{self.tag or 'latest'}"


def parse_ref(text: str) -> ImageRef:
    """Split an image reference into host, path, tag and digest.

    Raises:
        InvalidInput: the reference breaks the grammar.
    """
    rest, _, digest = text.strip().partition("@")
    host, path = _split_host(rest)
    path, tag = _split_tag(path)
    _check(text, path, tag, digest)
    return ImageRef(host=host, path=path, tag=tag, digest=digest or None)


def parse_name_and_reference(text: str) -> tuple[str, str | None]:
    """Split ``path[:tag|@digest]`` as the registry commands take it.

    Returns:
        The repository path and the tag or digest, or None when absent.

    Raises:
        InvalidInput: the text is not a repository path.
    """
    ref = parse_ref(text)
    path = f"{ref.host}/{ref.path}" if ref.host else ref.path
    if not PATH.match(path):
        raise InvalidInput(_invalid(text))
    return path, ref.digest or ref.tag


def _split_host(text: str) -> tuple[str | None, str]:
    first, slash, rest = text.partition("/")
    # Docker's rule: the first component is a host if it has a dot or a
    # port, or is localhost.
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, text


def _split_tag(path: str) -> tuple[str, str | None]:
    name, colon, tag = path.rpartition(":")
    if colon and "/" not in tag:
        return name, tag
    return path, None


def _check(text: str, path: str, tag: str | None, digest: str) -> None:
    if not PATH.match(path):
        raise InvalidInput(_invalid(text))
    if tag is not None and not TAG.match(tag):
        raise InvalidInput(
            f"Image tag {tag!r} in {text!r} is invalid: use letters, digits, "
            "'_', '.' and '-', at most 128, not starting with '.' or '-'."
        )
    if digest and not DIGEST.match(digest):
        raise InvalidInput(
            f"Digest {digest!r} in {text!r} is invalid: use 'sha256:<64 hex digits>'."
        )


def _invalid(text: str) -> str:
    return (
        f"Image reference {text!r} is invalid: use [HOST[:PORT]/]NAME[:TAG] with "
        "a lowercase NAME such as 'postgres:17' or 'library/redis'."
    )
