"""The extension's error types and the one mapping from an error to a REST answer.

Every failure a user can meet is one of these. Each carries our plain
`message`, the SRCNet `detail` verbatim when there is one, and a stable `code`;
`status` is the HTTP status the REST API answers with. Nothing here ever holds
a token.
"""

from __future__ import annotations

from typing import Any

from . import messages


class ExtensionError(Exception):
    code = "error"
    status = 500

    def __init__(
        self,
        message: str,
        detail: Any = None,
        *,
        service: str | None = None,
        status: int | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.service = service
        if status is not None:
            self.status = status
        self.extra = extra or {}

    def to_json(self) -> dict:
        body = {"message": self.message, "detail": self.detail, "code": self.code, "service": self.service}
        body.update(self.extra)
        return body


class InvalidInput(ExtensionError):
    code, status = "invalid_input", 400


class NotFound(ExtensionError):
    code, status = "not_found", 404


class NotSignedIn(ExtensionError):
    code, status = "not_signed_in", 401


class Forbidden(ExtensionError):
    code, status = "forbidden", 403


class Conflict(ExtensionError):
    code, status = "conflict", 409


class PrecheckFailed(ExtensionError):
    code, status = "precheck_failed", 409


class NotStaged(ExtensionError):
    code, status = "not_staged", 404


class NoDestination(ExtensionError):
    code, status = "no_destination", 409


class NotServed(ExtensionError):
    """The DM API here does not serve an (adopted) route; callers with a fallback catch it."""

    code, status = "not_served", 501


class Unavailable(ExtensionError):
    code, status = "unavailable", 503


# What an SRCNet answer's HTTP status means for our user, and how we say it.
_SRCNET_STATUS = {
    400: (InvalidInput, messages.SRCNET_REFUSED_INVALID),
    401: (NotSignedIn, messages.SRCNET_REFUSED_SIGN_IN),
    403: (Forbidden, messages.SRCNET_REFUSED_BY_POLICY),
    404: (NotFound, messages.SRCNET_NOT_FOUND),
    409: (Conflict, messages.SRCNET_REFUSED_CONFLICT),
    422: (InvalidInput, messages.SRCNET_REFUSED_INVALID),
}

SERVICE_TITLES = {
    "auth": messages.TITLE_AUTH,
    "site-capabilities": messages.TITLE_SITE_CAPABILITIES,
    "data-management": messages.TITLE_DATA_MANAGEMENT,
}


def from_srcnet(service: str, status: int, detail: Any) -> ExtensionError:
    """The error to raise for a non-success SRCNet answer (after any retries)."""
    title = SERVICE_TITLES.get(service, service)
    if status in _SRCNET_STATUS:
        cls, template = _SRCNET_STATUS[status]
        return cls(template.format(service=title), detail, service=service)
    if status >= 500:
        return Unavailable(
            messages.SRCNET_FAILED.format(title=title, status=status), detail, service=service, status=502
        )
    return ExtensionError(
        messages.SRCNET_ANSWERED_HTTP.format(title=title, status=status), detail, service=service, status=502
    )
