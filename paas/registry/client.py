"""A client of the registry HTTP API v2, with Basic and Bearer-token auth.

The flow of a request (distribution's docs/content/spec/auth/token.md)::

    GET /v2/...  ──401 WWW-Authenticate: Basic ...──> retry with Basic credentials
                 ──401 WWW-Authenticate: Bearer realm=R,service=S,scope=X──>
                       GET R?service=S&scope=X (Basic credentials if any)
                       ──> {"token": T} ──> retry with "Authorization: Bearer T"

Tokens are kept per scope until they expire. Catalog and tag lists follow
the ``Link: <...>; rel="next"`` header page by page.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from typing import Any

import httpx

from paas.errors import ImageNotFound, InvalidInput, RegistryError
from paas.registry.config import Registry

logger = logging.getLogger(__name__)

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
# Guards against a registry whose Link header loops.
MAX_PAGES = 10_000


class RegistryClient:
    """Read one registry through its v2 HTTP API.

    Args:
        registry: where the registry is, and its credentials.
        transport: an httpx transport (tests pass a MockTransport).
        timeout: seconds for each request.
    """

    def __init__(
        self,
        registry: Registry,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.registry = registry
        self._http = httpx.Client(
            base_url=registry.url,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": "paas-registry-client"},
        )
        self._tokens: dict[str, tuple[str, float]] = {}
        self._basic = False

    def close(self) -> None:
        """Close the connections to the registry."""
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the API

    def ping(self) -> None:
        """Check that the registry speaks v2 and takes our credentials.

        Raises:
            RegistryError: it does not answer, or refuses.
        """
        self.request("GET", "/v2/", scope="")

    def repositories(self, page_size: int | None = None) -> list[str]:
        """List every repository, following the catalog's pages.

        Args:
            page_size: ``n`` of each page; None lets the registry choose.

        Raises:
            RegistryError: the registry failed or refused.
        """
        pages = self._pages("/v2/_catalog", page_size, "registry:catalog:*")
        return [name for page in pages for name in page.get("repositories") or []]

    def tags(self, name: str, page_size: int | None = None) -> list[str]:
        """List the tags of a repository, following the pages.

        Raises:
            ImageNotFound: the registry has no such repository.
            RegistryError: the registry failed or refused.
        """
        scope = f"repository:{name}:pull"
        pages = self._pages(f"/v2/{name}/tags/list", page_size, scope)
        return [tag for page in pages for tag in page.get("tags") or []]

    def manifest(self, name: str, reference: str) -> tuple[dict[str, Any], str, str]:
        """Fetch a manifest or index by tag or digest.

        Returns:
            The manifest, its media type and its digest.

        Raises:
            ImageNotFound: no such repository, tag or digest.
            RegistryError: the registry failed or refused.
        """
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        path = f"/v2/{name}/manifests/{reference}"
        response = self.request("GET", path, headers=headers, scope=_pull(name))
        body = _json(response, path)
        media_type = body.get("mediaType") or response.headers.get("content-type", "")
        digest = response.headers.get("docker-content-digest", "")
        return body, media_type.split(";")[0].strip(), digest

    def digest(self, name: str, reference: str) -> str | None:
        """Return the digest a tag points at, or None if there is no such tag.

        Raises:
            RegistryError: the registry failed or refused.
        """
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        path = f"/v2/{name}/manifests/{reference}"
        try:
            response = self.request("HEAD", path, headers=headers, scope=_pull(name))
        except ImageNotFound:
            return None
        return response.headers.get("docker-content-digest") or None

    def blob_json(self, name: str, digest: str) -> dict[str, Any]:
        """Fetch a JSON blob, such as an image config.

        Raises:
            ImageNotFound: no such blob.
            RegistryError: the registry failed or refused.
        """
        path = f"/v2/{name}/blobs/{digest}"
        response = self.request("GET", path, scope=_pull(name))
        return _json(response, path)

    # requests and auth

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request, answering an auth challenge once.

        Raises:
            ImageNotFound: the registry answered 404.
            RegistryError: it did not answer, refused or failed.
        """
        headers = dict(headers or {})
        self._authorize(headers, scope)
        response = self._send(method, path, params, headers)
        if response.status_code == 401:
            challenge = response.headers.get("www-authenticate", "")
            self._answer(challenge, scope, headers)
            response = self._send(method, path, params, headers)
        self._raise_for_status(response, method, path)
        return response

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        logger.debug("%s %s%s", method, self.registry.url, path)
        try:
            return self._http.request(method, path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"Registry {self.registry.host!r} did not answer at "
                f"{self.registry.url}: {exc or type(exc).__name__}. Check "
                "PAAS_REGISTRIES and that the registry runs ('deploy/registry')."
            ) from exc

    def _authorize(self, headers: dict[str, str], scope: str) -> None:
        token = self._tokens.get(scope)
        if token and token[1] > time.monotonic():
            headers["Authorization"] = f"Bearer {token[0]}"
        elif self._basic:
            headers["Authorization"] = self._basic_header()

    def _answer(self, challenge: str, scope: str, headers: dict[str, str]) -> None:
        kind = challenge.split(" ", 1)[0].lower()
        if kind == "basic" and self.registry.username is not None:
            self._basic = True
            headers["Authorization"] = self._basic_header()
            return
        if kind == "bearer":
            params = dict(CHALLENGE.findall(challenge))
            headers["Authorization"] = f"Bearer {self._fetch_token(params, scope)}"
            return
        raise self._refused("asks for credentials", None)

    def _basic_header(self) -> str:
        pair = f"{self.registry.username or ''}:{self.registry.password or ''}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def _fetch_token(self, challenge: dict[str, str], scope: str) -> str:
        realm = challenge.get("realm")
        if not realm:
            raise RegistryError(
                f"Registry {self.registry.host!r} sent a Bearer challenge without "
                "a realm: it cannot hand out tokens."
            )
        # The challenge's scope is what this request needs; ours is the fallback.
        wanted = challenge.get("scope", scope)
        params = {"service": challenge.get("service", "")}
        if wanted:
            params["scope"] = wanted
        body = self._token_response(realm, params)
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(
                f"The token service of {self.registry.host!r} at {realm} "
                "answered without a token."
            )
        # The spec: expires_in defaults to 60 s. Renew 5 s early.
        lifetime = float(body.get("expires_in") or 60)
        self._tokens[scope] = (token, time.monotonic() + max(lifetime - 5, 1))
        return token

    def _token_response(self, realm: str, params: dict[str, str]) -> dict[str, Any]:
        headers = {}
        if self.registry.username is not None:
            headers["Authorization"] = self._basic_header()
        try:
            response = self._http.get(realm, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"The token service of {self.registry.host!r} at {realm} did not "
                f"answer: {exc or type(exc).__name__}."
            ) from exc
        if response.status_code in (401, 403):
            raise self._refused("refused to issue a token", response)
        if response.status_code != 200:
            raise RegistryError(
                f"The token service of {self.registry.host!r} at {realm} "
                f"answered {response.status_code}."
            )
        return _json(response, realm)

    # answers

    def _raise_for_status(
        self, response: httpx.Response, method: str, path: str
    ) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 404:
            raise ImageNotFound(self._not_found(response, path))
        if status in (401, 403):
            raise self._refused("refused the request", response)
        if status == 400 and "PAGINATION_NUMBER_INVALID" in _codes(response):
            raise InvalidInput(f"Registry {self.registry.host!r}: {_message(response)}")
        raise RegistryError(
            f"Registry {self.registry.host!r} answered {status} to {method} "
            f"{path}: {_message(response)}"
        )

    def _refused(self, what: str, response: httpx.Response | None) -> RegistryError:
        who = self.registry.username
        if who is None:
            advice = (
                "no credentials are set for it: run 'docker login "
                f"{self.registry.host}' on the platform's machine or set "
                "PAAS_REGISTRY_AUTH_FILE."
            )
        else:
            advice = f"check the password of {who!r} and its access rights."
        detail = f" ({_message(response)})" if response is not None else ""
        return RegistryError(
            f"Registry {self.registry.host!r} {what}{detail}: {advice}"
        )

    def _not_found(self, response: httpx.Response, path: str) -> str:
        codes = _codes(response)
        host = self.registry.host
        if "MANIFEST_UNKNOWN" in codes:
            return f"Registry {host!r} has no such tag or digest: {path}."
        if "NAME_UNKNOWN" in codes:
            return f"Registry {host!r} has no repository for {path}."
        if path == "/v2/":
            return f"{self.registry.url} is not a v2 registry (404 on /v2/)."
        return f"Registry {host!r} has nothing at {path}: {_message(response)}"

    def _pages(
        self, path: str, page_size: int | None, scope: str
    ) -> list[dict[str, Any]]:
        params = {"n": str(page_size)} if page_size else None
        pages: list[dict[str, Any]] = []
        url: str | None = path
        while url is not None and len(pages) < MAX_PAGES:
            response = self.request("GET", url, params=params, scope=scope)
            pages.append(_json(response, url))
            url, params = _next_page(response), None
        return pages


def _pull(name: str) -> str:
    return f"repository:{name}:pull"


def _next_page(response: httpx.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    # The Link target is relative to the registry; keep path and query only.
    url = response.url.join(link)
    return url.raw_path.decode()


def _json(response: httpx.Response, where: str) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise RegistryError(f"The answer to {where} is not JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise RegistryError(f"The answer to {where} is not a JSON object.")
    return body


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    found = body.get("errors") if isinstance(body, dict) else None
    return [e for e in found or [] if isinstance(e, dict)]


def _codes(response: httpx.Response) -> list[str]:
    return [str(error.get("code")) for error in _errors(response)]


def _message(response: httpx.Response) -> str:
    errors = _errors(response)
    if errors:
        return "; ".join(
            f"{error.get('code')}: {error.get('message')}" for error in errors
        )
    text = response.text.strip()[:200]
    return text or f"HTTP {response.status_code}"
