"""Data identifiers (DIDs): `namespace:name`, checked against Rucio's generic naming rules.

Rucio refuses names with spaces, `..`, a leading dot, non-ASCII characters or over
250 characters, and scopes (namespaces) over 25 characters. Checking here first
gives the user the reason at once, before any SRCNet call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import messages
from ..errors import InvalidInput

NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,24}$")
NAME_RE = re.compile(r"^[/A-Za-z0-9][/A-Za-z0-9.\-_]*$")
MAX_NAME = 250


@dataclass(frozen=True, order=True)
class Did:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}:{self.name}"

    def to_json(self) -> dict:
        return {"namespace": self.namespace, "name": self.name}


def name_problem(name: str) -> str | None:
    """Why Rucio would refuse this DID name, or None."""
    if not name:
        return messages.DID_NAME_EMPTY
    if len(name) > MAX_NAME:
        return messages.DID_NAME_TOO_LONG.format(length=len(name), most=MAX_NAME)
    if ".." in name:
        return messages.DID_NAME_HAS_DOTDOT
    if not NAME_RE.match(name):
        return messages.DID_NAME_CHARACTERS
    return None


def namespace_problem(namespace: str) -> str | None:
    if not namespace:
        return messages.DID_NAMESPACE_EMPTY
    if not NAMESPACE_RE.match(namespace):
        return messages.DID_NAMESPACE_CHARACTERS
    return None


def parse_did(value: Any) -> Did:
    """A Did from `"namespace:name"` or `{"namespace": ..., "name": ...}`; InvalidInput if malformed."""
    if isinstance(value, Did):
        return value
    if isinstance(value, dict):
        namespace, name = value.get("namespace"), value.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str):
            raise InvalidInput(messages.DID_PARTS_NOT_STRINGS.format(value=value))
        text = f"{namespace}:{name}"
    elif isinstance(value, str):
        text = value.strip()
        if ":" not in text:
            raise InvalidInput(messages.NOT_A_DID.format(text=text))
        namespace, name = text.split(":", 1)
    else:
        raise InvalidInput(messages.DID_MUST_BE_STRING.format(kind=type(value).__name__))
    problem = namespace_problem(namespace) or name_problem(name)
    if problem:
        raise InvalidInput(messages.DID_INVALID.format(text=text, problem=problem))
    return Did(namespace, name)


def parse_dids(values: Iterable[Any]) -> list[Did]:
    """Parse many DIDs; every bad one is named in a single error."""
    if isinstance(values, (str, dict)):
        values = [values]
    dids, problems = [], []
    for value in values:
        try:
            dids.append(parse_did(value))
        except InvalidInput as err:
            problems.append(err.message)
    if problems:
        shown = problems[:5] + ([f"... and {len(problems) - 5} more"] if len(problems) > 5 else [])
        raise InvalidInput(" ".join(shown))
    return dids


def did_safe_name(text: str) -> str:
    """A DID name made from a collection's display name ("My run #2" -> "My-run-2")."""
    safe = re.sub(r"[^A-Za-z0-9._\-]+", "-", text.strip()).strip("-.")
    safe = re.sub(r"\.{2,}", ".", safe)
    return (safe or "collection")[:MAX_NAME]
