"""Hypothesis strategies and the checking loop of the REST fuzz (tests/test_fuzz_routes.py).

A generated request is a method, a path under /srcstage/ (real ids of the server's state
mixed with made-up ones), a raw query string (any bytes, percent-encoded, invalid UTF-8
included) and a raw body (empty, any bytes, any JSON, JSON shaped like our bodies with
hostile values, nesting far past any limit, number literals no float holds).
`Fuzzer.send` sends one and checks what must hold for every answer: no status >= 500, no
traceback, a JSON error body with a message, and, for a refused request, state files
byte-for-byte unchanged.
"""

from __future__ import annotations

import collections
import json
import re
import string
from pathlib import Path
from urllib.parse import quote_from_bytes

import httpx
from hypothesis import strategies as st

from srcstage_jlab.routes import ROUTES

ID_CHARS = string.ascii_letters + string.digits + "_-"
TRACEBACK_SIGNS = ("Traceback (most recent call last)", 'File "/', "RecursionError", "OverflowError")


def operations() -> list[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every handler method of the route table."""
    out = []
    for api_path, handler in ROUTES:
        for method in ("get", "post", "patch", "delete"):
            impl = getattr(handler, method, None)
            if impl is not None and impl.__qualname__.startswith(handler.__name__ + "."):
                out.append((method.upper(), api_path))
    return out


# --- values ---------------------------------------------------------------------------

good_names = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._\-]{0,20}\Z").filter(lambda s: ".." not in s)
good_dids = st.builds(lambda ns, n: f"{ns[:25]}:{n}", good_names, good_names)
nasty_strings = st.sampled_from(
    [
        "",
        " ",
        "../../etc/passwd",
        "a" * 10_000,
        "ska-mid:" + "x" * 300,
        "ska-mid:a..b",
        "ska-mid:.hidden",
        "ska mid:x",
        "ska-mid:ü",
        "\ud800",
        "\x00",
        "ska-mid:a b",
        ":",
        "ska-mid:",
        ":name",
        "Infinity",
        "NaN",
        "1e999",
        "99999999999999999999d",
        "P99999999999999999999W",
        "-1",
        "0",
        "7d",
        "PT12H",
        "9" * 400,
        "<script>alert(1)</script>",
        "%ED%A0%80",
    ]
)
texts = st.one_of(st.text(max_size=40), nasty_strings, good_dids, good_names)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2**63, 10**12, 3600, 86400 * 7]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
FIELDS = ["name", "dids", "add", "remove", "lifetime", "namespace", "format", "did"]
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.one_of(texts, st.sampled_from(FIELDS)), inner, max_size=5)
    ),
    max_leaves=20,
)
did_lists = st.one_of(
    st.lists(st.one_of(good_dids, nasty_strings, texts), max_size=8),
    st.lists(good_dids, max_size=3),
    json_values,
)
field_values = {
    "name": st.one_of(good_names, texts, json_values),
    "dids": did_lists,
    "add": did_lists,
    "remove": did_lists,
    "lifetime": st.one_of(numbers, texts, st.sampled_from(["7d", "1d", "90s", 3600, "400d"]), json_values),
    "namespace": st.one_of(good_names, texts, json_values),
    "format": st.one_of(st.just("srcstage-collection/1"), texts),
}
shaped_bodies = st.fixed_dictionaries({}, optional={key: strategy for key, strategy in field_values.items()}).map(
    lambda d: json.dumps(d, allow_nan=True).encode()
)
# Number literals no Python float or int survives unharmed, in the fields that take numbers.
raw_literals = st.sampled_from([b"1e999", b"-1e999", b"Infinity", b"-Infinity", b"NaN", b"9" * 400, b"1" * 5000])
literal_bodies = st.builds(
    lambda field, lit: b'{"name": "n", "' + field.encode() + b'": ' + lit + b"}",
    st.sampled_from(["lifetime", "dids", "add", "remove", "name", "namespace"]),
    raw_literals,
)


@st.composite
def nested_bodies(draw) -> bytes:
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'{"dids":[', b"]}")]))
    depth = draw(st.sampled_from([15, 17, 100, 1000, 50_000]))
    return opener * depth + b"1" + closer * depth


bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=64),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    shaped_bodies,
    shaped_bodies,
    literal_bodies,
    nested_bodies(),
)


# --- query strings ----------------------------------------------------------------------

QUERY_NAMES = ["namespace", "name", "type", "limit", "did", "refresh"]
query_values = st.one_of(
    texts.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=24),
    st.sampled_from([b"\xed\xa0\x80", b"\xff", b"\xc3", b"ska-mid", b"ska-mid:obs-2026-0001", b"10000", b"-5", b"1e5"]),
    st.sampled_from([b"all", b"file", b"dataset", b"container", b"true", b"false", b"yes"]),
)
queries = st.lists(
    st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=6)), query_values), max_size=4
).map(
    lambda pairs: "&".join(
        f"{quote_from_bytes(k.encode('utf-8', 'surrogatepass'))}={quote_from_bytes(v)}" for k, v in pairs
    )
)


@st.composite
def requests(
    draw, ids: dict[str, list[str]], operation: tuple[str, str] | None = None
) -> tuple[str, str, str, bytes, str]:
    """(method, path under /srcstage/, raw query string, raw body, "METHOD /openapi/path"),
    for the given (METHOD, OpenAPI path) or for any operation."""
    method, api_path = operation or draw(st.sampled_from(operations()))

    def some_id(kind: str) -> str:
        return draw(st.one_of(st.sampled_from(ids.get(kind) or ["none"]), st.text(ID_CHARS, min_size=1, max_size=80)))

    path = re.sub(r"\{collection_id\}", lambda _m: some_id("collection"), api_path)
    path = re.sub(r"\{job_id\}", lambda _m: some_id("job"), path)
    body = draw(bodies) if method in ("POST", "PATCH") or draw(st.integers(0, 9)) == 0 else b""
    return method, path, draw(queries), body, f"{method} {api_path}"


# --- the checks ---------------------------------------------------------------------------


class Fuzzer:
    """Sends generated requests to a running server and checks every answer."""

    def __init__(self, base_url: str, token: str, state_files: list[Path]) -> None:
        self.client = httpx.Client(base_url=base_url, headers={"Authorization": f"token {token}"}, timeout=60)
        self.state_files = state_files
        self.statuses: collections.Counter = collections.Counter()
        self.per_operation: collections.Counter = collections.Counter()
        self.refused = 0

    def state(self) -> list[bytes | None]:
        return [p.read_bytes() if p.exists() else None for p in self.state_files]

    def send(self, method: str, path: str, query: str, body: bytes, operation: str) -> httpx.Response:
        before = self.state()
        url = f"srcstage{path}" + (f"?{query}" if query else "")
        response = self.client.request(method, url, content=body)
        self.statuses[response.status_code] += 1
        self.per_operation[operation] += 1
        what = f"{method} {path}?{query[:200]} body={body[:200]!r} -> {response.status_code} {response.text[:500]}"
        assert response.status_code < 500, what
        assert not any(sign in response.text for sign in TRACEBACK_SIGNS), what
        if response.status_code >= 400:
            self.refused += 1
            answer = response.json()
            assert isinstance(answer, dict) and answer.get("message"), what
            assert self.state() == before, f"a refused request changed the server's state: {what}"
        return response

    def figures(self) -> dict:
        return {
            "requests": sum(self.statuses.values()),
            "refused": self.refused,
            "answers_5xx": sum(n for s, n in self.statuses.items() if s >= 500),
            "statuses": dict(sorted(self.statuses.items())),
            "operations": len(self.per_operation),
        }

    def close(self) -> None:
        self.client.close()
