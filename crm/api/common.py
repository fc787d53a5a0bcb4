"""Request parsing and response building shared by every endpoint."""

from __future__ import annotations

import json
import keyword
from typing import Any

import orjson
from flask import Response, current_app, g, request, url_for
from marshmallow import Schema, ValidationError, fields, missing

from crm.api.errors import ApiError
from crm.api.operations import current_operation
from crm.api.params import CommaList, UserRef
from crm.fields import UtcDateTime, flatten_errors, format_datetime, unstorable_values
from crm.schemas import related

JSON_TYPES = ("application/json",)


def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses integers beyond 64 bits, which are still JSON; the standard parser takes them.
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None


def _reject_constant(name: str):
    raise ValueError(name)


def read_body(*, optional: bool = False) -> dict:
    """The request body as a JSON object. `optional`: an empty body reads as {}."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    mimetype = request.mimetype or ""
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "The request body must be application/json.")
    data = _loads(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    unstorable = unstorable_values(data)
    if unstorable:
        raise ApiError(400, "validation_error", "The request has invalid fields.", unstorable)
    return data


def load_body() -> dict:
    """The body through the schema the view declares with `@operation(body=...)`."""
    op = current_operation()
    schema = op.body_schema()
    data = read_body(optional=op.body_optional)
    try:
        return schema.load(data)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "The request has invalid fields.",
                       flatten_errors(err.messages)) from None


def query_values(schema: Schema) -> dict[str, str]:
    """The query string as one value per name. A list parameter may be given comma-separated
    (`status=a,b`), repeated (`status=a&status=b`, as generated clients send arrays) or both;
    any other parameter given twice is an error."""
    args = request.args
    data: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}
    for name in args:
        values = args.getlist(name)
        if len(values) == 1:
            data[name] = values[0]
        elif isinstance(schema.fields.get(name), CommaList):
            data[name] = ",".join(values)
        else:
            repeated[name] = ["Given more than once."]
    if repeated:
        raise ApiError(400, "validation_error", "The request has invalid query parameters.", repeated)
    return data


def load_query() -> dict:
    """The query string through the schema the view declares with `@operation(query=...)`:
    unknown or repeated parameters are errors too."""
    schema = current_operation().query_schema()
    data = query_values(schema)
    unstorable = unstorable_values(data)
    if unstorable:
        raise ApiError(400, "validation_error", "The request has invalid query parameters.", unstorable)
    try:
        params = schema.load(data)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "The request has invalid query parameters.",
                       flatten_errors(err.messages)) from None
    return _me_as_caller(schema, params)


def _me_as_caller(schema: Schema, params: dict) -> dict:
    """`owner_id=me` (any UserRef parameter): the API key's user, so the services see an id."""
    for name, field in schema.fields.items():
        if isinstance(field, UserRef) and params.get(name) == UserRef.ME:
            params[name] = g.caller.user_id
    return params


def dump_json(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload)
    except TypeError:
        # orjson stops at 64-bit integers; JSON does not. PostgreSQL's jsonb gives large numbers
        # back as integers (1e20 comes back as 100000000000000000000), so metadata can hold them.
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    response = current_app.response_class(dump_json(payload), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def included_of(record) -> list[dict]:
    """The records linked from `record`, once each, as {"type", "id", "name"}."""
    links: list[dict | None] = []
    for attr, kind in (("contact", "contact"), ("company", "company"), ("deal", "deal"), ("owner", "user")):
        if hasattr(record, attr):
            links.append(related(kind, getattr(record, attr)))
    for link in getattr(record, "attendee_links", ()):
        links.append(related("contact", link.contact))
    seen: set[tuple[str, str]] = set()
    result = []
    for item in links:
        if item and (item["type"], item["id"]) not in seen:
            seen.add((item["type"], item["id"]))
            result.append(item)
    return result


def etag_listed(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match value names this ETag (weak or strong) or is `*`."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or f'"{etag}"' in tags


def resource_response(record, schema: Schema, status: int = 200, location_endpoint: str | None = None) -> Response:
    headers = {}
    if getattr(record, "etag", None) is not None:
        headers["ETag"] = f'"{record.etag}"'
        # Conditional GET: the client's copy is current, so no body is sent (RFC 9110 §13.1.2).
        if request.method in ("GET", "HEAD") and etag_listed(request.headers.get("If-None-Match"), record.etag):
            return current_app.response_class(status=304, headers=headers)
    if location_endpoint:
        headers["Location"] = url_for(location_endpoint, record_id=record.id)
    return json_response({"data": dump(schema, record), "included": included_of(record)}, status, headers)


def list_response(page, schema: Schema) -> Response:
    payload: dict[str, Any] = {
        "data": dump_many(schema, page.items),
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }
    if page.total is not None:
        payload["total"] = page.total
    return json_response(payload)


# --- Dumping records -----------------------------------------------------------------------
# The output schemas dump a page of records field by field through Marshmallow's generic
# machinery, which was most of a list request's time. For the field types the output schemas
# are made of, the same value is computed directly, and each schema is compiled once into a
# function that builds a record's dict; any other field, and any schema with hooks, goes
# through Marshmallow as before. tests/api/test_dump.py holds the two equal.

_dumpers: dict[int, tuple[Schema, Any]] = {}


def _field_getter(name: str, field: fields.Field, schema: Schema):
    attr = field.attribute or name
    kind = type(field)
    if kind is fields.String:
        def get(obj):
            value = getattr(obj, attr)
            return value if value is None or type(value) is str else field._serialize(value, attr, obj)
    elif kind is UtcDateTime:
        def get(obj):
            value = getattr(obj, attr)
            if value is not None and value.tzinfo is None and value.year >= 1000:
                # format_datetime's text, without strftime (half the time, 200 values a page)
                return value.isoformat(timespec="seconds") + "Z"
            return format_datetime(value)
    elif kind is fields.Function:
        def get(obj):
            return field._serialize(None, attr, obj)
    elif kind is fields.Dict and field.key_field is None and field.value_field is None:
        def get(obj):
            value = getattr(obj, attr)
            return None if value is None else dict(value)
    elif kind is fields.List and type(field.inner) is fields.String:
        inner = field.inner

        def get(obj):
            value = getattr(obj, attr)
            if value is None:
                return None
            return [v if type(v) is str else inner._serialize(v, attr, obj) for v in value]
    elif field._CHECK_ATTRIBUTE and "." not in attr:
        # What `field.serialize` does for an attribute the record has, without the lookup machinery.
        def get(obj):
            return field._serialize(getattr(obj, attr), attr, obj)
    else:
        def get(obj):
            return field.serialize(attr, obj, accessor=schema.get_attribute)
    return get


def _compile(schema: Schema):
    """One function per schema that builds the record's dict in a single expression: strings and
    datetimes are read inline, every other field calls its getter above."""
    if schema.many or any(schema._hooks.values()):
        return None
    namespace: dict[str, Any] = {"_str": str, "_format_datetime": format_datetime}
    items = []
    for i, (name, field) in enumerate(schema.dump_fields.items()):
        attr = field.attribute or name
        namespace[f"get{i}"] = _field_getter(name, field, schema)
        plain = attr.isidentifier() and not keyword.iskeyword(attr)
        if plain and type(field) is fields.String:
            value = f"(v if (v := obj.{attr}) is None or v.__class__ is _str else get{i}(obj))"
        elif plain and type(field) is UtcDateTime:
            value = (f'(v.isoformat(timespec="seconds") + "Z" if (v := obj.{attr}) is not None '
                     f"and v.tzinfo is None and v.year >= 1000 else _format_datetime(v))")
        else:
            value = f"get{i}(obj)"
        items.append(f"{field.data_key or name!r}: {value}")
    source = "def dump_record(obj):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, f"<dump {type(schema).__name__}>", "exec"), namespace)  # noqa: S102 - our own field names
    return namespace["dump_record"]


def _dumper(schema: Schema):
    entry = _dumpers.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = _dumpers[id(schema)] = (schema, _compile(schema))
    return entry[1]


def dump(schema: Schema, record) -> dict:
    """schema.dump(record) for a model instance, faster."""
    dump_record = _dumper(schema)
    if dump_record is None or isinstance(record, dict):
        return schema.dump(record)
    return _dump_one(dump_record, record)


def dump_many(schema: Schema, records: list) -> list[dict]:
    dump_record = _dumper(schema)
    if dump_record is None or any(isinstance(record, dict) for record in records):
        return schema.dump(records, many=True)
    return [_dump_one(dump_record, record) for record in records]


def _dump_one(dump_record, record) -> dict:
    data = dump_record(record)
    if missing in data.values():  # Marshmallow leaves out what it could not get
        return {key: value for key, value in data.items() if value is not missing}
    return data


def if_match() -> str | None:
    value = request.headers.get("If-Match")
    if value is not None and not value.strip():
        raise ApiError(400, "validation_error", "The If-Match header is invalid.",
                       {"If-Match": ["Must be an ETag, a list of them, or *."]})
    return value


def no_content() -> Response:
    return current_app.response_class(status=204)
