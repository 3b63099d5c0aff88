"""Errors of the platform, grouped by what the caller does about them.

PaasError
├── NotFound            the named thing does not exist (HTTP 404)
│   ├── AppNotFound
│   ├── ReleaseNotFound
│   └── ImageNotFound   no registry has the image, tag or repository
├── Conflict            the request clashes with the current state (409)
├── InvalidInput        the caller sent something malformed (422)
├── Unauthorized        no or a wrong token (401)
├── BuildFailed         a push could not be turned into a release
├── DeployFailed        a release could not be made to serve
└── BackendUnavailable  Docker, git or a registry did not answer (503)
    └── RegistryError   a registry failed or refused a request
"""

from __future__ import annotations


class PaasError(Exception):
    """Base class of every error the platform raises on purpose."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(PaasError):
    """The named object does not exist."""

    status_code = 404


class AppNotFound(NotFound):
    """No app has the given name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No app named {name!r}. Run 'paas apps' to list apps.")


class ReleaseNotFound(NotFound):
    """The app has no release with the given version."""


class ImageNotFound(NotFound):
    """No registry has the image, tag or repository asked for."""


class Conflict(PaasError):
    """The request clashes with what exists or what is happening."""

    status_code = 409


class InvalidInput(PaasError):
    """The caller sent a value that breaks a rule."""

    status_code = 422


class Unauthorized(PaasError):
    """The request carried no valid API token."""

    status_code = 401


class BuildFailed(PaasError):
    """A pushed commit could not be built into an image."""

    status_code = 422


class DeployFailed(PaasError):
    """A release could not be started and made to serve.

    ``reason`` says in a few words which step failed, for the release list.
    """

    status_code = 500

    def __init__(self, message: str, reason: str = "release failed") -> None:
        super().__init__(message)
        self.reason = reason


class BackendUnavailable(PaasError):
    """The Docker engine, git or a registry could not be reached."""

    status_code = 503


class RegistryError(BackendUnavailable):
    """A registry did not answer, or refused or failed a request."""
