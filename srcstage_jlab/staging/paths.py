"""From a replica URL on the destination storage area to a path on this server's mount of it.

Replica URLs follow Rucio's deterministic layout
`<prefix>://<host>:<port><base_path><relative_path>/<namespace path>/<h1>/<h2>/<name>`,
where h1/h2 are the first two hex pairs of md5("<namespace>:<name>") and a `user.`
or `group.` namespace has its dots turned into slashes. We keep the part after
the area's root and put it under the mount.
"""

from __future__ import annotations

import hashlib
import posixpath
from urllib.parse import unquote, urlsplit

from .dids import Did


def area_root(base_path: str | None, relative_path: str | None) -> str:
    """The path of the area's root inside replica URLs."""
    joined = "/".join(p.strip("/") for p in (base_path or "", relative_path or "") if p and p.strip("/"))
    return "/" + joined if joined else "/"


def deterministic_tail(did: Did) -> str:
    digest = hashlib.md5(f"{did.namespace}:{did.name}".encode()).hexdigest()
    namespace = did.namespace
    if namespace.startswith(("user.", "group.")):
        namespace = namespace.replace(".", "/")
    return f"/{namespace}/{digest[0:2]}/{digest[2:4]}/{did.name}"


def did_from_tail(tail: str) -> Did | None:
    """The DID a deterministic tail names, found by checking the md5 pairs (None if not deterministic)."""
    parts = [p for p in tail.split("/") if p]
    for i in range(1, len(parts) - 2):
        h1, h2 = parts[i], parts[i + 1]
        if len(h1) == 2 and len(h2) == 2:
            # `user/alice` in a path is the namespace `user.alice`.
            did = Did(".".join(parts[:i]), "/".join(parts[i + 2 :]))
            digest = hashlib.md5(str(did).encode()).hexdigest()
            if digest[0:2] == h1 and digest[2:4] == h2:
                return did
    return None


def tail_of(replica_url: str, root: str) -> str | None:
    """The part of a replica URL's path below the area root, or None if it is not under it."""
    path = posixpath.normpath(unquote(urlsplit(replica_url).path) or "/")
    root = posixpath.normpath(root)
    if root == "/":
        return path
    if path.startswith(root + "/"):
        return path[len(root) :]
    return None


def deterministic_suffix(replica_url: str) -> tuple[Did, str] | None:
    """The DID and tail of a replica URL that follows Rucio's deterministic layout, wherever
    the area root ends (found by checking md5 pairs), or None."""
    parts = [p for p in unquote(urlsplit(replica_url).path).split("/") if p]
    for start in range(len(parts) - 3, -1, -1):
        tail = "/" + "/".join(parts[start:])
        did = did_from_tail(tail)
        if did:
            return did, tail
    return None


def find_tail(replica_url: str, root: str) -> str | None:
    """The tail below the area root; when the URL does not start with the root Site Capabilities
    gave (a stale or partial entry), its deterministic suffix."""
    tail = tail_of(replica_url, root)
    if tail is not None:
        return tail
    found = deterministic_suffix(replica_url)
    return found[1] if found else None


def local_path(tail: str, mount: str) -> str:
    return posixpath.join(mount.rstrip("/") or "/", tail.lstrip("/"))


def replica_key(replica_url: str) -> str:
    """What names a file across RSEs in a locate answer: its DID when the URL follows the
    deterministic layout, else the URL's last part."""
    found = deterministic_suffix(replica_url)
    return str(found[0]) if found else replica_url.rsplit("/", 1)[-1]
