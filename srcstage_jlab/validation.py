"""Edge validation of every /srcstage/ request, from the schemas in openapi.yaml.

Each handler method is checked once, before it runs (see `routes.answers_errors`):
path parameters, query parameters and the JSON body against the OpenAPI operation
that describes it. The handler then reads `self.input`, already checked; nothing
downstream repeats a type or size check. The checks that are ours, not JSON
Schema's, are named `format`s: Rucio's DID grammar (staging/dids.py) and the
lifetime grammar (staging/lifetimes.py), so each rule stays in one place.

Refusals are `InvalidInput` (400, or 413 for a body that is too large) whose message
starts with the field it is about, e.g. `dids[3]: 'a b' is not a valid DID: ...`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft7Validator, FormatChecker

from . import messages
from .errors import InvalidInput
from .staging import lifetimes
from .staging.dids import name_problem, namespace_problem, parse_did

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 16  # our bodies are 3 deep; JSON nested deeper is refused before any schema walk
MAX_QUERY_VALUE = 4096  # characters of one query parameter
WILDCARD_NAME_RE = re.compile(r"^[/A-Za-z0-9*][/A-Za-z0-9.\-_*]*$")
TRUE, FALSE = ("1", "true", "yes"), ("0", "false", "no")


class _Refused(Exception):
    """A format check's reason; its text becomes the refusal's message."""


formats = FormatChecker(formats=())


def _check(problem: str | None) -> bool:
    if problem:
        raise _Refused(problem)
    return True


@formats.checks("did", raises=_Refused)
def _did(value: Any) -> bool:
    if isinstance(value, str):
        try:
            parse_did(value)
        except InvalidInput as err:
            raise _Refused(err.message.rstrip(".")) from None
    return True


@formats.checks("namespace", raises=_Refused)
def _namespace(value: Any) -> bool:
    return not isinstance(value, str) or _check(namespace_problem(value))


@formats.checks("did-name", raises=_Refused)
def _did_name(value: Any) -> bool:
    return not isinstance(value, str) or _check(name_problem(value))


@formats.checks("name-pattern", raises=_Refused)
def _name_pattern(value: Any) -> bool:
    if isinstance(value, str) and value and (".." in value or not WILDCARD_NAME_RE.match(value)):
        raise _Refused(messages.NAME_PATTERN_CHARACTERS)
    return True


@formats.checks("lifetime", raises=_Refused)
def _lifetime(value: Any) -> bool:
    if isinstance(value, (int, float, str)) and value != "":
        try:
            lifetimes.parse_lifetime(value)
        except InvalidInput as err:
            raise _Refused(err.message.rstrip(".")) from None
    return True


@dataclass
class Operation:
    """What one route and method accepts."""

    path_params: dict[str, dict] = field(default_factory=dict)
    query_params: dict[str, tuple[dict, bool]] = field(default_factory=dict)  # name -> (schema, required)
    body: Draft7Validator | None = None


@cache
def _spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def _resolve(schema: dict) -> dict:
    """Inline `#/components/...` references (the request schemas hold no cycles)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            node: Any = _spec()
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            return _resolve(node)
        return {k: _resolve(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(v) for v in schema]
    return schema


@cache
def operation(path: str, method: str) -> Operation:
    """The checks of `method` on the OpenAPI path `path` (e.g. `/collections/{collection_id}`)."""
    item = _spec()["paths"].get(path, {})
    op = item.get(method.lower())
    if op is None:
        raise KeyError(messages.OPENAPI_NO_OPERATION.format(method=method, path=path))
    result = Operation()
    for param in [*item.get("parameters", []), *op.get("parameters", [])]:
        schema = _resolve(param["schema"])
        if param["in"] == "path":
            result.path_params[param["name"]] = schema
        elif param["in"] == "query":
            result.query_params[param["name"]] = (schema, bool(param.get("required")))
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is not None:
        body = _resolve(body)
        Draft7Validator.check_schema(body)
        result.body = Draft7Validator(body, format_checker=formats)
    return result


# --- the checks -----------------------------------------------------------------------


def _where(path: Any) -> str:
    out = "body" if path and isinstance(path[0], int) else ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


_KIND = messages.JSON_KINDS


def _json_kind(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _KIND["number"]
    return {str: _KIND["string"], list: _KIND["array"], dict: _KIND["object"]}.get(type(value), type(value).__name__)


def _message(error: jsonschema.ValidationError) -> str:
    """A plain sentence for one schema violation (its field is said separately)."""
    if isinstance(error.cause, _Refused):
        text = str(error.cause)
        return text[:1].lower() + text[1:] if text[:2] in ("A ", "Th") else text
    if custom := error.schema.get("x-message") if isinstance(error.schema, dict) else None:
        return custom
    kind, expected = error.validator, error.validator_value
    shown = repr(error.instance) if len(repr(error.instance)) <= 60 else repr(error.instance)[:57] + "..."
    if kind == "type":
        return messages.MUST_BE_KIND.format(expected=_KIND.get(expected, expected), got=_json_kind(error.instance))
    if kind == "maxLength":
        return messages.QUERY_VALUE_TOO_LONG.format(length=len(error.instance), most=expected)
    if kind == "minLength":
        return messages.MUST_NOT_BE_EMPTY
    if kind == "maxItems":
        return messages.TOO_MANY_ITEMS.format(count=len(error.instance), most=expected)
    if kind == "enum":
        return messages.MUST_BE_ONE_OF.format(allowed=", ".join(map(repr, expected)), shown=shown)
    if kind == "required":
        return messages.IS_REQUIRED
    if kind in ("minimum", "maximum"):
        bound = messages.MUST_BE_AT_LEAST if kind == "minimum" else messages.MUST_BE_AT_MOST
        return bound.format(expected=expected, shown=shown)
    return error.message[:200]


def _refuse(where: str, message: str, status: int = 400) -> InvalidInput:
    return InvalidInput(f"{where}: {message}.", status=status, extra={"field": where})


def _first_error(validator: Draft7Validator, instance: Any) -> jsonschema.ValidationError | None:
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: (e.validator == "required", list(map(str, e.absolute_path)))
    )
    return errors[0] if errors else None


def _walk(data: Any) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH and strings that are not valid Unicode (lone surrogates)."""
    stack: list[tuple[Any, int, tuple]] = [(data, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise _refuse(_where(path), messages.NESTED_TOO_DEEPLY.format(most=MAX_DEPTH))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _unicode(key, path)
                stack.append((item, depth + 1, (*path, key)))
        elif isinstance(value, str):
            _unicode(value, path)


def _unicode(text: str, path: tuple) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(_where(path), messages.NOT_UNICODE) from None


def parse_body(raw: bytes) -> Any:
    """The decoded JSON body ({} when empty), refused when too large, malformed or nested too deeply."""
    if len(raw) > MAX_BODY_BYTES:
        raise _refuse("body", messages.BODY_TOO_LARGE.format(size=len(raw), most=MAX_BODY_BYTES), status=413)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _refuse("body", messages.NESTED_TOO_DEEPLY.format(most=MAX_DEPTH)) from None
    except (ValueError, UnicodeDecodeError):
        raise _refuse("body", messages.NOT_JSON) from None
    _walk(data)
    return data


def check_body(op: Operation, data: Any) -> dict:
    if op.body is None:
        return {}
    if not isinstance(data, dict):
        raise _refuse("body", messages.MUST_BE_JSON_OBJECT)
    error = _first_error(op.body, data)
    if error is not None:
        path = list(error.absolute_path)
        if error.validator == "required":  # name the missing field, not its parent
            missing = next((r for r in error.validator_value if r not in error.instance), "")
            path.append(missing)
        raise _refuse(_where(path), _message(error))
    return data


def _coerce(name: str, text: str, schema: dict) -> Any:
    """A query string value as its schema's type."""
    kind = schema.get("type")
    if kind == "boolean":
        low = text.strip().lower()
        if low in TRUE or low in FALSE:
            return low in TRUE
        raise _refuse(f"query.{name}", messages.MUST_BE_BOOLEAN)
    if kind == "integer":
        if not re.fullmatch(r"\s*-?\d{1,12}\s*", text):
            raise _refuse(f"query.{name}", messages.MUST_BE_WHOLE_NUMBER)
        return int(text)
    return text


def check_query(op: Operation, arguments: dict[str, list[bytes]]) -> dict:
    """Declared query parameters, decoded and checked; others (Jupyter's `token`, cache busters) are ignored."""
    out: dict[str, Any] = {}
    for name, (schema, required) in op.query_params.items():
        values = arguments.get(name)
        if not values:
            if required:
                raise _refuse(f"query.{name}", messages.IS_REQUIRED)
            if "default" in schema:
                out[name] = schema["default"]
            continue
        try:
            text = values[-1].decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(f"query.{name}", messages.NOT_UTF8) from None
        if len(text) > MAX_QUERY_VALUE:
            raise _refuse(f"query.{name}", messages.QUERY_VALUE_TOO_LONG.format(length=len(text), most=MAX_QUERY_VALUE))
        value = _coerce(name, text, schema)
        error = _first_error(Draft7Validator(schema, format_checker=formats), value)
        if error is not None:
            raise _refuse(f"query.{name}", _message(error))
        out[name] = value
    return out


def check_path(op: Operation, values: dict[str, str]) -> None:
    for name, schema in op.path_params.items():
        if name in values:
            error = _first_error(Draft7Validator(schema, format_checker=formats), values[name])
            if error is not None:
                raise _refuse(name, _message(error))
