"""A user's named collections of DIDs, persisted on disk.

A collection is local until it is submitted; submitting creates its DID in
SRCNet (see `service.StagingService.submit`). Changing a submitted collection marks
the submission stale, so the next stage submits again under a fresh name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import messages
from ..errors import Conflict, InvalidInput, NotFound
from .dids import Did, parse_dids
from .store import JsonFile

EXPORT_FORMAT = "srcstage-collection/1"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Entry:
    """One DID of a collection, with what we learned about it (type, size) once known."""

    namespace: str
    name: str
    type: str | None = None
    bytes: int | None = None

    @property
    def did(self) -> Did:
        return Did(self.namespace, self.name)

    def to_json(self) -> dict:
        # Built by hand: dataclasses.asdict deep-copies, and collections hold 10,000s of entries.
        return {
            "did": f"{self.namespace}:{self.name}",
            "namespace": self.namespace,
            "name": self.name,
            "type": self.type,
            "bytes": self.bytes,
        }


@dataclass
class StoredCollection:
    id: str
    name: str
    entries: list[Entry] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    submitted_did: str | None = None
    submitted_at: str | None = None
    submitted_members: list[str] | None = None  # the DIDs the submitted DID holds
    # "collection" (we made the DID) or "staging request" (the DM made the parent container
    # from the confirmed staging request; `submitted_did` is None when it did not name it)
    submitted_via: str | None = None
    submitted_description: str | None = None
    files: int | None = None  # from the DM API once submitted
    bytes: int | None = None

    @property
    def dids(self) -> list[Did]:
        return [e.did for e in self.entries]

    @property
    def is_submitted_current(self) -> bool:
        return bool(self.submitted_did or self.submitted_description) and self.submitted_members == sorted(
            map(str, self.dids)
        )

    @property
    def collection_did(self) -> str | None:
        """The collection DID we made and may read back (not a DM-made parent)."""
        return self.submitted_did if self.submitted_via in (None, "collection") else None

    def to_json(self) -> dict:
        known = [e.bytes for e in self.entries]
        submitted = None
        if self.submitted_did or self.submitted_description:
            submitted = {
                "did": self.submitted_did,
                "at": self.submitted_at,
                "stale": not self.is_submitted_current,
                "via": self.submitted_via or "collection",
                "description": self.submitted_description,
            }
        current = self.is_submitted_current
        return {
            "id": self.id,
            "name": self.name,
            "dids": [e.to_json() for e in self.entries],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "submitted": submitted,
            "totals": {
                "dids": len(self.entries),
                "files": self.files if current else None,
                "bytes": self.bytes if current else (sum(known) if known and None not in known else None),
            },
        }

    def export(self) -> dict:
        return {"format": EXPORT_FORMAT, "name": self.name, "dids": [str(d) for d in self.dids]}

    @classmethod
    def from_json(cls, data: dict) -> StoredCollection:
        entries = [Entry(**{k: v for k, v in e.items() if k != "did"}) for e in data.get("entries", [])]
        fields = {k: v for k, v in data.items() if k != "entries"}
        return cls(entries=entries, **fields)

    def to_store(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "entries"}
        data["entries"] = [vars(e).copy() for e in self.entries]
        return data


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(messages.COLLECTION_NEEDS_NAME)
    name = name.strip()
    if len(name) > 200:
        raise InvalidInput(messages.COLLECTION_NAME_TOO_LONG)
    return name


class CollectionStore:
    """The collections of this server's user, kept in memory and saved atomically on every change."""

    def __init__(self, path: Path):
        self._file = JsonFile(path)
        raw = self._file.load({"collections": []})
        self._items: dict[str, StoredCollection] = {
            c["id"]: StoredCollection.from_json(c) for c in raw.get("collections", [])
        }

    async def _save(self) -> None:
        await self._file.write({"collections": [c.to_store() for c in self._items.values()]})

    def all(self) -> list[StoredCollection]:
        return sorted(self._items.values(), key=lambda c: c.created_at)

    def get(self, collection_id: str) -> StoredCollection:
        try:
            return self._items[collection_id]
        except KeyError:
            raise NotFound(messages.NO_COLLECTION_WITH_ID.format(collection_id=collection_id)) from None

    def by_name(self, name: str) -> StoredCollection | None:
        return next((c for c in self._items.values() if c.name == name), None)

    def _check_unique(self, name: str, own_id: str | None = None) -> None:
        other = self.by_name(name)
        if other and other.id != own_id:
            raise Conflict(messages.COLLECTION_NAME_TAKEN.format(name=name))

    async def create(self, name: Any, dids: Iterable[Any] = ()) -> StoredCollection:
        name = _clean_name(name)
        self._check_unique(name)
        parsed = parse_dids(dids)
        collection = StoredCollection(id=uuid.uuid4().hex, name=name)
        _add(collection, parsed)
        self._items[collection.id] = collection
        await self._save()
        return collection

    async def update(
        self, collection_id: str, *, name: Any = None, add: Iterable[Any] = (), remove: Iterable[Any] = ()
    ) -> StoredCollection:
        """Rename, add and remove together; bad input changes nothing."""
        collection = self.get(collection_id)
        new_name = _clean_name(name) if name is not None else collection.name
        self._check_unique(new_name, collection.id)
        to_add, to_remove = parse_dids(add), set(parse_dids(remove))
        collection.name = new_name
        collection.entries = [e for e in collection.entries if e.did not in to_remove]
        _add(collection, to_add)
        collection.updated_at = now_iso()
        await self._save()
        return collection

    async def delete(self, collection_id: str) -> None:
        self.get(collection_id)
        del self._items[collection_id]
        await self._save()

    async def import_document(self, document: Any) -> StoredCollection:
        if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
            raise InvalidInput(messages.EXPORT_WRONG_FORMAT.format(expected=EXPORT_FORMAT))
        name = _clean_name(document.get("name"))
        base, n = name, 2
        while self.by_name(name):  # importing twice keeps both, like a file manager would
            name, n = f"{base} ({n})", n + 1
        dids = document.get("dids")
        if not isinstance(dids, list):
            raise InvalidInput(messages.EXPORT_NEEDS_DIDS)
        return await self.create(name, dids)

    async def record_submission(
        self,
        collection: StoredCollection,
        did: Did | str | None,
        files: int | None,
        size: int | None,
        *,
        via: str = "collection",
        description: str | None = None,
    ) -> None:
        collection.submitted_did = str(did) if did else None
        collection.submitted_via, collection.submitted_description = via, description
        collection.submitted_at = now_iso()
        collection.submitted_members = sorted(map(str, collection.dids))
        collection.files, collection.bytes = files, size
        await self._save()

    async def record_details(self, collection: StoredCollection, details: dict[Did, dict]) -> None:
        """Remember type and size of entries, as learned from the DM API."""
        for entry in collection.entries:
            info = details.get(entry.did)
            if info:
                entry.type = info.get("type", entry.type)
                entry.bytes = info.get("bytes", entry.bytes)
        await self._save()


def _add(collection: StoredCollection, dids: list[Did]) -> None:
    present = set(collection.dids)
    for did in dids:
        if did not in present:  # duplicates are ignored, order kept
            collection.entries.append(Entry(did.namespace, did.name))
            present.add(did)
