"""Hostile input at the edge: JSON, strings and dates checked before they reach Python or PostgreSQL.

Every entry point (the API's bodies, task arguments from the CLI, the dashboard, the admin and
schedules) parses and checks through here, so a value that would crash later (a RecursionError in
json, an OverflowError in float(), a DataError from PostgreSQL's jsonb, a UnicodeEncodeError in a
hash) is refused as the client's mistake, naming where it was found.
"""

import json
import math
import re
from datetime import UTC, datetime

MAX_DEPTH = 32
MAX_BYTES = 1_000_000
# jsonb keeps any number, but Python's int() refuses more than 4,300 digits and float() overflows
# far sooner; 64-bit integers are what ids and counts need.
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
# Python's datetime ends at year 1 and 9999; a value at either edge overflows when shown in another
# time zone, so a day of margin keeps every stored date printable anywhere.
MIN_DATETIME = datetime(1, 1, 3, tzinfo=UTC)
MAX_DATETIME = datetime(9999, 12, 29, tzinfo=UTC)

# NUL cannot be stored in PostgreSQL text or jsonb; a lone surrogate cannot be encoded as UTF-8.
UNSAFE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


class UnsafeInput(ValueError):
    """A value refused at the edge; `where` names the field or argument (`args[0].name`)."""

    def __init__(self, where, message):
        super().__init__(f"{where}{' ' if message.startswith('is ') else ': '}{message}" if where else message)
        self.where = where
        self.message = message

    @property
    def sentence(self):
        """The message on its own, as a sentence ("Not valid JSON: ...")."""
        text = self.message.removeprefix("is ")
        return text[:1].upper() + text[1:]

    @property
    def field(self):
        """The top-level field the bad value sits in (`metadata` for `metadata.a[0]`)."""
        return re.split(r"[.\[]", self.where, maxsplit=1)[0] if self.where else ""


def check_string(value, where=""):
    """Refuse a string holding NUL or a lone surrogate."""
    found = UNSAFE_CHARACTERS.search(value)
    if found is not None:
        what = "a NUL character" if found.group() == "\x00" else "a lone surrogate"
        raise UnsafeInput(where, f"contains {what} at position {found.start()}.")
    return value


def check_number(value, where=""):
    """Refuse NaN, the infinities and integers outside 64 bits."""
    if isinstance(value, float) and not math.isfinite(value):
        raise UnsafeInput(where, "NaN and Infinity are not allowed.")
    if isinstance(value, int) and not isinstance(value, bool) and not MIN_INT <= value <= MAX_INT:
        raise UnsafeInput(where, f"integers must lie between {MIN_INT} and {MAX_INT}.")
    return value


def check_datetime(value, where=""):
    """Refuse a datetime that leaves years 1-9999 once moved to UTC (either way); return aware ones in UTC.

    Python allows offsets up to 23:59, PostgreSQL only up to 15:59: the same instant in UTC always fits.
    """
    if value is None:
        return value
    try:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_DATETIME <= utc <= MAX_DATETIME:
        raise UnsafeInput(where, "the date must lie between 0001-01-03 and 9999-12-29 (UTC).")
    return utc if value.tzinfo is not None else value


def _child(where, key):
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def check_value(value, where="", max_depth=MAX_DEPTH):
    """Check a decoded JSON value without recursion: types, depth, strings and numbers."""
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > max_depth:
            raise UnsafeInput(path, f"is nested deeper than {max_depth} levels.")
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, _Refused):
            raise UnsafeInput(path, item.message)
        if isinstance(item, (int, float)):
            check_number(item, path)
        elif isinstance(item, str):
            check_string(item, path)
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise UnsafeInput(path, f"object keys must be strings, got {type(key).__name__}.")
                check_string(key, _child(path, key))
                stack.append((child, _child(path, key), depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, _child(path, index), depth + 1) for index, child in enumerate(item))
        else:
            raise UnsafeInput(path, f"{type(item).__name__} is not a JSON value.")
    return value


class _Refused:
    """A number the parser met but will not keep; check_value() reports it with its path."""

    def __init__(self, message):
        self.message = message


def _refuse_constant(name):
    return _Refused("NaN and Infinity are not allowed.")


def _parse_int(text):
    # Decided on the text: int() itself raises on more than 4,300 digits.
    if len(text.lstrip("-")) > 19:
        return _Refused(f"integers must lie between {MIN_INT} and {MAX_INT}.")
    return int(text)


def _parse_float(text):
    value = float(text)
    if not math.isfinite(value):
        return _Refused(f"{text[:20]} overflows a 64-bit float.")
    return value


def loads(raw, where="", max_depth=MAX_DEPTH, max_bytes=MAX_BYTES):
    """Parse JSON text (str or bytes) and check it; raise UnsafeInput naming `where` on any problem."""
    if len(raw) > max_bytes:
        raise UnsafeInput(where, f"is larger than {max_bytes} bytes.")
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsafeInput(where, "is not valid UTF-8.") from None
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_int=_parse_int, parse_float=_parse_float)
    except UnsafeInput as exc:
        raise UnsafeInput(where, exc.message) from None
    except RecursionError:
        raise UnsafeInput(where, f"is nested deeper than {max_depth} levels.") from None
    except ValueError as exc:
        raise UnsafeInput(where, f"is not valid JSON: {exc}") from None
    return check_value(value, where, max_depth)

