"""Plain values read from the server's REST answers, and the checks of what a kernel user passes in."""

from __future__ import annotations

from typing import Any

from .. import messages
from ..errors import InvalidInput
from ..staging.lifetimes import describe, parse_lifetime
from .errors import InvalidInputError, error_from_payload, format_detail


def normalize_lifetime(lifetime: Any) -> int | str | None:
    """A lifetime as the REST API takes it: seconds (int), a string with a unit sent as written, or None.

    ``3600`` -> ``3600``; ``"7d"`` -> ``"7d"`` (``90s``, ``30m``, ``12h``, ``7d``, ``2w``, ``P7D``);
    ``timedelta(days=1)`` -> ``86400``; ``None`` -> ``None`` (the server's default). It is checked
    here with the server's own parser, so a bad one is refused before anything is sent.
    """
    if lifetime is None:
        return None
    try:
        seconds = parse_lifetime(lifetime)
    except InvalidInput as err:
        raise InvalidInputError(err.message) from None
    return lifetime.strip() if isinstance(lifetime, str) else seconds


def _did_text(value: Any) -> str:
    if isinstance(value, DidInfo):
        return value.did
    if isinstance(value, dict):
        if isinstance(value.get("did"), str):
            return value["did"].strip()
        ns, name = value.get("namespace"), value.get("name")
        if isinstance(ns, str) and isinstance(name, str):
            return f"{ns.strip()}:{name.strip()}"
        raise InvalidInputError(messages.DID_BAD_VALUE.format(value=value))
    if isinstance(value, str):
        text = value.strip()
        if ":" not in text:
            raise InvalidInputError(messages.NOT_A_DID.format(text=text))
        ns, name = text.split(":", 1)
        if not ns or not name:
            raise InvalidInputError(messages.DID_PART_MISSING.format(text=text))
        return text
    raise InvalidInputError(messages.DID_NOT_A_STRING.format(kind=type(value).__name__))


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
    """``604800`` -> ``7 days`` (the server's wording of lifetimes)."""
    return "?" if seconds is None else describe(seconds)


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
    ``did``; ``files`` and ``bytes``; ``already_at_destination`` (``{"files", "bytes"}`` or None);
    ``sampled`` (``{"located", "of"}`` when that is an estimate from a sample of the files, else None).
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
        self.sampled = data.get("sampled")

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
            about = "about " if self.sampled else ""
            lines.append(f"  already there: {about}{self.already_at_destination['files']} file(s)")
        if self.sampled:
            lines.append(f"  (estimated from {self.sampled['located']} of {self.sampled['of']} files)")
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
    state = status.state or messages.NO_STATE
    if status.phase == "unknown":
        state += messages.STATE_NOT_KNOWN
    parts.append(state)
    if status.error is not None and not status.failed:
        parts.append(f"- {status.error.message}")
    return "  ".join(parts)
