"""Data a notebook declares it needs, and staging it before (or while) the notebook runs.

A notebook says which data it needs under one metadata key, ``metadata.srcstage``::

    {"srcstage": {"collections": [
        {"name": "my-analysis", "dids": ["ska-mid:obs-2026-0001"], "lifetime": "7d"}
    ]}}

``lifetime`` is optional (the server's default applies). :func:`require` stages what it is given,
or what the running notebook declares, and waits; ``python -m srcstage_jlab run`` (see
``runner.py``) does the same before it executes a notebook headless. Both go through the Jupyter
server extension's REST routes with the kernel API, so its policy checks apply and no SRCNet token
reaches this process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import client as api
from . import messages
from .errors import InvalidInput
from .staging.dids import parse_did

METADATA_KEY = "srcstage"
#: Set by ``srcstage run`` for the kernel it starts: the notebook being executed.
ENV_NOTEBOOK = "SRCSTAGE_NOTEBOOK"
#: Set by jupyter_server for kernels it starts for a notebook session: that notebook's path.
ENV_SESSION_NAME = "JPY_SESSION_NAME"


@dataclass(frozen=True)
class DeclaredCollection:
    """One collection a notebook needs: its name, its DIDs and, optionally, a lifetime."""

    name: str
    dids: tuple[str, ...]
    lifetime: str | int | None = None

    def as_metadata(self) -> dict:
        entry: dict[str, Any] = {"name": self.name, "dids": list(self.dids)}
        if self.lifetime is not None:
            entry["lifetime"] = self.lifetime
        return entry


def _invalid(where: str, what: str) -> api.InvalidInputError:
    return api.InvalidInputError(messages.DECLARED_FIELD.format(key=METADATA_KEY, where=where, what=what))


def declared_data(notebook: Any) -> list[DeclaredCollection]:
    """The collections a notebook declares (a notebook dict, an ``nbformat`` node or a path).

    A notebook without the key declares nothing (``[]``). A malformed declaration raises
    :class:`~srcstage_jlab.client.InvalidInputError` naming the field, so nothing is staged from it.
    """
    if isinstance(notebook, (str, os.PathLike)):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    metadata = notebook.get("metadata") if isinstance(notebook, Mapping) else None
    if not isinstance(metadata, Mapping) or METADATA_KEY not in metadata:
        return []
    block = metadata[METADATA_KEY]
    if not isinstance(block, Mapping) or not isinstance(block.get("collections"), list):
        raise _invalid("", messages.DECLARED_NEEDS_COLLECTIONS_LIST)
    found: list[DeclaredCollection] = []
    for i, entry in enumerate(block["collections"]):
        where = f".collections[{i}]"
        if not isinstance(entry, Mapping):
            raise _invalid(where, messages.DECLARED_COLLECTION_NOT_AN_OBJECT)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _invalid(f"{where}.name", messages.DECLARED_NAME_MISSING)
        dids = entry.get("dids")
        if not isinstance(dids, list) or not dids:
            raise _invalid(f"{where}.dids", messages.DECLARED_DIDS_MISSING)
        texts = []
        for j, did in enumerate(dids):
            try:
                texts.append(str(parse_did(did if isinstance(did, str) else "")))
            except InvalidInput as err:
                raise _invalid(f"{where}.dids[{j}]", f"{did!r}: {err.message}") from None
        lifetime = entry.get("lifetime")
        if lifetime is not None and (isinstance(lifetime, bool) or not isinstance(lifetime, (str, int))):
            raise _invalid(f"{where}.lifetime", messages.DECLARED_LIFETIME_INVALID)
        if any(c.name == name.strip() for c in found):
            raise _invalid(f"{where}.name", messages.DECLARED_TWICE.format(name=name))
        found.append(DeclaredCollection(name.strip(), tuple(dict.fromkeys(texts)), lifetime))
    return found


def with_declared(notebook: dict, collection: DeclaredCollection) -> dict:
    """``notebook`` with ``collection`` declared (replacing one of the same name)."""
    others = [c for c in declared_data(notebook) if c.name != collection.name]
    notebook.setdefault("metadata", {})[METADATA_KEY] = {
        "collections": [c.as_metadata() for c in [*others, collection]]
    }
    return notebook


def running_notebook(env: Mapping[str, str] | None = None) -> Path | None:
    """The notebook this kernel runs, when it can be found: ``$SRCSTAGE_NOTEBOOK`` (set by
    ``srcstage run``), else the session path jupyter_server gives its kernels (relative to the
    server's root; the kernel's working directory is the notebook's folder)."""
    env = os.environ if env is None else env
    if env.get(ENV_NOTEBOOK):
        return Path(env[ENV_NOTEBOOK])
    session = env.get(ENV_SESSION_NAME, "")
    if session.endswith(".ipynb"):
        for candidate in (Path(session), Path.cwd() / Path(session).name):
            if candidate.is_file():
                return candidate
    return None


def stage_declared(
    declared: DeclaredCollection,
    *,
    timeout: float | None = None,
    progress: Any = True,
    client: api.Client | None = None,
) -> list[str]:
    """Make sure one declared collection is at this server's destination; its local paths.

    The collection of that name is opened (or created) on the server and gets the declared DIDs.
    When all its files are already there nothing is requested; otherwise it is staged and waited
    for. Refusals and failures raise the kernel API's errors (``PolicyError``, ``StagingFailed``...)
    with SRCNet's detail verbatim.
    """
    client = client or api.get_client()
    collection = client.collection(declared.name)
    missing = [d for d in declared.dids if d not in set(collection.dids)]
    if missing:
        collection.add(*missing)
    try:  # already here (staged before, by anyone): nothing to request
        return [p for did in declared.dids for p in _as_list(client.path(did))]
    except api.NotStagedError:
        pass
    job = collection.stage(lifetime=declared.lifetime)
    job.wait(timeout=timeout, progress=progress)
    return job.paths()


def _as_list(paths: str | list[str]) -> list[str]:
    return [paths] if isinstance(paths, str) else list(paths)


def require(
    *dids: Any,
    name: str | None = None,
    lifetime: Any = None,
    notebook: Any = None,
    timeout: float | None = None,
    progress: Any = True,
) -> list[str] | dict[str, list[str]]:
    """Stage data before the code that reads it runs, and wait; for headless runs too.

    ``require("ska-mid:obs-2026-0001", lifetime="1d")`` stages the DIDs as one collection
    (``name``, default ``"required-data"``) and returns their local paths.
    ``require()`` stages every collection the running notebook declares in ``metadata.srcstage``
    (or those of ``notebook``, a path or a notebook dict) and returns ``{name: paths}``.
    """
    if dids:
        texts = api.normalize_dids(*dids)
        declared = declared_data(
            {"metadata": {METADATA_KEY: {"collections": [{"name": name or "required-data", "dids": texts}]}}}
        )[0]
        declared = DeclaredCollection(declared.name, declared.dids, lifetime)
        return stage_declared(declared, timeout=timeout, progress=progress)
    source = notebook if notebook is not None else running_notebook()
    if source is None:
        raise api.InvalidInputError(messages.NO_DIDS_AND_NO_NOTEBOOK)
    collections = declared_data(source)
    if not collections:
        raise api.InvalidInputError(messages.NOTEBOOK_DECLARES_NO_DATA.format(key=METADATA_KEY))
    return {c.name: stage_declared(c, timeout=timeout, progress=progress) for c in collections}
