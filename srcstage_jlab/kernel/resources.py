"""The kernel API's resources: :class:`Client` (the server), :class:`Collection` and :class:`Job`.

Each verb is one generator method marked ``@verb`` (see :mod:`.transport`): it builds its requests
and reads their answers once, and gets a blocking and an async face from that.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import messages
from .errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    NotSignedInError,
    NotStagedError,
    ServerNotFoundError,
    ServiceUnavailableError,
    SrcStageError,
    StagingFailed,
    StagingTimeout,
)
from .models import (
    Destination,
    DidInfo,
    JobStatus,
    Namespaces,
    Precheck,
    SearchResult,
    Session,
    format_progress,
    human_bytes,
    normalize_dids,
    normalize_lifetime,
)
from .progress import DOWNLOAD_POLL_S, DownloadWatch, make_progress, poll_interval
from .transport import DOWNLOAD_TIMEOUT, LONG_TIMEOUT, Connection, Op, Request, Sleep, Watched, verb

RUNNING_PHASES = ("active", "unknown")  # an unknown state is never taken for an end
SIGN_IN_POLL_S = 2.0
WAIT_READ_FAILURES = 10  # a restarting server does not end a wait at once


class Client(Connection):
    """A connection to one Jupyter server's srcstage extension.

    Usually made for you (see :func:`get_client`); make one yourself with :func:`connect`. It has
    the same functions as the module (``client.collection(...)``, ``await client.astage...``).
    ``url`` is the server's base URL, ``found_by`` how it was found. The Jupyter token is used as
    ``Authorization: token ...`` and never shown.
    """

    def __init__(self, url: str, token: str | None = None, **options: Any):
        super().__init__(url, token, **options)
        self._config: dict | None = None

    def __repr__(self) -> str:
        return f"<srcstage Client {self.url} (found by {self.found_by})>"

    @verb
    def config(self) -> dict:
        """The server's settings for kernels: default and maximum lifetime, poll interval, version."""
        if self._config is None:
            self._config = yield Request("GET", "config")
        return dict(self._config)

    def _g_poll_interval(self) -> Op:
        return poll_interval((yield from self._op_config()))

    @verb
    def collections(self) -> list[Collection]:
        """Your collections, oldest first (the same ones the sidebar shows)."""
        data = yield Request("GET", "collections")
        return [Collection(self, c) for c in data.get("collections") or []]

    @verb
    def collection(self, name: str, *, create: bool = True) -> Collection:
        """The collection called ``name``: opened if it exists, else created empty.

        ``create=False`` raises :class:`NotFoundError` instead of creating it.
        """
        if isinstance(name, Collection):
            name = name.name
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(messages.COLLECTION_NEEDS_NAME_EXAMPLE)
        name = name.strip()
        for attempt in range(2):
            for c in (yield from self._op_collections()):
                if c.name == name:
                    return c
            if not create:
                raise NotFoundError(messages.NO_COLLECTION_NAMED.format(name=name), code="not_found")
            try:
                data = yield Request("POST", "collections", body={"name": name})
            except ConflictError:
                if attempt:  # made meanwhile (e.g. in the sidebar) yet not listed: say so
                    raise
                continue
            return Collection(self, data)
        raise AssertionError("unreachable")

    @verb
    def import_collection(self, doc_or_path: Any) -> Collection:
        """Import a collection from ``Collection.export()``'s document: a dict, its JSON text, or a file path.

        An existing name is kept and the import is called ``name (2)``.
        """
        data = yield Request("POST", "collections/import", body=_load_document(doc_or_path))
        return Collection(self, data)

    @verb
    def job(self, job_id: str) -> Job:
        """The staging job with this id, e.g. to wait for it again in another notebook."""
        if isinstance(job_id, Job):
            job_id = job_id.id
        if not isinstance(job_id, str) or not job_id:
            raise InvalidInputError(messages.JOB_ID_EMPTY)
        return Job(self, (yield Request("GET", f"jobs/{quote(job_id, safe='')}")))

    @verb
    def jobs(self) -> list[Job]:
        """Every staging job this server tracks, newest first (the sidebar's list)."""
        data = yield Request("GET", "jobs")
        return [Job(self, j) for j in data.get("jobs") or []]

    @verb
    def path(self, did: Any, *, stage: Any = None, progress: Any = True) -> str | list[str]:
        """The local path of a DID's file at the destination (a ``str``), or of a dataset's or container's
        files (a ``list``).

        When not all of it is there, raises :class:`NotStagedError` whose message says how to stage it.
        With ``stage=True`` (or a lifetime such as ``"7d"``) it also starts the copy (in a collection
        called ``path <did>``) and the error's ``job`` is the staging :class:`Job`.
        On a server in download mode the files are downloaded first, with a progress bar while bytes
        move (``progress`` as in :meth:`Job.wait`; False for none).
        """
        dids = normalize_dids(did)
        if len(dids) != 1:
            raise InvalidInputError(messages.PATH_TAKES_ONE_DID)
        text = dids[0]
        try:
            data = yield from _g_paths("paths", {"did": text}, text, progress)
        except NotStagedError as err:
            if stage is None or stage is False:
                raise
            err.job = yield from self._g_stage_for_path(text, None if stage is True else stage)
            err.message += messages.PATH_STAGING_STARTED.format(job_id=err.job.id)
            raise err
        items = data.get("paths") or []
        if len(items) == 1 and items[0].get("did") == text:
            return items[0]["path"]
        return [p["path"] for p in items]

    def _g_stage_for_path(self, did: str, lifetime: Any) -> Op:
        coll = yield from self._op_collection(f"path {did}")
        if did not in coll.dids:
            coll = yield from coll._g_patch(add=[did])
        for j in (yield from coll._op_jobs()):
            if j.phase in RUNNING_PHASES:
                return j  # one copy at a time
        return (yield from coll._op_stage(lifetime))

    @verb
    def search(self, namespace: str, name: str = "*", type: str = "all", limit: int = 1000) -> SearchResult:
        """DIDs in ``namespace`` whose name matches ``name`` (``*`` wildcards), of ``type`` ``all``, ``file``,
        ``dataset`` or ``container``: a list of :class:`DidInfo` (``.truncated`` if more than ``limit``)."""
        if not isinstance(namespace, str) or not namespace.strip():
            raise InvalidInputError(messages.SEARCH_NEEDS_NAMESPACE)
        params = {"namespace": namespace.strip(), "name": name or "*", "type": type or "all", "limit": limit}
        data = yield Request("GET", "dids", params=params)
        result = SearchResult(DidInfo(i) for i in data.get("items") or [])
        result.truncated = bool(data.get("truncated"))
        result.limit = data.get("limit")
        return result

    @verb
    def namespaces(self) -> Namespaces:
        """Namespaces (Rucio scopes) SRCNet knows; ``.owned`` lists those you may write into."""
        data = yield Request("GET", "namespaces")
        result = Namespaces(data.get("namespaces") or [])
        result.owned = list(data.get("owned") or [])
        return result

    @verb
    def destination(self, refresh: bool = False) -> Destination:
        """The storage area data is staged to (next to this server): ``rse``, ``site``, ``mount``..."""
        return Destination((yield Request("GET", "destination", params={"refresh": "true"} if refresh else None)))

    @verb
    def session(self) -> Session:
        """Who is signed in to SRCNet on this Jupyter server (the kernel never sees the token)."""
        return Session((yield Request("GET", "session")))

    @verb
    def sign_in(self, *, wait: bool = True, timeout: float = 600.0, out: Any = None) -> Session:
        """Sign this Jupyter server in to SRCNet with the device flow: prints the link and code to open,
        then (``wait=True``) waits until you have approved. Returns the :class:`Session`."""
        current = yield from self._op_session()
        if current.signed_in:
            return current
        started = Session((yield Request("POST", "session/device")))
        device = started.device or {}
        url = device.get("verification_uri_complete") or device.get("verification_uri")
        print(
            messages.DEVICE_SIGN_IN_PROMPT.format(url=url, code=device.get("user_code")),
            file=out or sys.stdout,
            flush=True,
        )
        if not wait:
            return started
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            yield Sleep(SIGN_IN_POLL_S)
            current = yield from self._op_session()
            if current.signed_in:
                return current
            if current.state in ("signed_out", "error"):
                raise NotSignedInError(
                    messages.SIGN_IN_INCOMPLETE.format(why=f": {current.error.message}" if current.error else "."),
                    current.error.detail if current.error else None,
                )
        raise NotSignedInError(messages.SIGN_IN_TIMED_OUT.format(timeout=timeout))


def _load_document(doc_or_path: Any) -> dict:
    if isinstance(doc_or_path, dict):
        return doc_or_path
    if isinstance(doc_or_path, (str, os.PathLike)):
        text = str(doc_or_path)
        if text.lstrip().startswith("{"):
            try:
                return json.loads(text)
            except ValueError as err:
                raise InvalidInputError(messages.IMPORT_NOT_EXPORT.format(err=err)) from None
        p = Path(text).expanduser()
        if not p.is_file():
            raise InvalidInputError(messages.IMPORT_NO_FILE.format(p=p))
        try:
            return json.loads(p.read_text())
        except ValueError as err:
            raise InvalidInputError(messages.IMPORT_FILE_NOT_EXPORT.format(p=p, err=err)) from None
    raise InvalidInputError(messages.IMPORT_BAD_SOURCE)


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

    def _url(self, suffix: str = "") -> str:
        return f"collections/{quote(self.id, safe='')}{suffix}"

    def _g_patch(self, *, add: Iterable[str] = (), remove: Iterable[str] = (), name: str | None = None) -> Op:
        body: dict[str, Any] = {}
        if add:
            body["add"] = list(add)
        if remove:
            body["remove"] = list(remove)
        if name is not None:
            body["name"] = name
        return self._apply((yield Request("PATCH", self._url(), body=body)))

    @verb
    def refresh(self) -> Collection:
        """Read the collection again from the server (e.g. after changes in the sidebar); returns it."""
        return self._apply((yield Request("GET", self._url())))

    @verb
    def add(self, *dids: Any) -> Collection:
        """Add DIDs (``"ns:name"`` strings, lists of them, or :class:`DidInfo`); duplicates are ignored.

        Returns the collection, so calls chain: ``c.add("ska-mid:a").stage(lifetime="1d")``.
        Malformed DIDs raise :class:`InvalidInputError` and nothing is added.
        """
        todo = normalize_dids(*dids)
        if not todo:
            raise InvalidInputError(messages.ADD_NEEDS_DIDS)
        return (yield from self._g_patch(add=todo))

    @verb
    def remove(self, *dids: Any) -> Collection:
        """Remove DIDs from the collection (ones not in it are ignored); returns the collection."""
        return (yield from self._g_patch(remove=normalize_dids(*dids)))

    @verb
    def rename(self, new_name: str) -> Collection:
        """Give the collection another name (unique among your collections); returns it."""
        return (yield from self._g_patch(name=new_name))

    @verb
    def delete(self) -> None:
        """Delete the collection here (its submitted DID and staging jobs stay in SRCNet)."""
        yield Request("DELETE", self._url())

    @verb
    def export(self, path: Any = None) -> dict:
        """The collection as a portable document ``{"format", "name", "dids"}``; also written as
        JSON to ``path`` when given. Import it with :func:`import_collection`."""
        doc = yield Request("GET", self._url("/export"))
        if path is not None:
            Path(path).expanduser().write_text(json.dumps(doc, indent=1) + "\n")
        return doc

    @verb
    def submit(self, namespace: str | None = None, name: str | None = None) -> str:
        """Create the collection's own DID in SRCNet (idempotent) and return it as ``namespace:name``.

        ``namespace`` defaults to the server's collection namespace (usually ``user.<you>``), ``name``
        to a DID-safe form of the collection's name. :meth:`stage` submits by itself when needed.
        """
        body = {k: v for k, v in (("namespace", namespace), ("name", name)) if v}
        data = yield Request("POST", self._url("/submit"), body=body, timeout=max(self._client.timeout, LONG_TIMEOUT))
        if isinstance(data.get("collection"), dict):
            self._apply(data["collection"])
        return data["did"]

    @staticmethod
    def _lifetime_body(lifetime: Any) -> dict:
        value = normalize_lifetime(lifetime)
        return {} if value is None else {"lifetime": value}

    @verb
    def precheck(self, lifetime: Any = None) -> Precheck:
        """What :meth:`stage` would do with this lifetime, and any policy problem, without changing anything.

        ``lifetime``: seconds, a string such as ``"12h"``, ``"7d"``, ``"P7D"``, or a ``timedelta``;
        None means the server's default.
        """
        return Precheck((yield Request("POST", self._url("/precheck"), body=self._lifetime_body(lifetime))))

    @verb
    def stage(self, lifetime: Any = None) -> Job:
        """Stage the collection to the storage next to this server and return the :class:`Job`.

        Submits the collection's DID first if needed, then checks policy: a refusal raises
        :class:`PolicyError` (its ``precheck`` lists the problems) and nothing is requested.
        ``lifetime``: seconds (int), a string with a unit (``"90s"``, ``"30m"``, ``"12h"``, ``"7d"``,
        ``"2w"``, ``"P7D"``) or a ``timedelta``; None means the server's default.
        """
        body = self._lifetime_body(lifetime)
        timeout = max(self._client.timeout, LONG_TIMEOUT)
        job = Job(self._client, (yield Request("POST", self._url("/stage"), body=body, timeout=timeout)))
        yield from self._op_refresh()  # submitting changed it
        return job

    @verb
    def jobs(self) -> list[Job]:
        """The staging jobs of this collection, newest first."""
        return [j for j in (yield from self._client._op_jobs()) if j.collection_id == self.id]

    @verb
    def paths(self) -> list[str]:
        """Local paths of all the collection's staged files; :class:`NotStagedError` if not all are there."""
        if not self.submitted_did:
            yield from self._op_refresh()
        if not self.submitted_did:
            # Staged by the confirmed request alone, the DM naming no parent DID: the newest
            # completed job of this collection knows its files (from `locate` of the members).
            done = [j for j in (yield from self._op_jobs()) if j.phase == "completed"]
            if done:
                return (yield from done[0]._op_paths())
            raise NotStagedError(messages.COLLECTION_NEVER_STAGED.format(name=self.name))
        result = yield from self._client._op_path(self.submitted_did)
        return [result] if isinstance(result, str) else result

    def widget(self) -> Any:
        """An ipywidgets panel for this collection (search, add, remove, stage, progress)."""
        from ..widgets import widget

        return widget(self)


def _g_paths(path: str, params: dict | None, did: str, progress: Any) -> Op:
    """A paths request; in download mode it lasts while the files arrive, and the DID's download
    (``GET /downloads``) is shown meanwhile. A server in mount mode answers at once: nothing shown."""
    watch = DownloadWatch(did, progress)
    answer = None
    try:
        answer = yield Watched(
            Request("GET", path, params=params, timeout=DOWNLOAD_TIMEOUT),
            Request("GET", "downloads"),  # every DID: a job's did need not be a DID the route accepts
            watch.seen,
            DOWNLOAD_POLL_S,
        )
        return answer
    finally:
        watch.close(answer)


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

    def _url(self, suffix: str = "") -> str:
        return f"jobs/{quote(self.id, safe='')}{suffix}"

    @verb
    def status(self) -> JobStatus:
        """Read the job's state again (from the server's last DM poll) and return it."""
        self._apply((yield Request("GET", self._url())))
        return self.last_status

    @verb(async_name="await_done")  # "a" + "wait" would be the keyword `await`
    def wait(self, timeout: float | None = None, progress: Any = True, poll_interval: float | None = None) -> JobStatus:
        """Block until the job is completed, showing progress; return the final :class:`JobStatus`.

        Raises :class:`StagingFailed` when the job fails and :class:`StagingTimeout` (a
        ``TimeoutError``) after ``timeout`` seconds; a state srcstage does not know is shown as is
        and never taken for success. ``progress``: True (a widget bar in a notebook, a one-line text
        bar on stderr elsewhere), ``"text"``, ``"widget"``, a writable stream, or False.
        ``poll_interval`` defaults to the server's polling interval.
        """
        interval = poll_interval if poll_interval else (yield from self._client._g_poll_interval())
        deadline = None if timeout is None else time.monotonic() + timeout
        display = make_progress(progress, label=f"{self.collection_name or self.did}:")
        failures = 0
        final: JobStatus | None = None
        try:
            while not display.stopped:
                try:
                    status = yield from self._op_status()
                    failures = 0
                except (ServiceUnavailableError, ServerNotFoundError) as err:
                    # The server restarting does not end the job: keep trying for a while.
                    failures += 1
                    if failures > WAIT_READ_FAILURES:
                        raise
                    display.note(messages.JOB_STATE_UNREADABLE.format(why=err.message))
                else:
                    display.update(status)
                    if status.phase == "completed":
                        final = status
                        return status
                    if status.phase == "failed":
                        final = status
                        raise self._failure(status)
                if deadline is not None and time.monotonic() >= deadline:
                    timed_out = StagingTimeout(
                        messages.JOB_WAIT_TIMED_OUT.format(job_id=self.id, timeout=timeout, state=self.state)
                    )
                    timed_out.job = self
                    raise timed_out
                pause = interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
                yield Sleep(pause)
            return self.last_status
        finally:
            display.close(final)

    def _failure(self, status: JobStatus) -> StagingFailed:
        error = status.error
        failed = StagingFailed(
            messages.JOB_FAILED.format(job_id=self.id, what=self.collection_name or self.did, state=status.state)
            + (f". {error.message}" if error else "."),
            error.detail if error else None,
            status=None,
            service=error.service if error else None,
            payload=self.raw,
        )
        failed.job, failed.job_status = self, status
        return failed

    @verb
    def paths(self, progress: Any = True) -> list[str]:
        """Local paths (``str``) of the job's staged files; :class:`NotStagedError` until completed.
        On a server in download mode they are downloaded first, with a progress bar while bytes move."""
        try:
            data = yield from _g_paths(self._url("/paths"), None, self.did, progress)
        except NotStagedError as err:
            err.message += messages.PATHS_WAIT_FIRST
            raise
        return [p["path"] for p in data.get("paths") or []]

    @verb
    def files(self, limit: int = 500) -> dict:
        """Each of the job's files and where it is now, read from SRCNet's ``locate``: ``state`` is
        ``"staged"`` (at the destination), ``"on_disk"`` (to be copied from another area) or
        ``"on_tape"`` (to be recalled first). The answer's ``counts`` count every file; ``files``
        lists at most ``limit``, those not staged first."""
        return (yield Request("GET", self._url("/files"), params={"limit": limit}))

    @verb
    def extend(self, lifetime: Any) -> Job:
        """Keep the staged copy ``lifetime`` from now (e.g. ``"14d"``); the server's cap applies.
        Raises NotServedError, with the reason, where the DM does not serve it."""
        self._apply((yield Request("POST", self._url("/extend"), body={"lifetime": normalize_lifetime(lifetime)})))
        return self

    @verb
    def release(self) -> Job:
        """Give the staged copy back now (its files may then go from the destination)."""
        self._apply((yield Request("POST", self._url("/release"))))
        return self

    @verb
    def retry(self) -> Job:
        """Stage a failed job's DIDs again; the new :class:`Job` (the same one however often asked)."""
        return Job(self._client, (yield Request("POST", self._url("/retry"))))

    @verb
    def forget(self) -> None:
        """Stop tracking the job on this server (the SRCNet request itself is not cancelled)."""
        yield Request("DELETE", self._url())
