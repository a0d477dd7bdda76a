"""Lifetimes of staging requests: parsed from seconds, `7d`-style units or ISO 8601 durations."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from .. import messages
from ..errors import InvalidInput

# No staging lifetime is longer than this, whatever a deployment's cap: beyond it a value is a
# mistake (or `1e999`), refused as invalid input rather than as a policy problem.
ABSURD_S = 100 * 365 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_UNIT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_ISO_RE = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def parse_lifetime(value: Any) -> int:
    """Seconds from `3600`, `"90s"`, `"30m"`, `"12h"`, `"7d"`, `"2w"`, `"P7D"`, `"PT12H"` or a timedelta."""
    if isinstance(value, bool):
        raise InvalidInput(messages.LIFETIME_WRONG_TYPE)
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int):
        seconds = value if abs(value) <= 2 * ABSURD_S else (math.inf if value > 0 else -math.inf)  # no float overflow
    elif isinstance(value, float):
        seconds = value
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+", text):
            seconds = float(text)
        elif match := _UNIT_RE.match(text):
            seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
        elif (match := _ISO_RE.match(text)) and any(match.groupdict().values()):
            seconds = sum(float(v) * _UNITS[k] for k, v in match.groupdict().items() if v)
        else:
            raise InvalidInput(messages.LIFETIME_UNPARSEABLE.format(value=value))
    else:
        raise InvalidInput(messages.LIFETIME_WRONG_TYPE)
    if math.isnan(seconds):
        raise InvalidInput(messages.LIFETIME_NAN)
    if seconds < 1:
        raise InvalidInput(messages.LIFETIME_UNDER_ONE_SECOND)
    if seconds > ABSURD_S:  # also infinity
        shown = str(value) if len(str(value)) <= 30 else str(value)[:27] + "..."
        raise InvalidInput(messages.LIFETIME_ABSURD.format(shown=shown))
    return int(round(seconds))


def describe(seconds: int) -> str:
    """`604800` -> `7 days`: how a lifetime reads to a person."""
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    return f"{seconds} seconds"
