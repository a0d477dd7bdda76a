"""The kernel-side Python API: collections, staging jobs and staged files, from a notebook or a script.

Everything here talks to *this* JupyterLab's server extension over its REST routes under
``/srcstage/`` (see ``openapi.yaml``); only the server extension talks to SRCNet, so no SRCNet
token ever reaches the kernel. Collections and jobs made here are the ones the JupyterLab
sidebar shows, and the other way round: both read the same server state.

Quick start::

    import srcstage_jlab as srcstage

    c = srcstage.collection("my-analysis")        # create, or open by name
    c.add("ska-mid:obs-2026-0001", "ska-mid:obs-2026-0002")
    job = c.stage(lifetime="7d")                  # submits the collection's DID first
    job.wait()                                    # progress bar; raises StagingFailed on failure
    for path in job.paths():
        print(path)

    srcstage.path("ska-mid:obs-2026-0001")       # local paths, or NotStagedError saying how

Finding the server
    Inside JupyterLab the server is found by itself. The order is: ``srcstage.connect(url, token)``;
    the environment variables ``SRCSTAGE_SERVER_URL`` (and ``SRCSTAGE_SERVER_TOKEN``); a JupyterHub
    single-user server (``JUPYTERHUB_API_TOKEN`` with ``JUPYTERHUB_SERVICE_URL`` or
    ``JUPYTERHUB_SERVICE_PREFIX``); Jupyter's runtime files: the server that started this kernel, or
    else the only running server that has the extension (headless nbclient, nbconvert or papermill
    runs on the same machine).

Blocking and async
    Every call that talks to the server has a blocking form for scripts and cells, and an ``async``
    twin named with an ``a`` prefix for code inside a running event loop (a Jupyter kernel runs
    one; top-level ``await`` works in cells): ``srcstage.acollection(...)``, ``await c.aadd(...)``,
    ``await c.astage(...)``, ``await job.astatus()``, ``await job.apaths()``. The one exception is
    waiting: ``a`` + ``wait`` would be the keyword ``await``, so its twin is ``await job.await_done()``.
    The blocking forms use their own HTTP connection and never start or nest an event loop.

Errors
    Every failure is a :class:`SrcStageError` (an ordinary ``Exception``) with ``message`` (our plain
    explanation), ``detail`` (the SRCNet text verbatim, when there is one), ``code`` (a stable word)
    and ``status`` (the HTTP status). Subclasses: :class:`NotSignedInError`, :class:`PolicyError`,
    :class:`NotFoundError`, :class:`ConflictError`, :class:`InvalidInputError`,
    :class:`ServiceUnavailableError`, :class:`NotStagedError`, :class:`StagingFailed`,
    :class:`StagingTimeout` (also a ``TimeoutError``) and :class:`ServerNotFoundError`.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

__all__ = [
    # connection
    "connect",
    "get_client",
    "Client",
    # collections
    "collections",
    "acollections",
    "collection",
    "acollection",
    "import_collection",
    "aimport_collection",
    "Collection",
    # jobs
    "job",
    "ajob",
    "jobs",
    "ajobs",
    "Job",
    "JobStatus",
    # data and where it is
    "path",
    "apath",
    "search",
    "asearch",
    "namespaces",
    "anamespaces",
    "destination",
    "adestination",
    "DidInfo",
    "Destination",
    "Precheck",
    # who is signed in
    "session",
    "asession",
    "sign_in",
    "asign_in",
    "Session",
    # errors
    "SrcStageError",
    "NotSignedInError",
    "PolicyError",
    "NotFoundError",
    "ConflictError",
    "InvalidInputError",
    "ServiceUnavailableError",
    "NotStagedError",
    "StagingFailed",
    "StagingTimeout",
    "ServerNotFoundError",
]

ENV_URL = "SRCSTAGE_SERVER_URL"
ENV_TOKEN = "SRCSTAGE_SERVER_TOKEN"
DEFAULT_TIMEOUT = 60.0
PROBE_TIMEOUT = 3.0
HOW_TO_CONNECT = (
    "Point to it with srcstage.connect('http://127.0.0.1:8888/', token='<jupyter server token>'), "
    f"or set the environment variables {ENV_URL} (and {ENV_TOKEN})."
)


# ============================================================================ errors


_SERVICE_NAMES = {
    "auth": "The SRCNet Auth API",
    "site-capabilities": "The SRCNet Site Capabilities API",
    "data-management": "The SRCNet Data Management API",
}


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
            who = _SERVICE_NAMES.get(self.service or "", "SRCNet")
            parts.append(f"{who} said: {format_detail(self.detail)}")
        if self.hint and self.hint not in self.message:
            parts.append(self.hint)
        return "\n".join(parts)


class NotSignedInError(SrcStageError):
    """This Jupyter server holds no valid SRCNet sign-in (or SRCNet refused it)."""

    code = "not_signed_in"
    hint = "Sign in from the SRCNet staging sidebar in JupyterLab, or run srcstage.sign_in()."


class PolicyError(SrcStageError):
    """SRCNet or this server's policy refuses the request (forbidden, or a failed pre-check).

    When a staging pre-check failed, ``precheck`` holds the :class:`Precheck` with every problem.
    """

    code = "forbidden"

    @property
    def precheck(self) -> Precheck | None:
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
    message = payload.get("message") or payload.get("reason") or f"The server answered HTTP {status}."
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


def _error_from_response(response: httpx.Response) -> SrcStageError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    ours = isinstance(payload, dict) and isinstance(payload.get("code"), str)
    url = str(response.request.url)
    if not ours and response.status_code in (401, 403):
        # Jupyter's own authentication, not SRCNet policy.
        return ServerNotFoundError(
            f"The Jupyter server refused this kernel's token (HTTP {response.status_code} for {url}).",
            status=response.status_code,
            payload=payload if isinstance(payload, dict) else None,
        )
    if not ours and response.status_code == 404:
        return ServerNotFoundError(
            f"{url} does not exist: the srcstage extension is not enabled on that Jupyter server "
            "(or the URL is not a Jupyter server's base URL).",
            status=404,
        )
    return error_from_payload(response.status_code, payload)


# ============================================================================ small values


def normalize_lifetime(lifetime: Any) -> int | str | None:
    """A lifetime as the REST API takes it: seconds (int), a string with a unit sent as is, or None.

    ``3600`` -> ``3600``; ``"7d"`` -> ``"7d"`` (the server parses ``90s``, ``30m``, ``12h``, ``7d``,
    ``2w``, ``P7D``); ``timedelta(days=1)`` -> ``86400``; ``None`` -> ``None`` (the server's default).
    """
    if lifetime is None:
        return None
    if isinstance(lifetime, bool):
        raise InvalidInputError("A lifetime is a number of seconds, a string such as '7d', or a timedelta.")
    if isinstance(lifetime, timedelta):
        seconds = lifetime.total_seconds()
    elif isinstance(lifetime, (int, float)):
        seconds = float(lifetime)
    elif isinstance(lifetime, str):
        text = lifetime.strip()
        if not text:
            raise InvalidInputError("The lifetime is empty: give seconds or a duration such as '7d'.")
        return text
    else:
        raise InvalidInputError(
            f"A lifetime is a number of seconds, a string such as '7d', or a timedelta, not {type(lifetime).__name__}."
        )
    if seconds != seconds or seconds < 1:  # NaN, zero, negative
        raise InvalidInputError("A lifetime must be at least one second.")
    return int(round(seconds))


def _did_text(value: Any) -> str:
    if isinstance(value, DidInfo):
        return value.did
    if isinstance(value, dict):
        if isinstance(value.get("did"), str):
            return value["did"].strip()
        ns, name = value.get("namespace"), value.get("name")
        if isinstance(ns, str) and isinstance(name, str):
            return f"{ns.strip()}:{name.strip()}"
        raise InvalidInputError(f"A DID is 'namespace:name', got {value!r}.")
    if isinstance(value, str):
        text = value.strip()
        if ":" not in text:
            raise InvalidInputError(f"'{text}' is not a DID: write it as namespace:name.")
        ns, name = text.split(":", 1)
        if not ns or not name:
            raise InvalidInputError(f"'{text}' is not a DID: both the namespace and the name are needed.")
        return text
    raise InvalidInputError(f"A DID is a 'namespace:name' string, got {type(value).__name__}.")


def normalize_dids(*values: Any) -> list[str]:
    """DIDs as a flat list of ``namespace:name`` strings, first occurrence kept.

    Takes strings, :class:`DidInfo` objects, dicts (``{"did": ...}`` or ``{"namespace", "name"}``)
    and lists, tuples or sets of these, nested. The full grammar is checked by the server.
    """
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, (list, tuple, set, frozenset)) or (
            hasattr(value, "__iter__") and not isinstance(value, (str, bytes, dict, DidInfo))
        ):
            for item in value:
                walk(item)
        else:
            text = _did_text(value)
            if text not in out:
                out.append(text)

    for value in values:
        walk(value)
    return out


def human_bytes(n: int | None) -> str:
    """``1234567`` -> ``1.2 MB`` (decimal units)."""
    if n is None:
        return "? B"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(size) < 1000 or unit == "PB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def human_seconds(seconds: int | None) -> str:
    """``604800`` -> ``7 days``."""
    if seconds is None:
        return "?"
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


# ============================================================================ result objects


class DidInfo:
    """One DID as the server knows it: ``did`` (``namespace:name``), ``namespace``, ``name``,
    ``type`` (``file``, ``dataset``, ``container``, or None until known) and ``bytes`` (or None)."""

    __slots__ = ("did", "namespace", "name", "type", "bytes")

    def __init__(self, data: dict):
        self.namespace = data.get("namespace") or str(data.get("did", ":")).split(":", 1)[0]
        self.name = data.get("name") or str(data.get("did", ":")).split(":", 1)[1]
        self.did = data.get("did") or f"{self.namespace}:{self.name}"
        self.type = data.get("type")
        self.bytes = data.get("bytes")

    def __str__(self) -> str:
        return self.did

    def __repr__(self) -> str:
        extra = ", ".join(x for x in (self.type, human_bytes(self.bytes) if self.bytes is not None else None) if x)
        return f"<DidInfo {self.did}{' (' + extra + ')' if extra else ''}>"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DidInfo) and other.did == self.did

    def __hash__(self) -> int:
        return hash(self.did)


class SearchResult(list):
    """A list of :class:`DidInfo`; ``truncated`` is True when more matched than ``limit``."""

    truncated: bool = False
    limit: int | None = None


class Namespaces(list):
    """A list of namespace names; ``owned`` lists those you may write into (e.g. ``user.<you>``)."""

    owned: list[str]


class StorageArea:
    """A Site Capabilities storage area: ``id``, ``name`` (the Rucio RSE), ``type``, ``site``, ``node``,
    ``tier``, ``active`` and ``inactive_reason``."""

    def __init__(self, data: dict | None):
        data = data or {}
        self.raw = data
        self.id = data.get("id")
        self.name = data.get("name")
        self.type = data.get("type")
        self.site = data.get("site")
        self.node = data.get("node")
        self.tier = data.get("tier")
        self.active = data.get("active")
        self.inactive_reason = data.get("inactive_reason")

    def __repr__(self) -> str:
        return f"<StorageArea {self.name} at {self.site} ({self.id})>"


class Destination:
    """Where staged data goes: ``rse`` (the RSE name), ``site``, ``mount`` (where this server sees the
    files, or None), ``storage_area`` (a :class:`StorageArea`), ``found_by`` and ``explanation``."""

    def __init__(self, data: dict):
        self.raw = data
        self.storage_area = StorageArea(data.get("storage_area"))
        self.rse = self.storage_area.name
        self.site = self.storage_area.site
        self.storage_area_id = self.storage_area.id
        self.mount = data.get("mount")
        self.found_by = data.get("found_by")
        self.explanation = data.get("explanation")

    def __repr__(self) -> str:
        return (
            f"<Destination {self.rse} at {self.site}, mounted at {self.mount or '(not mounted here)'}; "
            f"found by {self.found_by}>"
        )


class Session:
    """Who is signed in to SRCNet on this Jupyter server: ``state`` (``signed_in``, ``signed_out``,
    ``pending``, ``error``), ``username``, ``name``, ``source`` (``environment``, ``file``, ``device``),
    ``device`` (the device-flow codes while pending) and ``error``."""

    def __init__(self, data: dict):
        self.raw = data
        self.state = data.get("state")
        user = data.get("user") or {}
        self.username = user.get("username")
        self.name = user.get("name")
        self.source = data.get("source")
        self.device = data.get("device")
        err = data.get("error")
        self.error = error_from_payload(None, err) if isinstance(err, dict) and err else None

    @property
    def signed_in(self) -> bool:
        """True when the server holds a usable SRCNet sign-in."""
        return self.state == "signed_in"

    def __repr__(self) -> str:
        if self.signed_in:
            return f"<Session signed in as {self.name or self.username} ({self.username}, via {self.source})>"
        return f"<Session {self.state}{': ' + self.error.message if self.error else ''}>"


class Precheck:
    """What staging would do, without changing anything.

    ``ok``; ``problems`` (list of dicts with ``code``, ``message``, ``detail``); ``lifetime_s``,
    ``max_lifetime_s``, ``expires_at``; ``destination`` (:class:`StorageArea`); ``submitted`` and
    ``did``; ``files`` and ``bytes``; ``already_at_destination`` (``{"files", "bytes"}`` or None).
    """

    def __init__(self, data: dict):
        self.raw = data
        self.ok = bool(data.get("ok"))
        self.problems: list[dict] = list(data.get("problems") or [])
        self.lifetime_s = data.get("lifetime_s")
        self.max_lifetime_s = data.get("max_lifetime_s")
        self.expires_at = data.get("expires_at")
        self.destination = StorageArea(data.get("destination")) if data.get("destination") else None
        self.submitted = bool(data.get("submitted"))
        self.did = data.get("did")
        self.files = data.get("files")
        self.bytes = data.get("bytes")
        self.already_at_destination = data.get("already_at_destination")

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        what = []
        if self.files is not None:
            what.append(f"{self.files} file{'s' if self.files != 1 else ''}")
        if self.bytes is not None:
            what.append(human_bytes(self.bytes))
        where = self.destination.name if self.destination else "(no destination)"
        head = (
            f"Precheck {'OK' if self.ok else 'NOT OK'}: stage {', '.join(what) or 'the collection'}"
            f"{' of ' + self.did if self.did else ''} to {where} for {human_seconds(self.lifetime_s)}"
            f"{' (until ' + self.expires_at + ')' if self.expires_at else ''}"
        )
        lines = [head]
        if self.already_at_destination and self.already_at_destination.get("files"):
            lines.append(f"  already there: {self.already_at_destination['files']} file(s)")
        for p in self.problems:
            line = f"  problem {p.get('code')}: {p.get('message')}"
            if p.get("detail") not in (None, ""):
                line += f" (SRCNet said: {format_detail(p['detail'])})"
            lines.append(line)
        return "\n".join(lines)


class JobStatus:
    """A staging job's state at one moment.

    ``state`` is the Data Management API's state verbatim (e.g. ``STAGING``, ``COMPLETED``);
    ``phase`` is the server's reading of it: ``active``, ``completed``, ``failed`` or ``unknown``
    (an unknown state is never taken for success). Progress: ``files_done``, ``files_total``,
    ``bytes_done``, ``bytes_total`` (each None when SRCNet does not say). Also ``expires_at``,
    ``updated_at`` and ``error`` (a :class:`SrcStageError` when the last status check failed or
    the job failed, else None).
    """

    def __init__(self, data: dict):
        self.raw = data
        self.job_id = data.get("id")
        self.state = data.get("state")
        self.phase = data.get("phase") or "unknown"
        progress = data.get("progress") or {}
        self.files_done = progress.get("files_done")
        self.files_total = progress.get("files_total")
        self.bytes_done = progress.get("bytes_done")
        self.bytes_total = progress.get("bytes_total")
        self.expires_at = data.get("expires_at")
        self.updated_at = data.get("updated_at")
        err = data.get("error")
        self.error = error_from_payload(None, err) if isinstance(err, dict) and err else None

    @property
    def done(self) -> bool:
        """True only when the phase is ``completed``."""
        return self.phase == "completed"

    @property
    def failed(self) -> bool:
        return self.phase == "failed"

    @property
    def fraction(self) -> float | None:
        """Progress from 0 to 1 (by bytes when known, else files), or None when unknown."""
        if self.done:
            return 1.0
        for done, total in ((self.bytes_done, self.bytes_total), (self.files_done, self.files_total)):
            if isinstance(total, int) and total > 0 and isinstance(done, int):
                return max(0.0, min(1.0, done / total))
        return None

    def __repr__(self) -> str:
        return f"<JobStatus {self.job_id}: {format_progress(self, width=0)}>"


def format_progress(status: JobStatus, width: int = 24) -> str:
    """One line describing a job's progress, e.g.
    ``[##########----------]  50%  2/4 files  1.2 MB/2.4 MB  STAGING``. ``width=0`` drops the bar."""
    fraction = status.fraction
    parts = []
    if width > 0:
        filled = int(round((fraction or 0.0) * width))
        parts.append("[" + "#" * filled + "-" * (width - filled) + "]")
    parts.append(f"{int(fraction * 100):3d}%" if fraction is not None else "  ?%")
    if status.files_total is not None or status.files_done is not None:
        parts.append(
            f"{status.files_done if status.files_done is not None else '?'}/"
            f"{status.files_total if status.files_total is not None else '?'} files"
        )
    if status.bytes_total is not None:
        parts.append(f"{human_bytes(status.bytes_done or 0)}/{human_bytes(status.bytes_total)}")
    state = status.state or "(no state)"
    if status.phase == "unknown":
        state += " (state not known to srcstage; still waiting)"
    parts.append(state)
    if status.error is not None and not status.failed:
        parts.append(f"- {status.error.message}")
    return "  ".join(parts)


# ============================================================================ progress display


class _NoProgress:
    def update(self, status: JobStatus) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def close(self, status: JobStatus | None = None) -> None:
        pass


class _TextProgress(_NoProgress):
    """A one-line text bar rewritten in place with ``\\r`` (terminals, plain scripts)."""

    def __init__(self, stream: Any = None, label: str = ""):
        self.stream = stream or sys.stderr
        self.label = label
        self._width = 0
        self._open = False

    def _write(self, line: str) -> None:
        line = (self.label + " " if self.label else "") + line
        pad = max(0, self._width - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._width = len(line)
        self._open = True

    def update(self, status: JobStatus) -> None:
        self._write(format_progress(status))

    def note(self, text: str) -> None:
        self._write(text)

    def close(self, status: JobStatus | None = None) -> None:
        if status is not None:
            self.update(status)
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class _WidgetProgress(_NoProgress):
    """An ipywidgets IntProgress and a label, displayed in the cell's output."""

    STYLES = {"active": "info", "completed": "success", "failed": "danger", "unknown": "warning"}

    def __init__(self, label: str = ""):
        import ipywidgets as w
        from IPython.display import display

        self.bar = w.IntProgress(value=0, min=0, max=1000, description="Staging", bar_style="info")
        self.bar.add_class("srcstage-wait-progress")
        self.text = w.HTML(value=label)
        self.text.add_class("srcstage-wait-state")
        self.box = w.HBox([self.bar, self.text])
        display(self.box)

    def update(self, status: JobStatus) -> None:
        fraction = status.fraction
        self.bar.value = int(round((fraction or 0.0) * 1000))
        self.bar.bar_style = self.STYLES.get(status.phase, "warning")
        self.text.value = _html_escape(format_progress(status, width=0))

    def note(self, text: str) -> None:
        self.text.value = _html_escape(text)

    def close(self, status: JobStatus | None = None) -> None:
        if status is not None:
            self.update(status)


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython") and _get_ipython()
    return bool(shell) and getattr(shell, "kernel", None) is not None


def _get_ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _make_progress(progress: Any, label: str = "") -> _NoProgress:
    if not progress:
        return _NoProgress()
    if progress == "text":
        return _TextProgress(label=label)
    if progress == "widget" or (progress is True and _in_kernel()):
        try:
            return _WidgetProgress(label)
        except Exception:  # no ipywidgets / no display: fall back to text
            if progress == "widget":
                raise
    if hasattr(progress, "write"):
        return _TextProgress(progress, label=label)
    return _TextProgress(label=label)


def _html_escape(text: str) -> str:
    import html

    return html.escape(text)


# ============================================================================ the transport


@dataclass
class _Req:
    method: str
    path: str
    params: dict | None = None
    body: Any = None
    timeout: float | None = None


@dataclass
class _Sleep:
    seconds: float


_Op = Generator[Any, Any, Any]


class Client:
    """A connection to one Jupyter server's srcstage extension.

    Usually made for you (see :func:`get_client`); make one yourself with :func:`connect`. It has
    the same functions as the module (``client.collection(...)``, ``await client.astage...``).
    ``url`` is the server's base URL, ``found_by`` how it was found. The Jupyter token is used as
    ``Authorization: token ...`` and never shown.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Any = True,
        uds: str | None = None,
        found_by: str = "connect()",
    ):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidInputError(f"{url!r} is not a Jupyter server URL such as 'http://127.0.0.1:8888/'.")
        self.url = url if url.endswith("/") else url + "/"
        self.token = token or None
        self.timeout = timeout
        self.found_by = found_by
        self._verify = verify
        self._uds = uds
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._ahttp: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._config: dict | None = None

    def __repr__(self) -> str:
        return f"<srcstage Client {self.url} (found by {self.found_by})>"

    # --- HTTP plumbing ----------------------------------------------------------

    def _headers(self) -> dict:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        return headers

    def _sync_http(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                transport = httpx.HTTPTransport(uds=self._uds) if self._uds else None
                self._http = httpx.Client(
                    headers=self._headers(),
                    timeout=self.timeout,
                    verify=self._verify,
                    transport=transport,
                    trust_env=False,
                )
            return self._http

    def _async_http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._ahttp.get(loop)
        if client is None:
            transport = httpx.AsyncHTTPTransport(uds=self._uds) if self._uds else None
            client = httpx.AsyncClient(
                headers=self._headers(), timeout=self.timeout, verify=self._verify, transport=transport, trust_env=False
            )
            self._ahttp[loop] = client
        return client

    def close(self) -> None:
        """Close the blocking HTTP connection (async ones close with their event loop)."""
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def _url(self, path: str) -> str:
        return f"{self.url}srcstage/{path}"

    def _kwargs(self, req: _Req) -> dict:
        kwargs: dict[str, Any] = {}
        if req.params:
            kwargs["params"] = {k: v for k, v in req.params.items() if v is not None}
        if req.body is not None:
            kwargs["json"] = req.body
        if req.timeout is not None:
            kwargs["timeout"] = req.timeout
        return kwargs

    def _transport_error(self, err: Exception) -> SrcStageError:
        if isinstance(err, httpx.TimeoutException):
            return ServiceUnavailableError(
                f"The Jupyter server at {self.url} did not answer in time ({type(err).__name__}).", code="unavailable"
            )
        return ServerNotFoundError(
            f"Could not reach the Jupyter server at {self.url} (found by {self.found_by}): {err}"
        )

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise ServerNotFoundError(
                    f"{response.request.url} did not answer JSON: is this the srcstage extension?",
                    status=response.status_code,
                ) from None
        raise _error_from_response(response)

    def _send(self, req: _Req) -> Any:
        try:
            response = self._sync_http().request(req.method, self._url(req.path), **self._kwargs(req))
        except httpx.HTTPError as err:
            raise self._transport_error(err) from None
        return self._decode(response)

    async def _asend(self, req: _Req) -> Any:
        try:
            response = await self._async_http().request(req.method, self._url(req.path), **self._kwargs(req))
        except httpx.HTTPError as err:
            raise self._transport_error(err) from None
        return self._decode(response)

    def _run(self, gen: _Op) -> Any:
        """Drive an operation with blocking I/O."""
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = gen.throw(error) if error is not None else gen.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            try:
                if isinstance(op, _Sleep):
                    time.sleep(op.seconds)
                else:
                    value = self._send(op)
            except SrcStageError as err:
                error = err
            except BaseException:  # KeyboardInterrupt...: let the operation clean up (progress bars)
                gen.close()
                raise

    async def _arun(self, gen: _Op) -> Any:
        """Drive an operation inside the running event loop."""
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = gen.throw(error) if error is not None else gen.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            try:
                if isinstance(op, _Sleep):
                    await asyncio.sleep(op.seconds)
                else:
                    value = await self._asend(op)
            except SrcStageError as err:
                error = err
            except BaseException:  # cancelled...: let the operation clean up (progress bars)
                gen.close()
                raise

    # --- operations (generators: yield a request, get its decoded answer) ------------

    def _g_config(self) -> _Op:
        if self._config is None:
            self._config = yield _Req("GET", "config")
        return self._config

    def _g_poll_interval(self) -> _Op:
        config = yield from self._g_config()
        value = config.get("poll_interval_s") if isinstance(config, dict) else None
        return max(0.2, min(5.0, float(value))) if isinstance(value, (int, float)) else 2.0

    def _g_collections(self) -> _Op:
        data = yield _Req("GET", "collections")
        return [Collection(self, c) for c in data.get("collections") or []]

    def _g_collection(self, name: Any, create: bool) -> _Op:
        if isinstance(name, Collection):
            name = name.name
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError("A collection needs a name, e.g. srcstage.collection('my-analysis').")
        name = name.strip()
        for attempt in range(2):
            for c in (yield from self._g_collections()):
                if c.name == name:
                    return c
            if not create:
                raise NotFoundError(f"There is no collection named '{name}'.", code="not_found")
            try:
                data = yield _Req("POST", "collections", body={"name": name})
            except ConflictError:
                if attempt:  # made meanwhile (e.g. in the sidebar) yet not listed: say so
                    raise
                continue
            return Collection(self, data)
        raise AssertionError("unreachable")

    def _g_import(self, doc_or_path: Any) -> _Op:
        doc = _load_document(doc_or_path)
        data = yield _Req("POST", "collections/import", body=doc)
        return Collection(self, data)

    def _g_job(self, job_id: Any) -> _Op:
        if isinstance(job_id, Job):
            job_id = job_id.id
        if not isinstance(job_id, str) or not job_id:
            raise InvalidInputError("A job id is a non-empty string.")
        data = yield _Req("GET", f"jobs/{quote(job_id, safe='')}")
        return Job(self, data)

    def _g_jobs(self) -> _Op:
        data = yield _Req("GET", "jobs")
        return [Job(self, j) for j in data.get("jobs") or []]

    def _g_path(self, did: Any, stage: Any) -> _Op:
        dids = normalize_dids(did)
        if len(dids) != 1:
            raise InvalidInputError("srcstage.path() takes one DID, e.g. srcstage.path('ska-mid:obs-2026-0001').")
        text = dids[0]
        try:
            data = yield _Req("GET", "paths", params={"did": text})
        except NotStagedError as err:
            if stage is None or stage is False:
                raise
            err.job = yield from self._g_stage_for_path(text, None if stage is True else stage)
            err.message += (
                f"\nStaging started for you: job {err.job.id} "
                f"(wait with srcstage.job('{err.job.id}').wait(), then call srcstage.path again)."
            )
            raise err
        paths = [p["path"] for p in data.get("paths") or []]
        items = data.get("paths") or []
        if len(items) == 1 and items[0].get("did") == text:
            return paths[0]
        return paths

    def _g_stage_for_path(self, did: str, lifetime: Any) -> _Op:
        coll = yield from self._g_collection(f"path {did}", True)
        if did not in coll.dids:
            coll = yield from coll._g_patch(add=[did])
        for j in (yield from self._g_jobs()):
            if j.collection_id == coll.id and j.phase in ("active", "unknown"):
                return j  # one copy at a time
        return (yield from coll._g_stage(lifetime))

    def _g_search(self, namespace: str, name: str, type: str, limit: int) -> _Op:
        if not isinstance(namespace, str) or not namespace.strip():
            raise InvalidInputError("Choose a namespace to search in, e.g. srcstage.search('ska-mid').")
        data = yield _Req(
            "GET",
            "dids",
            params={"namespace": namespace.strip(), "name": name or "*", "type": type or "all", "limit": limit},
        )
        result = SearchResult(DidInfo(i) for i in data.get("items") or [])
        result.truncated = bool(data.get("truncated"))
        result.limit = data.get("limit")
        return result

    def _g_namespaces(self) -> _Op:
        data = yield _Req("GET", "namespaces")
        result = Namespaces(data.get("namespaces") or [])
        result.owned = list(data.get("owned") or [])
        return result

    def _g_destination(self, refresh: bool) -> _Op:
        data = yield _Req("GET", "destination", params={"refresh": "true"} if refresh else None)
        return Destination(data)

    def _g_session(self) -> _Op:
        return Session((yield _Req("GET", "session")))

    def _g_sign_in(self, wait: bool, timeout: float, out: Any) -> _Op:
        current = Session((yield _Req("GET", "session")))
        if current.signed_in:
            return current
        started = Session((yield _Req("POST", "session/device")))
        device = started.device or {}
        url = device.get("verification_uri_complete") or device.get("verification_uri")
        print(
            f"To sign in to SRCNet, open {url} and enter the code {device.get('user_code')}.",
            file=out or sys.stdout,
            flush=True,
        )
        if not wait:
            return started
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            yield _Sleep(2.0)
            current = Session((yield _Req("GET", "session")))
            if current.signed_in:
                return current
            if current.state in ("signed_out", "error"):
                raise NotSignedInError(
                    "The SRCNet sign-in did not complete" + (f": {current.error.message}" if current.error else "."),
                    current.error.detail if current.error else None,
                )
        raise NotSignedInError(f"No SRCNet sign-in was approved within {timeout:.0f} s.")

    # --- public: the same as the module functions ----------------------------------

    def collections(self) -> list[Collection]:
        """Your collections, oldest first (the same as the sidebar's)."""
        return self._run(self._g_collections())

    async def acollections(self) -> list[Collection]:
        """Async :meth:`collections`."""
        return await self._arun(self._g_collections())

    def collection(self, name: str, *, create: bool = True) -> Collection:
        """The collection called ``name``: opened if it exists, else created (``create=False``: NotFoundError)."""
        return self._run(self._g_collection(name, create))

    async def acollection(self, name: str, *, create: bool = True) -> Collection:
        """Async :meth:`collection`."""
        return await self._arun(self._g_collection(name, create))

    def import_collection(self, doc_or_path: Any) -> Collection:
        """Import a collection exported with ``Collection.export()``: the dict, its JSON text or a file path.
        Importing a name that exists keeps both (``name (2)``)."""
        return self._run(self._g_import(doc_or_path))

    async def aimport_collection(self, doc_or_path: Any) -> Collection:
        """Async :meth:`import_collection`."""
        return await self._arun(self._g_import(doc_or_path))

    def job(self, job_id: str) -> Job:
        """The staging job with this id (as tracked by this server)."""
        return self._run(self._g_job(job_id))

    async def ajob(self, job_id: str) -> Job:
        """Async :meth:`job`."""
        return await self._arun(self._g_job(job_id))

    def jobs(self) -> list[Job]:
        """Staging jobs tracked by this server, newest first."""
        return self._run(self._g_jobs())

    async def ajobs(self) -> list[Job]:
        """Async :meth:`jobs`."""
        return await self._arun(self._g_jobs())

    def path(self, did: Any, *, stage: Any = None) -> str | list[str]:
        """See :func:`path`."""
        return self._run(self._g_path(did, stage))

    async def apath(self, did: Any, *, stage: Any = None) -> str | list[str]:
        """Async :meth:`path`."""
        return await self._arun(self._g_path(did, stage))

    def search(self, namespace: str, name: str = "*", type: str = "all", limit: int = 1000) -> SearchResult:
        """See :func:`search`."""
        return self._run(self._g_search(namespace, name, type, limit))

    async def asearch(self, namespace: str, name: str = "*", type: str = "all", limit: int = 1000) -> SearchResult:
        """Async :meth:`search`."""
        return await self._arun(self._g_search(namespace, name, type, limit))

    def namespaces(self) -> Namespaces:
        """See :func:`namespaces`."""
        return self._run(self._g_namespaces())

    async def anamespaces(self) -> Namespaces:
        """Async :meth:`namespaces`."""
        return await self._arun(self._g_namespaces())

    def destination(self, refresh: bool = False) -> Destination:
        """See :func:`destination`."""
        return self._run(self._g_destination(refresh))

    async def adestination(self, refresh: bool = False) -> Destination:
        """Async :meth:`destination`."""
        return await self._arun(self._g_destination(refresh))

    def session(self) -> Session:
        """See :func:`session`."""
        return self._run(self._g_session())

    async def asession(self) -> Session:
        """Async :meth:`session`."""
        return await self._arun(self._g_session())

    def sign_in(self, *, wait: bool = True, timeout: float = 600.0, out: Any = None) -> Session:
        """See :func:`sign_in`."""
        return self._run(self._g_sign_in(wait, timeout, out))

    async def asign_in(self, *, wait: bool = True, timeout: float = 600.0, out: Any = None) -> Session:
        """Async :meth:`sign_in`."""
        return await self._arun(self._g_sign_in(wait, timeout, out))

    def config(self) -> dict:
        """The server's settings for kernels: default and maximum lifetime, poll interval, version."""
        return dict(self._run(self._g_config()))


def _load_document(doc_or_path: Any) -> dict:
    if isinstance(doc_or_path, dict):
        return doc_or_path
    if isinstance(doc_or_path, (str, os.PathLike)):
        text = str(doc_or_path)
        if text.lstrip().startswith("{"):
            try:
                return json.loads(text)
            except ValueError as err:
                raise InvalidInputError(f"That is not a collection export: {err}") from None
        p = Path(text).expanduser()
        if not p.is_file():
            raise InvalidInputError(f"No collection export at {p} (give the exported dict, its JSON text or a path).")
        try:
            return json.loads(p.read_text())
        except ValueError as err:
            raise InvalidInputError(f"{p} is not a collection export: {err}") from None
    raise InvalidInputError("Give the exported collection as a dict, its JSON text, or a file path.")


# ============================================================================ collections and jobs


class Collection:
    """A named collection of DIDs kept by the Jupyter server (the sidebar shows the same ones).

    Attributes (as of the last call that read or changed it; :meth:`refresh` reads again):
    ``id``, ``name``, ``dids`` (list of ``namespace:name``), ``entries`` (list of :class:`DidInfo`
    with type and size once known), ``submitted_did`` (the collection's own DID in SRCNet, once
    submitted), ``submitted_stale`` (changed since), ``files`` and ``bytes`` (totals when known).

    Every method that talks to the server has an ``a``-prefixed async twin (``aadd``, ``astage``...).
    """

    def __init__(self, client: Client, data: dict):
        self._client = client
        self._apply(data)

    def _apply(self, data: dict) -> Collection:
        self.raw = data
        self.id: str = data["id"]
        self.name: str = data.get("name", "")
        self.entries = [DidInfo(d) for d in data.get("dids") or []]
        submitted = data.get("submitted") or {}
        self.submitted_did: str | None = submitted.get("did")
        self.submitted_at: str | None = submitted.get("at")
        self.submitted_stale: bool = bool(submitted.get("stale"))
        totals = data.get("totals") or {}
        self.files: int | None = totals.get("files")
        self.bytes: int | None = totals.get("bytes")
        self.created_at = data.get("created_at")
        self.updated_at = data.get("updated_at")
        return self

    @property
    def dids(self) -> list[str]:
        """The DIDs of the collection, as ``namespace:name`` strings, in the order added."""
        return [e.did for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.dids)

    def __contains__(self, did: Any) -> bool:
        try:
            return normalize_dids(did)[0] in self.dids
        except (SrcStageError, IndexError):
            return False

    def __repr__(self) -> str:
        n = len(self.entries)
        size = f", {human_bytes(self.bytes)}" if self.bytes is not None else ""
        sub = ""
        if self.submitted_did:
            sub = f", submitted as {self.submitted_did}{' (changed since)' if self.submitted_stale else ''}"
        return f"<Collection '{self.name}': {n} DID{'s' if n != 1 else ''}{size}{sub}>"

    # --- operations -----------------------------------------------------------------

    def _path(self, suffix: str = "") -> str:
        return f"collections/{quote(self.id, safe='')}{suffix}"

    def _g_refresh(self) -> _Op:
        return self._apply((yield _Req("GET", self._path())))

    def _g_patch(self, *, add: Iterable[str] = (), remove: Iterable[str] = (), name: str | None = None) -> _Op:
        body: dict[str, Any] = {}
        if add:
            body["add"] = list(add)
        if remove:
            body["remove"] = list(remove)
        if name is not None:
            body["name"] = name
        return self._apply((yield _Req("PATCH", self._path(), body=body)))

    def _g_delete(self) -> _Op:
        yield _Req("DELETE", self._path())

    def _g_export(self, path: Any) -> _Op:
        doc = yield _Req("GET", self._path("/export"))
        if path is not None:
            Path(path).expanduser().write_text(json.dumps(doc, indent=1) + "\n")
        return doc

    def _g_submit(self, namespace: str | None, name: str | None) -> _Op:
        body = {k: v for k, v in (("namespace", namespace), ("name", name)) if v}
        data = yield _Req("POST", self._path("/submit"), body=body, timeout=max(self._client.timeout, 300))
        if isinstance(data.get("collection"), dict):
            self._apply(data["collection"])
        return data["did"]

    def _g_precheck(self, lifetime: Any) -> _Op:
        body = {"lifetime": normalize_lifetime(lifetime)}
        data = yield _Req("POST", self._path("/precheck"), body={k: v for k, v in body.items() if v is not None})
        return Precheck(data)

    def _g_stage(self, lifetime: Any) -> _Op:
        body = {"lifetime": normalize_lifetime(lifetime)}
        data = yield _Req(
            "POST",
            self._path("/stage"),
            body={k: v for k, v in body.items() if v is not None},
            timeout=max(self._client.timeout, 300),
        )
        job = Job(self._client, data)
        yield from self._g_refresh()  # submitting changed it
        return job

    def _g_jobs(self) -> _Op:
        return [j for j in (yield from self._client._g_jobs()) if j.collection_id == self.id]

    def _g_paths(self) -> _Op:
        if not self.submitted_did:
            yield from self._g_refresh()
        if not self.submitted_did:
            raise NotStagedError(
                f"The collection '{self.name}' was never staged: "
                f"stage it first, e.g. srcstage.collection('{self.name}').stage(lifetime='7d')."
            )
        result = yield from self._client._g_path(self.submitted_did, None)
        return [result] if isinstance(result, str) else result

    # --- blocking and async forms --------------------------------------------------------

    def refresh(self) -> Collection:
        """Read the collection again from the server (e.g. after changes in the sidebar); returns it."""
        return self._client._run(self._g_refresh())

    async def arefresh(self) -> Collection:
        """Async :meth:`refresh`."""
        return await self._client._arun(self._g_refresh())

    def add(self, *dids: Any) -> Collection:
        """Add DIDs (``"ns:name"`` strings, lists of them, or :class:`DidInfo`); duplicates are ignored.

        Returns the collection, so calls chain: ``c.add("ska-mid:a").stage(lifetime="1d")``.
        Malformed DIDs raise :class:`InvalidInputError` and nothing is added.
        """
        todo = normalize_dids(*dids)
        if not todo:
            raise InvalidInputError("Give at least one DID to add, e.g. c.add('ska-mid:obs-2026-0001').")
        return self._client._run(self._g_patch(add=todo))

    async def aadd(self, *dids: Any) -> Collection:
        """Async :meth:`add`."""
        todo = normalize_dids(*dids)
        if not todo:
            raise InvalidInputError("Give at least one DID to add, e.g. await c.aadd('ska-mid:obs-2026-0001').")
        return await self._client._arun(self._g_patch(add=todo))

    def remove(self, *dids: Any) -> Collection:
        """Remove DIDs from the collection (ones not in it are ignored); returns the collection."""
        return self._client._run(self._g_patch(remove=normalize_dids(*dids)))

    async def aremove(self, *dids: Any) -> Collection:
        """Async :meth:`remove`."""
        return await self._client._arun(self._g_patch(remove=normalize_dids(*dids)))

    def rename(self, new_name: str) -> Collection:
        """Give the collection another name (unique among your collections); returns it."""
        return self._client._run(self._g_patch(name=new_name))

    async def arename(self, new_name: str) -> Collection:
        """Async :meth:`rename`."""
        return await self._client._arun(self._g_patch(name=new_name))

    def delete(self) -> None:
        """Delete the collection here (its submitted DID and staging jobs stay in SRCNet)."""
        self._client._run(self._g_delete())

    async def adelete(self) -> None:
        """Async :meth:`delete`."""
        await self._client._arun(self._g_delete())

    def export(self, path: Any = None) -> dict:
        """The collection as a portable document ``{"format", "name", "dids"}``; also written as
        JSON to ``path`` when given. Import it with :func:`import_collection`."""
        return self._client._run(self._g_export(path))

    async def aexport(self, path: Any = None) -> dict:
        """Async :meth:`export`."""
        return await self._client._arun(self._g_export(path))

    def submit(self, namespace: str | None = None, name: str | None = None) -> str:
        """Create the collection's own DID in SRCNet (idempotent) and return it as ``namespace:name``.

        ``namespace`` defaults to the server's collection namespace (usually ``user.<you>``), ``name``
        to a DID-safe form of the collection's name. :meth:`stage` submits by itself when needed.
        """
        return self._client._run(self._g_submit(namespace, name))

    async def asubmit(self, namespace: str | None = None, name: str | None = None) -> str:
        """Async :meth:`submit`."""
        return await self._client._arun(self._g_submit(namespace, name))

    def precheck(self, lifetime: Any = None) -> Precheck:
        """What :meth:`stage` would do with this lifetime, and any policy problem, without changing anything.

        ``lifetime``: seconds, a string such as ``"12h"``, ``"7d"``, ``"P7D"``, or a ``timedelta``;
        None means the server's default.
        """
        return self._client._run(self._g_precheck(lifetime))

    async def aprecheck(self, lifetime: Any = None) -> Precheck:
        """Async :meth:`precheck`."""
        return await self._client._arun(self._g_precheck(lifetime))

    def stage(self, lifetime: Any = None) -> Job:
        """Stage the collection to the storage next to this server and return the :class:`Job`.

        Submits the collection's DID first if needed, then checks policy: a refusal raises
        :class:`PolicyError` (its ``precheck`` lists the problems) and nothing is requested.
        ``lifetime``: seconds (int), a string with a unit (``"90s"``, ``"30m"``, ``"12h"``, ``"7d"``,
        ``"2w"``, ``"P7D"``) or a ``timedelta``; None means the server's default.
        """
        return self._client._run(self._g_stage(lifetime))

    async def astage(self, lifetime: Any = None) -> Job:
        """Async :meth:`stage`."""
        return await self._client._arun(self._g_stage(lifetime))

    def jobs(self) -> list[Job]:
        """The staging jobs of this collection, newest first."""
        return self._client._run(self._g_jobs())

    async def ajobs(self) -> list[Job]:
        """Async :meth:`jobs`."""
        return await self._client._arun(self._g_jobs())

    def paths(self) -> list[str]:
        """Local paths of all the collection's staged files; :class:`NotStagedError` if not all are there."""
        return self._client._run(self._g_paths())

    async def apaths(self) -> list[str]:
        """Async :meth:`paths`."""
        return await self._client._arun(self._g_paths())

    def widget(self) -> Any:
        """An ipywidgets panel for this collection (search, add, remove, stage, progress)."""
        from .widgets import widget

        return widget(self)


class Job:
    """A staging job: one Data Management staging request for a collection's DID, tracked by the server.

    Attributes (as of the last read): ``id`` (the DM job id), ``did``, ``collection_id``,
    ``collection_name``, ``lifetime_s``, ``destination`` (the RSE name), ``created_at``, ``expires_at``,
    ``state`` (verbatim), ``phase`` (``active``, ``completed``, ``failed`` or ``unknown``) and
    ``last_status`` (a :class:`JobStatus`). :meth:`status` reads it again.
    """

    def __init__(self, client: Client, data: dict):
        self._client = client
        self._apply(data)

    def _apply(self, data: dict) -> Job:
        self.raw = data
        self.id: str = data["id"]
        self.did: str | None = data.get("did")
        self.collection_id: str | None = data.get("collection_id")
        self.collection_name: str | None = data.get("collection_name")
        self.lifetime_s: int | None = data.get("lifetime_s")
        self.destination: str | None = (data.get("destination") or {}).get("name")
        self.created_at = data.get("created_at")
        self.expires_at = data.get("expires_at")
        self.last_status = JobStatus(data)
        self.state = self.last_status.state
        self.phase = self.last_status.phase
        return self

    def __repr__(self) -> str:
        what = f" of '{self.collection_name}'" if self.collection_name else ""
        return f"<Job {self.id}{what} ({self.did} -> {self.destination}): {format_progress(self.last_status, 0)}>"

    def _g_status(self) -> _Op:
        self._apply((yield _Req("GET", f"jobs/{quote(self.id, safe='')}")))
        return self.last_status

    def _g_paths(self) -> _Op:
        try:
            data = yield _Req("GET", f"jobs/{quote(self.id, safe='')}/paths")
        except NotStagedError as err:
            err.message += " Wait for it with job.wait() (or await job.await_done()) first."
            raise
        return [p["path"] for p in data.get("paths") or []]

    def _g_forget(self) -> _Op:
        yield _Req("DELETE", f"jobs/{quote(self.id, safe='')}")

    def _g_wait(self, timeout: float | None, progress: Any, poll_interval: float | None) -> _Op:
        interval = poll_interval if poll_interval else (yield from self._client._g_poll_interval())
        deadline = None if timeout is None else time.monotonic() + timeout
        display = _make_progress(progress, label=f"{self.collection_name or self.did}:")
        failures = 0
        final: JobStatus | None = None
        try:
            while True:
                try:
                    status = yield from self._g_status()
                    failures = 0
                except (ServiceUnavailableError, ServerNotFoundError) as err:
                    # The server restarting does not end the job: keep trying for a while.
                    failures += 1
                    if failures > 10:
                        raise
                    display.note(f"(cannot read the job's state: {err.message}; retrying)")
                else:
                    display.update(status)
                    if status.phase == "completed":
                        final = status
                        return status
                    if status.phase == "failed":
                        final = status
                        error = status.error
                        failed = StagingFailed(
                            f"Staging job {self.id} ({self.collection_name or self.did}) failed: "
                            f"state {status.state}" + (f". {error.message}" if error else "."),
                            error.detail if error else None,
                            status=None,
                            service=error.service if error else None,
                            payload=self.raw,
                        )
                        failed.job, failed.job_status = self, status
                        raise failed
                if deadline is not None and time.monotonic() >= deadline:
                    timed_out = StagingTimeout(
                        f"Staging job {self.id} did not finish within {timeout:g} s (state "
                        f"{self.state}); it goes on: wait again with srcstage.job('{self.id}').wait()."
                    )
                    timed_out.job = self
                    raise timed_out
                pause = interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
                yield _Sleep(pause)
        finally:
            display.close(final)

    def status(self) -> JobStatus:
        """Read the job's state again (from the server's last DM poll) and return it."""
        return self._client._run(self._g_status())

    async def astatus(self) -> JobStatus:
        """Async :meth:`status`."""
        return await self._client._arun(self._g_status())

    def wait(self, timeout: float | None = None, progress: Any = True, poll_interval: float | None = None) -> JobStatus:
        """Block until the job is completed, showing progress; return the final :class:`JobStatus`.

        Raises :class:`StagingFailed` when the job fails and :class:`StagingTimeout` (a
        ``TimeoutError``) after ``timeout`` seconds; a state srcstage does not know is shown as is
        and never taken for success. ``progress``: True (a widget bar in a notebook, a one-line text
        bar on stderr elsewhere), ``"text"``, ``"widget"``, a writable stream, or False.
        ``poll_interval`` defaults to the server's polling interval.
        """
        return self._client._run(self._g_wait(timeout, progress, poll_interval))

    async def await_done(
        self, timeout: float | None = None, progress: Any = True, poll_interval: float | None = None
    ) -> JobStatus:
        """Async :meth:`wait` (named so because ``a`` + ``wait`` is the keyword ``await``)."""
        return await self._client._arun(self._g_wait(timeout, progress, poll_interval))

    def paths(self) -> list[str]:
        """Local paths (``str``) of the job's staged files; :class:`NotStagedError` until completed."""
        return self._client._run(self._g_paths())

    async def apaths(self) -> list[str]:
        """Async :meth:`paths`."""
        return await self._client._arun(self._g_paths())

    def forget(self) -> None:
        """Stop tracking the job on this server (the SRCNet request itself is not cancelled)."""
        self._client._run(self._g_forget())

    async def aforget(self) -> None:
        """Async :meth:`forget`."""
        await self._client._arun(self._g_forget())


# ============================================================================ finding the server


def _local_host(url: str) -> str:
    """A bind URL (``http://0.0.0.0:8888/x/``, ``http://:8888/``) as a URL to connect to."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in ("", "0.0.0.0", "::", "*"):
        netloc = f"127.0.0.1:{parts.port}" if parts.port else "127.0.0.1"
        return urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
    return url


def _hub_ssl(env: dict) -> Any:
    ca, cert, key = (
        env.get(k) for k in ("JUPYTERHUB_SSL_CLIENT_CA", "JUPYTERHUB_SSL_CERTFILE", "JUPYTERHUB_SSL_KEYFILE")
    )
    if not (ca or cert):
        return True
    context = ssl.create_default_context(cafile=ca or None)
    if cert:
        context.load_cert_chain(cert, key or None)
    return context


def _probe(url: str, token: str | None, uds: str | None = None) -> bool:
    """True if the server at ``url`` answers ``GET /srcstage/config``."""
    headers = {"Authorization": f"token {token}"} if token else {}
    try:
        transport = httpx.HTTPTransport(uds=uds) if uds else None
        with httpx.Client(timeout=PROBE_TIMEOUT, transport=transport, trust_env=False) as http:
            return http.get(url.rstrip("/") + "/srcstage/config", headers=headers).status_code == 200
    except httpx.HTTPError:
        return False


def _runtime_client(info: dict, found_by: str, timeout: float) -> Client:
    uds = info.get("sock") or None
    if uds:
        url = "http://localhost" + (info.get("base_url") or "/")
    else:
        url = _local_host(info.get("url") or f"http://127.0.0.1:{info.get('port')}{info.get('base_url') or '/'}")
    return Client(url, info.get("token") or None, timeout=timeout, uds=uds, found_by=found_by)


def discover(
    env: dict | None = None,
    *,
    runtime_dir: str | None = None,
    ppid: int | None = None,
    probe: Callable[[str, str | None, str | None], bool] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Client:
    """Find the Jupyter server this code runs under (see the module docs for the order).

    Raises :class:`ServerNotFoundError` saying what was looked at and how to point to a server.
    """
    env = os.environ if env is None else env
    probe = probe or _probe
    url = env.get(ENV_URL, "").strip()
    if url:
        return Client(url, env.get(ENV_TOKEN) or None, timeout=timeout, found_by=f"${ENV_URL}")

    hub_token = env.get("JUPYTERHUB_API_TOKEN") or env.get("JPY_API_TOKEN")
    service_url, prefix = env.get("JUPYTERHUB_SERVICE_URL", ""), env.get("JUPYTERHUB_SERVICE_PREFIX", "")
    if hub_token and service_url:
        return Client(
            _local_host(service_url),
            hub_token,
            timeout=timeout,
            verify=_hub_ssl(env),
            found_by="$JUPYTERHUB_SERVICE_URL",
        )

    from jupyter_server.serverapp import list_running_servers

    servers = list(list_running_servers(runtime_dir))
    ppid = os.getppid() if ppid is None else ppid
    if hub_token and prefix:
        # Only the prefix: the port comes from the server's runtime file, else Jupyter's default.
        same = [s for s in servers if (s.get("base_url") or "/") == prefix]
        info = next((s for s in same if s.get("pid") == ppid), same[0] if len(same) == 1 else None)
        if info:
            client = _runtime_client(info, "$JUPYTERHUB_SERVICE_PREFIX and a runtime file", timeout)
            client.token = hub_token
            return client
        return Client(
            f"http://127.0.0.1:8888{prefix}",
            hub_token,
            timeout=timeout,
            verify=_hub_ssl(env),
            found_by="$JUPYTERHUB_SERVICE_PREFIX (port 8888)",
        )

    parent = [s for s in servers if s.get("pid") == ppid]
    if parent:
        return _runtime_client(parent[0], "the runtime file of the server that started this kernel", timeout)
    answering = [
        s for s in servers if probe(_runtime_client(s, "", timeout).url, s.get("token") or None, s.get("sock") or None)
    ]
    if len(answering) == 1:
        return _runtime_client(answering[0], "the only running server with srcstage", timeout)

    from jupyter_core.paths import jupyter_runtime_dir

    where = runtime_dir or jupyter_runtime_dir()
    if answering:
        listed = ", ".join(_runtime_client(s, "", timeout).url for s in answering)
        raise ServerNotFoundError(
            f"Several Jupyter servers with srcstage run here ({listed}); say which one to use.", code="server_not_found"
        )
    raise ServerNotFoundError(
        "Could not find the Jupyter server to talk to: "
        f"{ENV_URL} is not set, there are no JupyterHub variables, and of the {len(servers)} running "
        f"Jupyter server(s) in {where} none started this kernel or answers /srcstage/config.",
        code="server_not_found",
    )


_default: Client | None = None
_default_lock = threading.Lock()


def connect(url: str | None = None, token: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Client:
    """Use the Jupyter server at ``url`` (its base URL, e.g. ``http://127.0.0.1:8888/``) with its ``token``
    from now on, and return the :class:`Client`. Without ``url``, find the server again (see
    :func:`get_client`). Nothing is sent until the first call."""
    global _default
    client = Client(url, token, timeout=timeout) if url else discover(timeout=timeout)
    with _default_lock:
        old, _default = _default, client
    if old is not None and old is not client:
        old.close()
    return client


def get_client() -> Client:
    """The :class:`Client` the module functions use: the one from :func:`connect`, else the server found
    by itself (``$SRCSTAGE_SERVER_URL``, JupyterHub's variables, then Jupyter's runtime files)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = discover()
        return _default


# ============================================================================ module functions


def collections() -> list[Collection]:
    """Your collections, oldest first (the same ones the sidebar shows)."""
    return get_client().collections()


async def acollections() -> list[Collection]:
    """Async :func:`collections`."""
    return await get_client().acollections()


def collection(name: str, *, create: bool = True) -> Collection:
    """The collection called ``name``: opened if it exists, else created empty.

    ``create=False`` raises :class:`NotFoundError` instead of creating it.
    """
    return get_client().collection(name, create=create)


async def acollection(name: str, *, create: bool = True) -> Collection:
    """Async :func:`collection`."""
    return await get_client().acollection(name, create=create)


def import_collection(doc_or_path: Any) -> Collection:
    """Import a collection from ``Collection.export()``'s document: a dict, its JSON text, or a file path.

    An existing name is kept and the import is called ``name (2)``.
    """
    return get_client().import_collection(doc_or_path)


async def aimport_collection(doc_or_path: Any) -> Collection:
    """Async :func:`import_collection`."""
    return await get_client().aimport_collection(doc_or_path)


def job(job_id: str) -> Job:
    """The staging job with this id, e.g. to wait for it again in another notebook."""
    return get_client().job(job_id)


async def ajob(job_id: str) -> Job:
    """Async :func:`job`."""
    return await get_client().ajob(job_id)


def jobs() -> list[Job]:
    """Every staging job this server tracks, newest first (the sidebar's list)."""
    return get_client().jobs()


async def ajobs() -> list[Job]:
    """Async :func:`jobs`."""
    return await get_client().ajobs()


def path(did: Any, *, stage: Any = None) -> str | list[str]:
    """The local path of a DID's file at the destination (a ``str``), or of a dataset's or container's
    files (a ``list``).

    When not all of it is there, raises :class:`NotStagedError` whose message says how to stage it.
    With ``stage=True`` (or a lifetime such as ``"7d"``) it also starts the copy (in a collection
    called ``path <did>``) and the error's ``job`` is the staging :class:`Job`.
    """
    return get_client().path(did, stage=stage)


async def apath(did: Any, *, stage: Any = None) -> str | list[str]:
    """Async :func:`path`."""
    return await get_client().apath(did, stage=stage)


def search(namespace: str, name: str = "*", type: str = "all", limit: int = 1000) -> SearchResult:
    """DIDs in ``namespace`` whose name matches ``name`` (``*`` wildcards), of ``type`` ``all``, ``file``,
    ``dataset`` or ``container``: a list of :class:`DidInfo` (``.truncated`` if more than ``limit``)."""
    return get_client().search(namespace, name, type, limit)


async def asearch(namespace: str, name: str = "*", type: str = "all", limit: int = 1000) -> SearchResult:
    """Async :func:`search`."""
    return await get_client().asearch(namespace, name, type, limit)


def namespaces() -> Namespaces:
    """Namespaces (Rucio scopes) SRCNet knows; ``.owned`` lists those you may write into."""
    return get_client().namespaces()


async def anamespaces() -> Namespaces:
    """Async :func:`namespaces`."""
    return await get_client().anamespaces()


def destination(refresh: bool = False) -> Destination:
    """The storage area data is staged to (next to this server): ``rse``, ``site``, ``mount``..."""
    return get_client().destination(refresh)


async def adestination(refresh: bool = False) -> Destination:
    """Async :func:`destination`."""
    return await get_client().adestination(refresh)


def session() -> Session:
    """Who is signed in to SRCNet on this Jupyter server (the kernel never sees the token)."""
    return get_client().session()


async def asession() -> Session:
    """Async :func:`session`."""
    return await get_client().asession()


def sign_in(*, wait: bool = True, timeout: float = 600.0, out: Any = None) -> Session:
    """Sign this Jupyter server in to SRCNet with the device flow: prints the link and code to open,
    then (``wait=True``) waits until you have approved. Returns the :class:`Session`."""
    return get_client().sign_in(wait=wait, timeout=timeout, out=out)


async def asign_in(*, wait: bool = True, timeout: float = 600.0, out: Any = None) -> Session:
    """Async :func:`sign_in`."""
    return await get_client().asign_in(wait=wait, timeout=timeout, out=out)
