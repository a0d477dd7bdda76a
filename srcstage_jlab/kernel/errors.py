"""The exceptions of the kernel API, and the one mapping from a REST error answer to them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from .. import messages
from ..errors import SERVICE_TITLES

if TYPE_CHECKING:
    from .models import JobStatus, Precheck
    from .resources import Job

ENV_URL = "SRCSTAGE_SERVER_URL"
ENV_TOKEN = "SRCSTAGE_SERVER_TOKEN"
HOW_TO_CONNECT = messages.HOW_TO_CONNECT.format(env_url=ENV_URL, env_token=ENV_TOKEN)


def format_detail(detail: Any) -> str:
    """SRCNet's ``detail`` as one readable text: a string as is, FastAPI's list form as ``where: msg``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and detail and all(isinstance(d, dict) and "msg" in d for d in detail):
        parts = []
        for d in detail:
            where = ".".join(str(x) for x in d.get("loc") or [])
            parts.append(f"{where}: {d['msg']}" if where else str(d["msg"]))
        return "; ".join(parts)
    return json.dumps(detail, default=str)


def who_said(service: str | None) -> str:
    """``The SRCNet Data Management API`` for ``data-management``; plain ``SRCNet`` when not known."""
    return SERVICE_TITLES.get(service or "", "SRCNet")


class SrcStageError(Exception):
    """Base of every error of this API.

    Attributes: ``message`` (our plain explanation), ``detail`` (the SRCNet or Rucio text verbatim,
    or None), ``code`` (a stable word such as ``not_found``), ``status`` (the HTTP status of the
    answer, or None when no answer came), ``service`` (``auth``, ``site-capabilities`` or
    ``data-management`` when SRCNet said it) and ``payload`` (the whole error answer).
    ``str(err)`` shows the message, then the detail.
    """

    code = "error"
    hint = ""

    def __init__(
        self,
        message: str,
        detail: Any = None,
        *,
        code: str | None = None,
        status: int | None = None,
        service: str | None = None,
        payload: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.detail = detail
        if code:
            self.code = code
        self.status = status
        self.service = service
        self.payload = payload or {}

    def __str__(self) -> str:
        parts = [self.message]
        if self.detail not in (None, "", [], {}):
            parts.append(f"{who_said(self.service)} said: {format_detail(self.detail)}")
        if self.hint and self.hint not in self.message:
            parts.append(self.hint)
        return "\n".join(parts)


class NotSignedInError(SrcStageError):
    """This Jupyter server holds no valid SRCNet sign-in (or SRCNet refused it)."""

    code = "not_signed_in"
    hint = messages.HINT_SIGN_IN


class PolicyError(SrcStageError):
    """SRCNet or this server's policy refuses the request (forbidden, or a failed pre-check).

    When a staging pre-check failed, ``precheck`` holds the :class:`Precheck` with every problem.
    """

    code = "forbidden"

    @property
    def precheck(self) -> Precheck | None:
        from .models import Precheck

        data = self.payload.get("precheck")
        return Precheck(data) if isinstance(data, dict) else None


class NotFoundError(SrcStageError):
    """The collection, job or DID does not exist (or you may not see it)."""

    code = "not_found"


class ConflictError(SrcStageError):
    """The request conflicts with what exists (a taken name, a DID with other contents...)."""

    code = "conflict"


class InvalidInputError(SrcStageError):
    """The input is malformed: a DID that is not ``namespace:name``, a bad lifetime, an empty name..."""

    code = "invalid_input"


class ServiceUnavailableError(SrcStageError):
    """An SRCNet service (or the Jupyter server) failed or did not answer in time; try again later."""

    code = "unavailable"


class NotStagedError(SrcStageError):
    """The data is not (all) at the destination yet; the message says how to stage it.

    ``job`` is the staging job when one was started for you (``srcstage.path(did, stage=...)``).
    """

    code = "not_staged"
    job: Job | None = None


class StagingFailed(SrcStageError):
    """A staging job ended in failure. ``job`` and ``job_status`` describe it; ``detail`` is SRCNet's text."""

    code = "staging_failed"
    job: Job | None = None
    job_status: JobStatus | None = None


class StagingTimeout(SrcStageError, TimeoutError):
    """``job.wait(timeout=...)`` gave up before the job finished (the job itself goes on)."""

    code = "timeout"
    job: Job | None = None


class ServerNotFoundError(SrcStageError):
    """No usable Jupyter server with the srcstage extension: none found, unreachable, it refused
    this kernel's token, or the extension is not enabled there."""

    code = "server_not_found"
    hint = HOW_TO_CONNECT


# The one mapping from a REST error `code` to the class raised.
CODE_TO_ERROR: dict[str, type[SrcStageError]] = {
    "invalid_input": InvalidInputError,
    "not_found": NotFoundError,
    "not_signed_in": NotSignedInError,
    "forbidden": PolicyError,
    "precheck_failed": PolicyError,
    "no_destination": PolicyError,
    "conflict": ConflictError,
    "not_staged": NotStagedError,
    "unavailable": ServiceUnavailableError,
    "not_served": SrcStageError,  # the DM here does not serve it (e.g. submit-only); the message says why
    "error": SrcStageError,
}
# Only for answers without a known `code` (not from the extension's error helper).
_STATUS_TO_ERROR: dict[int, type[SrcStageError]] = {
    400: InvalidInputError,
    401: NotSignedInError,
    403: PolicyError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidInputError,
}


def error_from_payload(status: int | None, payload: Any) -> SrcStageError:
    """The error for a REST error answer ``{"message", "detail", "code", ...}`` with HTTP ``status``."""
    if not isinstance(payload, dict):
        payload = {}
    code = payload.get("code")
    message = payload.get("message") or payload.get("reason") or messages.SERVER_ANSWERED_HTTP.format(status=status)
    cls = CODE_TO_ERROR.get(code) if isinstance(code, str) else None
    if cls is None:
        cls = ServiceUnavailableError if status and status >= 500 else _STATUS_TO_ERROR.get(status or 0, SrcStageError)
    return cls(
        str(message),
        payload.get("detail"),
        code=code if isinstance(code, str) else None,
        status=status,
        service=payload.get("service"),
        payload=payload,
    )


def error_from_response(response: httpx.Response) -> SrcStageError:
    """The error for a non-success answer of the Jupyter server (ours, or Jupyter's own refusal)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    ours = isinstance(payload, dict) and isinstance(payload.get("code"), str)
    url = str(response.request.url)
    if not ours and response.status_code in (401, 403):
        # Jupyter's own authentication, not SRCNet policy.
        return ServerNotFoundError(
            messages.KERNEL_TOKEN_REFUSED.format(status=response.status_code, url=url),
            status=response.status_code,
            payload=payload if isinstance(payload, dict) else None,
        )
    if not ours and response.status_code == 404:
        return ServerNotFoundError(
            messages.EXTENSION_NOT_ENABLED.format(url=url),
            status=404,
        )
    return error_from_payload(response.status_code, payload)
