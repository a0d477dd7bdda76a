"""The kernel-side Python API (its public face; the machinery is in :mod:`srcstage_jlab.kernel`): collections, staging jobs and staged files, from a notebook or a script.

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

import inspect
import threading
from collections.abc import Callable
from typing import Any

from .kernel.discovery import discover
from .kernel.errors import (
    CODE_TO_ERROR,
    ENV_TOKEN,
    ENV_URL,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    NotSignedInError,
    NotStagedError,
    PolicyError,
    ServerNotFoundError,
    ServiceUnavailableError,
    SrcStageError,
    StagingFailed,
    StagingTimeout,
    error_from_payload,
    format_detail,
)
from .kernel.models import (
    Destination,
    DidInfo,
    JobStatus,
    Namespaces,
    Precheck,
    SearchResult,
    Session,
    StorageArea,
    format_progress,
    human_bytes,
    human_seconds,
    normalize_dids,
    normalize_lifetime,
)
from .kernel.progress import TextProgress as _TextProgress
from .kernel.resources import Client, Collection, Job
from .kernel.transport import DEFAULT_TIMEOUT

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

# Not in __all__ but part of the module (tests, the widget):
_INTERNALS = (
    ENV_URL,
    ENV_TOKEN,
    CODE_TO_ERROR,
    error_from_payload,
    format_detail,
    format_progress,
    human_bytes,
    human_seconds,
)
_INTERNALS += (normalize_dids, normalize_lifetime, SearchResult, Namespaces, StorageArea, _TextProgress)

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


def _faces(name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The module functions ``name`` and its async twin: the default client's verb of that name."""
    blocking_verb = getattr(Client, name)
    async_name = f"a{name}"

    def blocking(*args: Any, **kwargs: Any) -> Any:
        return getattr(get_client(), name)(*args, **kwargs)

    async def awaitable(*args: Any, **kwargs: Any) -> Any:
        return await getattr(get_client(), async_name)(*args, **kwargs)

    signature = inspect.signature(blocking_verb)
    signature = signature.replace(parameters=list(signature.parameters.values())[1:])  # no `self`
    for face, face_name, doc in (
        (blocking, name, blocking_verb.__doc__),
        (awaitable, async_name, f"Async :func:`{name}`."),
    ):
        face.__name__ = face.__qualname__ = face_name
        face.__doc__ = doc
        face.__signature__ = signature  # type: ignore[attr-defined]
    return blocking, awaitable


collections, acollections = _faces("collections")
collection, acollection = _faces("collection")
import_collection, aimport_collection = _faces("import_collection")
job, ajob = _faces("job")
jobs, ajobs = _faces("jobs")
path, apath = _faces("path")
search, asearch = _faces("search")
namespaces, anamespaces = _faces("namespaces")
destination, adestination = _faces("destination")
session, asession = _faces("session")
sign_in, asign_in = _faces("sign_in")
