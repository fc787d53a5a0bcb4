"""Marshmallow fields with the input rules of SPEC §2: trimmed strings, UTC datetimes, strict numbers."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import orjson
from marshmallow import ValidationError, fields

# ASCII digits only: \d would also take other scripts' digits.
_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})?$"
)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

# The datetimes a record can hold (naive UTC), checked wherever one comes in: API bodies and
# query parameters, web forms, the importer. Far enough from datetime.min/max that converting
# to any time zone (UTC-12 to UTC+14) cannot overflow.
EARLIEST_DATETIME = datetime(1900, 1, 1)
LATEST_DATETIME = datetime(2200, 12, 31, 23, 59, 59)
EARLIEST_DATE = EARLIEST_DATETIME.date()
LATEST_DATE = LATEST_DATETIME.date()
DATETIME_RANGE_MESSAGE = "Must be between 1900-01-01T00:00:00Z and 2200-12-31T23:59:59Z."
DATE_RANGE_MESSAGE = "Must be between 1900-01-01 and 2200-12-31."


def text_problem(value: str) -> str | None:
    """Why the database could not store this text on every backend, or None: NUL, lone surrogates."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text."
    return None


def check_text(value: str) -> None:
    """Text the database can store on every backend: valid UTF-8, no NUL."""
    problem = text_problem(value)
    if problem:
        raise ValidationError(problem)


def unstorable_values(data, limit: int = 20) -> dict[str, list[str]]:
    """Strings and numbers anywhere in parsed JSON that no backend can store, by field path:
    NUL characters, lone surrogates, and numbers too large for a double (1e999).

    Checked once for a whole request body or import row, before any field reaches a query."""
    # Fast screen in C for the common, clean case; the walk below only runs to name the culprits.
    try:
        encoded = json.dumps(data, allow_nan=False, ensure_ascii=False)
        if "\\u0000" not in encoded:
            encoded.encode("utf-8")
            return {}
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError):
        pass
    errors: dict[str, list[str]] = {}
    stack = [("", data)]
    while stack and len(errors) < limit:
        path, value = stack.pop()
        problem = None
        if isinstance(value, str):
            problem = text_problem(value)
        elif isinstance(value, float) and not math.isfinite(value):
            problem = "Must be a finite number."
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and text_problem(key):
                    errors.setdefault(path or "body", []).append(f"Key: {text_problem(key)}")
                    continue
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value))
        if problem:
            errors.setdefault(path or "body", []).append(problem)
    return errors


def format_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    # Not strftime: its %Y drops the leading zeros of years before 1000 on some platforms.
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def clamp_datetime(value: datetime) -> datetime:
    """A stored datetime moved into the range records can hold (rows saved before the range was
    checked may lie outside it), so that it converts to any time zone."""
    return min(max(value, EARLIEST_DATETIME), LATEST_DATETIME)


def check_datetime_range(value: datetime) -> datetime:
    if not EARLIEST_DATETIME <= value <= LATEST_DATETIME:
        raise ValidationError(DATETIME_RANGE_MESSAGE)
    return value


# What trimming removes: Python's whitespace and the byte-order mark. The OpenAPI patterns spell
# the same set out (JSON Schema validators and Python disagree on what `\s` means).
SPACE_CHARS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
               "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
SPACE_CLASS_BODY = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def trim(text: str) -> str:
    return text.strip(SPACE_CHARS)


def check_date_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(DATE_RANGE_MESSAGE)
    return value


def parse_datetime(value: str) -> datetime:
    """RFC 3339 → naive UTC, second precision, within the range records hold. No offset means UTC;
    a bare date means midnight UTC."""
    if not isinstance(value, str):
        raise ValidationError("Not a valid datetime.")
    text = trim(value)
    try:
        if _DATE.match(text):
            parsed = datetime.combine(date.fromisoformat(text), time())
        elif not _RFC3339.match(text):
            raise ValueError
        else:
            parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            "Not a valid datetime: use RFC 3339 (2026-03-16T12:00:00Z) or a date (2026-03-16)."
        ) from None
    if parsed.tzinfo is not None:
        offset = parsed.utcoffset() or timedelta()
        # Checked before converting: 0001-01-01T00:00:00+14:00 would overflow.
        local = parsed.replace(tzinfo=None, microsecond=0)
        if not EARLIEST_DATETIME + offset <= local <= LATEST_DATETIME + offset:
            raise ValidationError(DATETIME_RANGE_MESSAGE)
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return check_datetime_range(parsed.replace(microsecond=0))


class Text(fields.String):
    """A trimmed string. Blank becomes None where null is allowed, and is an error where not."""

    default_error_messages = {"blank": "Must not be blank."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        check_text(text)
        text = trim(text)
        if not text:
            if self.allow_none:
                return None
            raise self.make_error("blank")
        return text

    def _validate(self, value):
        # Blank text that became None is "cleared": length and other validators do not apply.
        if value is None:
            return
        super()._validate(value)


class UtcDateTime(fields.Field):
    """Datetime in (between 1900 and 2200), RFC 3339 with Z out."""

    def _serialize(self, value, attr, obj, **kwargs):
        return format_datetime(value)

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_datetime(value)


class BoundedDate(fields.Date):
    """An ISO date between 1900-01-01 and 2200-12-31."""

    def _deserialize(self, value, attr, data, **kwargs):
        return check_date_range(super()._deserialize(value, attr, data, **kwargs))


class StrictInteger(fields.Integer):
    """A JSON integer: `5`, or `5.0` (JSON does not tell them apart, nor does JSON Schema's
    "integer"); not a string, a fraction or a boolean."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


class StrictFloat(fields.Float):
    """A number that is a JSON number: not a string or a boolean."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._validated(value)


class DecimalString(fields.String):
    """A decimal amount given and returned as a string ("1500.00"), kept exactly as written."""

    default_error_messages = {"decimal": "Must be a decimal number as a string, like \"1500.00\"."}
    pattern = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$")

    def _deserialize(self, value, attr, data, **kwargs):
        text = trim(super()._deserialize(value, attr, data, **kwargs))
        if not self.pattern.match(text):
            raise self.make_error("decimal")
        try:
            Decimal(text)
        except InvalidOperation:
            raise self.make_error("decimal") from None
        return text


class Metadata(fields.Dict):
    """Free key-value data: string keys, at most 50 keys and 16 KiB as JSON."""

    MAX_KEYS = 50
    MAX_BYTES = 16 * 1024

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if len(result) > self.MAX_KEYS:
            raise ValidationError(f"At most {self.MAX_KEYS} keys.")
        _check_json_text(result)
        try:
            size = len(orjson.dumps(result))
        except (TypeError, orjson.JSONEncodeError):
            raise ValidationError("Must be JSON data.") from None
        if size > self.MAX_BYTES:
            raise ValidationError(f"At most {self.MAX_BYTES} bytes as JSON.")
        return result


def _check_json_text(value, depth: int = 0) -> None:
    if depth > 32:
        raise ValidationError("Nested too deeply (at most 32 levels).")
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            _check_json_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_text(item, depth + 1)
    elif isinstance(value, float) and value != value:
        raise ValidationError("NaN is not JSON.")


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as {"field.sub": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "body"
            for k, v in flatten_errors(value, name).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            for k, v in flatten_errors(item, prefix).items():
                flat.setdefault(k, []).extend(v)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat
