"""The OpenAPI 3.1 document of /api/v1, and the reference page that renders it (/api/docs).

Nothing here restates the API by hand. The document is built from:
- the routes in `app.url_map` (paths, methods, the `<record_id>` path parameter);
- what each view declares with `@operation(...)`: the Marshmallow schemas it loads the body and
  the query with (the same declaration `load_body()` / `load_query()` read) and the one it dumps;
- what the other decorators leave on the view: `required_scopes` (`require_scope`) and
  `idempotent` (`idempotent`);
- the Marshmallow fields themselves, whose input rules (trimming, the accepted datetime forms,
  id formats) are turned into JSON Schema by the converters below.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app
from marshmallow import Schema, fields, validate

from crm import fields as crm_fields
from crm.api import bp, public
from crm.api.common import json_response
from crm.api.errors import HTTP_CODES
from crm.api.operations import Operation, operation, operation_of  # noqa: F401 - views import operation from here too
from crm.schemas import RelatedRecord, Representation, id_pattern

API_PREFIX = "/api/v1"
TITLE = "Followup API"
VERSION = "1.0.0"
# Who answers for a server is whoever runs it (a URL here would have to be absolute).
CONTACT = {"name": "The operators of this Followup server"}
# Followup is published under no open licence (package.json: UNLICENSED): an SPDX reference of
# its own says so.
LICENSE = {"name": "Proprietary: no licence is granted", "identifier": "LicenseRef-Proprietary"}

# --- Envelopes and errors, as Marshmallow schemas ------------------------------------------------


def _envelope_name(out: type[Schema]) -> str:
    return out.__name__.removesuffix("Out")


@cache
def resource_envelope(out: type[Schema]) -> type[Schema]:
    return Schema.from_dict(
        {
            "data": fields.Nested(out, required=True),
            "included": fields.List(
                fields.Nested(RelatedRecord), required=True,
                metadata={"description": "The records `data` links to, once each."},
            ),
        },
        name=f"{_envelope_name(out)}Response",
    )


@cache
def data_envelope(out: type[Schema]) -> type[Schema]:
    return Schema.from_dict({"data": fields.Nested(out, required=True)}, name=f"{_envelope_name(out)}Response")


@cache
def batch_envelope(out: type[Schema], statuses: tuple[int, ...]) -> type[Schema]:
    """A batch create's answer: one item per item given, in order."""
    name = _envelope_name(out)
    meaning = "201: created" + ("; 200: the existing record with the same `source` and `external_id` (in the "
                                "database or earlier in the batch), not created again" if 200 in statuses else "")
    item = Schema.from_dict(
        {
            "status": fields.Integer(required=True, validate=validate.OneOf(statuses),
                                     metadata={"description": meaning + "."}),
            "data": fields.Nested(out, required=True),
            "included": fields.List(
                fields.Nested(RelatedRecord), required=True,
                metadata={"description": "The records `data` links to, once each."},
            ),
        },
        name=f"{name}BatchItem",
    )
    return Schema.from_dict(
        {"data": fields.List(fields.Nested(item), required=True,
                             metadata={"description": "One item per item of the request, in its order."})},
        name=f"{name}BatchResponse",
    )


@cache
def list_envelope(item_schema: type[Schema] | None, name: str) -> type[Schema]:
    """A page of `item_schema` records (without one: feed items, either kind)."""
    if item_schema is None:
        item = fields.Raw(metadata={"oneOf": [{"$ref": "#/components/schemas/FeedActivityItem"},
                                              {"$ref": "#/components/schemas/FeedTaskItem"}]})
    else:
        item = fields.Nested(item_schema)
    return Schema.from_dict(
        {
            "data": fields.List(item, required=True),
            "has_more": fields.Boolean(required=True),
            "next_cursor": fields.String(
                required=True, allow_none=True,
                metadata={"description": "Pass back as `cursor` (same filters and sort) for the next page."},
            ),
            "total": fields.Integer(
                validate=validate.Range(min=0),
                metadata={"description": "Only with `include_total=true`."},
            ),
        },
        name=name,
    )


class FeedActivityItem(Representation):
    kind = fields.String(required=True, validate=validate.OneOf(["activity"]))
    at = crm_fields.UtcDateTime(required=True, metadata={"description": "The activity's occurred_at."})
    data = fields.Nested("ActivityOut", required=True)


class FeedTaskItem(Representation):
    kind = fields.String(required=True, validate=validate.OneOf(["task"]))
    at = crm_fields.UtcDateTime(
        required=True, metadata={"description": "completed_at if the task is completed, else created_at."})
    data = fields.Nested("TaskOut", required=True)


class ErrorBody(Representation):
    code = fields.String(required=True, validate=validate.OneOf(sorted({c for c, _ in HTTP_CODES.values()}
                                                                        | {"validation_error",
                                                                           "ambiguous_reference",
                                                                           "request_timeout"})))
    message = fields.String(required=True)
    request_id = fields.String(metadata={
        "description": "The request's id (also its `X-Request-Id` header): quote it when asking for help."})
    details = fields.Dict(metadata={
        "description": "validation_error: each offending field or parameter → a list of messages. "
                       "ambiguous_reference: {field, candidates: [{id, name}]}. "
                       "insufficient_permissions: {missing_scopes}."})


class Error(Representation):
    error = fields.Nested(ErrorBody, required=True)


# --- Field → JSON Schema ------------------------------------------------------------------------

# No NUL (crm.fields.text_problem). Lone surrogates are refused too, but are left out of the
# patterns: JSON Schema tools disagree on how a pattern sees them (UTF-16 units or code points).
_NOT_NUL = r"[^\x00]"
_NO_NUL = r"^[^\x00]*$"
METADATA_DOC = (f"Free key-value data: string keys, any JSON values. At most {crm_fields.Metadata.MAX_KEYS} "
                f"keys and {crm_fields.Metadata.MAX_BYTES} bytes as JSON (16 KiB), nested at most 32 levels; "
                "no NUL character in any key or text; integers beyond 64 bits are kept as double "
                "precision. Anything else is 400 `validation_error` on `metadata`.")
_SPACE = "[" + crm_fields.SPACE_CLASS_BODY + "]"
_NOT_BLANK = "[^" + crm_fields.SPACE_CLASS_BODY + r"\x00]"


def trimmed_text_pattern(min_len: int | None, max_len: int | None, blank_allowed: bool) -> str:
    """A pattern for text that is trimmed before its length is checked, NUL excluded."""
    low = max(min_len or 1, 1)
    if max_len is None:
        core = rf"{_NOT_BLANK}(?:{_NOT_NUL}*{_NOT_BLANK})?"
    elif max_len == 1:
        core = _NOT_BLANK
    elif low <= 1:
        core = rf"{_NOT_BLANK}(?:{_NOT_NUL}{{0,{max_len - 2}}}{_NOT_BLANK})?"
    else:
        core = rf"{_NOT_BLANK}{_NOT_NUL}{{{low - 2},{max_len - 2}}}{_NOT_BLANK}"
    if blank_allowed:
        core = f"(?:{core})?"
    return rf"^{_SPACE}*{core}{_SPACE}*$"


def _length_of(field: fields.Field) -> tuple[int | None, int | None]:
    for v in field.validators:
        if isinstance(v, validate.Length):
            return v.min, v.max
    return None, None


def _is_input(field: fields.Field) -> bool:
    root = field.root
    return not isinstance(root, Representation)


DATETIME_FORMS = ("RFC 3339 (`2026-03-16T12:00:00Z`, any offset: converted to UTC); "
                  "without an offset it is taken as UTC (`2026-03-16T12:00:00`, `T` or a space); "
                  "a bare date (`2026-03-16`) is midnight UTC. "
                  "Between 1900-01-01T00:00:00Z and 2200-12-31T23:59:59Z (in UTC), else a 400.")
# The years the document promises: 1901-2199, in range whatever the offset (1900 and 2200 are
# accepted as far as their UTC value is in range).
_YEAR = r"(?:19(?:0[1-9]|[1-9][0-9])|2[01][0-9]{2})"
_YEAR_PREFIX = r"^" + _YEAR + "-"
# Every real calendar day: 31-day months, 30-day months, February to the 28th, and the 29th in
# leap years (of 1901-2199: every fourth year, 2000 included, 2100 not).
_LEAP = r"(?:0[48]|[2468][048]|[13579][26])"
_LEAP_YEAR = r"(?:19" + _LEAP + r"|20(?:00|" + _LEAP + r")|21" + _LEAP + r")"
_DAY = (r"(?:" + _YEAR + r"-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
        r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
        r"|" + _LEAP_YEAR + r"-02-29)")
_LOCAL_DATETIME = (r"^" + _DAY + r"[Tt ]"
                   r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?$")


def _field_attributes(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    """The project's custom fields, in JSON Schema."""
    nullable = field.allow_none
    if isinstance(field, crm_fields.UtcDateTime):
        if not _is_input(field):
            return {"type": ["string", "null"] if nullable else "string", "format": "date-time"}
        forms: list[dict] = [
            {"type": "string", "format": "date-time", "pattern": _YEAR_PREFIX},
            {"type": "string", "format": "date", "pattern": _YEAR_PREFIX},
            {"type": "string", "pattern": _LOCAL_DATETIME},
        ]
        if nullable:
            forms.append({"type": "null"})
        ret.pop("type", None)
        return {"anyOf": forms, "description": "Datetime: " + DATETIME_FORMS}
    if isinstance(field, crm_fields.BoundedDate) and _is_input(field):
        return {"pattern": _YEAR_PREFIX, "description": "A date, 1900-01-01 to 2200-12-31."}
    if isinstance(field, crm_fields.DecimalString):
        ret.pop("minLength", None)
        ret.pop("maxLength", None)
        return {"pattern": "^" + _SPACE + r"*-?[0-9]{1,15}(?:\.[0-9]{1,4})?" + _SPACE + "*$",
                "description": 'A decimal amount as a string, like "1500.00" (up to 15 digits and 4 decimals).'}
    if isinstance(field, crm_fields.Text) and _is_input(field) and "pattern" in field.metadata:
        ret.pop("minLength", None)
        ret.pop("maxLength", None)
        return {}
    if isinstance(field, crm_fields.Text) and _is_input(field):
        low, high = _length_of(field)
        ret.pop("minLength", None)
        ret.pop("maxLength", None)
        if low is None and high is None and nullable:
            return {"pattern": _NO_NUL}
        limits = f"{low or 1}–{high}" if high else f"at least {low or 1}"
        blank = " Blank means null." if nullable else ""
        extra = {"description": field.metadata.get("description") or
                 f"Trimmed; {limits} characters after trimming.{blank}"}
        return {"pattern": trimmed_text_pattern(low, high, nullable), **extra}
    if isinstance(field, crm_fields.Metadata):
        if not _is_input(field):
            return {"type": "object"}
        # Free-form values (`{}`), not a recursive JSON-value schema: generators of clients
        # (openapi-python-client, openapi-typescript) cannot follow a schema that refers to itself.
        # What the free form cannot say is checked by the server (crm.fields.Metadata) and told here.
        ret.pop("additionalProperties", None)
        return {"type": "object", "maxProperties": crm_fields.Metadata.MAX_KEYS,
                "propertyNames": {"pattern": _NO_NUL},
                "additionalProperties": {},
                "description": METADATA_DOC}
    if isinstance(field, fields.Function) and "schema" in field.metadata:
        return self.resolve_nested_schema(field.metadata["schema"])
    from crm.api.params import CommaList, QueryBool, QueryInteger

    if isinstance(field, CommaList):
        return {"type": "array", "minItems": 1,
                "items": {"type": "string", "enum": list(field.choices)},
                "description": "One or more values: repeated (`status=a&status=b`) or "
                               "comma-separated (`status=a,b`); both mean the same."}
    if isinstance(field, QueryBool):
        return {"type": "boolean"}
    if isinstance(field, QueryInteger):
        return {"type": "integer"}
    return {}


def _parameter_attributes(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    from crm.api.params import CommaList

    schema = ret.get("schema")
    if isinstance(schema, dict) and isinstance(schema.get("type"), list):
        # A query string cannot carry null: an absent parameter is the null.
        schema["type"] = [t for t in schema["type"] if t != "null"][0]
    if isinstance(field, CommaList):
        # Repeated parameters, the form generators send for arrays; commas are accepted too.
        return {"style": "form", "explode": True}
    return {}


def _resolve_name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and isinstance(schema.partial, tuple):
        return f"Bulk{name}"  # partial at its top level only (POST /tasks/bulk's data)
    if not isinstance(schema, type) and schema.partial and name.endswith("Input"):
        return name.removesuffix("Input") + "Update"
    return name


# --- Building the document ----------------------------------------------------------------------

_RULE_ARG = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?(\w+)>")

RATE_HEADERS = {
    "X-RateLimit-Limit": "Requests allowed per window for this key (one bucket per key, every endpoint).",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "When the window resets (Unix time, seconds).",
}
RETRY_AFTER = "Seconds until a request is allowed again (only on 429)."
# The IETF httpapi draft's fields (structured: a policy named "key", quota q, window w seconds;
# remaining r, seconds to reset t).
RATE_FIELDS = {
    "RateLimit-Policy": 'The key\'s policy, e.g. `"key";q=600;w=60` (IETF draft-ietf-httpapi-ratelimit-headers).',
    "RateLimit": 'What is left of it, e.g. `"key";r=598;t=37`: r requests remain, the window resets in t s.',
}


def _header(description: str, schema: dict, required: bool = False) -> dict:
    return {"description": description, "required": required, "schema": schema}


def _rate_headers(retry_required: bool = False) -> dict:
    headers = {name: _header(text, {"type": "integer", "minimum": 0}) for name, text in RATE_HEADERS.items()}
    headers.update({name: _header(text, {"type": "string"}) for name, text in RATE_FIELDS.items()})
    if retry_required:
        headers["Retry-After"] = _header(RETRY_AFTER, {"type": "integer", "minimum": 1}, True)
    return headers


def _error_response(description: str, codes: list[str], extra_headers: dict | None = None,
                    retry_required: bool = False) -> dict:
    return {
        "description": description,
        "headers": {**_rate_headers(retry_required), **(extra_headers or {})},
        "content": {"application/json": {"schema": {
            "allOf": [{"$ref": "#/components/schemas/Error"}],
            "properties": {"error": {"properties": {"code": {"enum": codes}}}},
        }}},
    }


def _error_components() -> dict:
    www = {"WWW-Authenticate": _header("The authentication scheme to use.", {"type": "string"})}
    return {
        "InvalidQuery": _error_response("A query parameter is wrong or unknown, or a header is malformed "
                                        "(`validation_error`; `details` maps each parameter to its messages).",
                                        ["validation_error"]),
        "InvalidBody": _error_response(
            "The body is not a JSON object (`invalid_json`), or a field is wrong, unknown or read-only, or "
            "a query parameter or header is (`validation_error`; `details` maps each to its messages).",
            ["invalid_json", "validation_error"]),
        "InvalidBodyOrAmbiguousName": _error_response(
            "As InvalidBody, or a `contact_name`/`company_name` matches several records "
            "(`ambiguous_reference`; `details.candidates` lists up to 10 `{id, name}`).",
            ["invalid_json", "validation_error", "ambiguous_reference"]),
        "Unauthorized": _error_response("No API key, or an unknown or revoked one.", ["unauthorized"], www),
        "Forbidden": _error_response("The API key lacks a scope this operation needs.",
                                     ["insufficient_permissions"]),
        "NotFound": _error_response("No such record in this workspace (unknown or malformed id, or an id of "
                                    "another workspace).", ["not_found"]),
        "RequestTimeout": _error_response(
            "The body stopped arriving before it was complete (under gunicorn the server waits "
            "`CRM_CLIENT_TIMEOUT` seconds, 10 by default, for each read); nothing was done, and the server closes the connection. Retry.",
            ["request_timeout"], {"Connection": _header("`close`.", {"type": "string", "enum": ["close"]})}),
        "IdempotencyInProgress": _error_response(
            "A request with the same Idempotency-Key is still being processed; retry shortly.",
            ["idempotency_in_progress"]),
        "PreconditionFailed": _error_response("If-Match does not match the record's current ETag; nothing "
                                              "was changed.", ["precondition_failed"]),
        "PayloadTooLarge": _error_response("The body is larger than 1 MiB.", ["payload_too_large"]),
        "UnsupportedMediaType": _error_response("A body that is not application/json.",
                                                ["unsupported_media_type"]),
        "IdempotencyKeyReused": _error_response("This Idempotency-Key was used with a different request.",
                                                ["idempotency_key_reused"]),
        "RateLimited": _error_response("Over the API key's rate limit.", ["rate_limited"], retry_required=True),
        "InternalError": _error_response("Something went wrong on the server; details are in its log.",
                                         ["internal_error"]),
    }


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _operation_id(endpoint: str) -> str:
    name = endpoint.split(".", 1)[1]
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _links_for(path: str, source_op_id: str, targets: list[tuple[str, str, str]], id_pointer: str,
               with_etag: bool = False) -> dict:
    """From an operation that returns records to every operation on the record's path.

    `with_etag`: writes get the response's ETag as If-Match (the read-then-write flow)."""
    base = path if path.endswith("{record_id}") else f"{path}/{{record_id}}"
    links = {}
    for other_path, method, op_id in targets:
        if not (other_path == base or other_path.startswith(base + "/")):
            continue
        if method == "get" and op_id == source_op_id:
            continue
        parameters = {"path.record_id": id_pointer}
        if with_etag and method != "get":
            parameters["header.If-Match"] = "$response.header.ETag"
        links[op_id[0].upper() + op_id[1:]] = {
            "operationId": op_id,
            "parameters": parameters,
            "description": f"{method.upper()} {other_path} on the record returned"
                           + (", with its ETag as If-Match." if "header.If-Match" in parameters else "."),
        }
    return links


def _scopes_text(scopes: tuple[str, ...] | None) -> str:
    if scopes is None:
        return "Needs any valid API key."
    return "Needs the scope" + ("s " if len(scopes) > 1 else " ") + ", ".join(f"`{s}`" for s in scopes) + \
        " (a `:write` scope also grants `:read`; any `:write` scope grants `users:read`)."


def build_document(app: Flask) -> dict:
    ma = MarshmallowPlugin(schema_name_resolver=_resolve_name)
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.1.0",
        plugins=[ma],
        servers=[{"url": API_PREFIX}],
        info={"description": _INFO, "contact": CONTACT, "license": LICENSE},
        security=[{"ApiKeyHeader": []}, {"BearerAuth": []}],
    )
    ma.converter.add_attribute_function(_field_attributes)
    ma.converter.add_parameter_attribute_function(_parameter_attributes)
    spec.components.security_scheme("ApiKeyHeader", {"type": "apiKey", "in": "header", "name": "X-Api-Key"})
    spec.components.security_scheme("BearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "The same API key, as `Authorization: Bearer <key>`."})
    spec.components.schema("Error", schema=Error)
    for name, response in _error_components().items():
        spec.components.response(name, response)
    spec.components.header("ETag", _header("The record's version; send it back in If-Match.",
                                           {"type": "string", "pattern": '^"[0-9a-f]+"$'}, True))

    routes = []
    path_kinds: dict[tuple[str, str], str | None] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]
        op = operation_of(view)
        if op is None:
            continue
        path = _RULE_ARG.sub(r"{\1}", rule.rule[len(API_PREFIX):])
        for name, converter in rule._converters.items():
            path_kinds[(path, name)] = getattr(converter, "kind", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((path, method.lower(), _operation_id(rule.endpoint), view, op))
    link_targets = [(p, m, oid) for p, m, oid, _v, _o in routes]

    # Register the resource schemas (and the partial ones under their own names) before use.
    for _p, _m, _oid, _v, op in routes:
        if op.body is not None:
            schema = op.body_schema()
            name = _resolve_name(schema)
            if name not in spec.components.schemas:
                spec.components.schema(name, schema=schema)
    spec.components.schema("FeedActivityItem", schema=FeedActivityItem)
    spec.components.schema("FeedTaskItem", schema=FeedTaskItem)

    paths: dict[str, dict] = {}
    for path, method, op_id, view, op in sorted(routes, key=lambda r: (r[0], r[1])):
        paths.setdefault(path, {})[method] = _operation_object(path, method, op_id, view, op, link_targets)
    for path, operations in paths.items():
        parameters = []
        for (param_path, name), kind in sorted(path_kinds.items()):
            if param_path == path and kind:
                parameters.append({
                    "in": "path", "name": name, "required": True,
                    "description": f"The {kind}'s id. A malformed id, or one of another workspace, is a 404.",
                    "schema": {"type": "string", "pattern": id_pattern(kind)},
                })
        spec.path(path=path, parameters=parameters, operations=operations)
    document = spec.to_dict()
    _exclusive_name_fields(document["components"]["schemas"])
    _completion_rule(document["components"]["schemas"])
    _open_output_schemas(document)
    document["tags"] = [{"name": t, "description": d} for t, d in _TAGS]
    return document


def _component_refs(node, found: set[str], schemas: dict) -> None:
    """The schema components `node` refers to, through other components too."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found:
                found.add(name)
                _component_refs(schemas.get(name), found, schemas)
        for value in node.values():
            _component_refs(value, found, schemas)
    elif isinstance(node, list):
        for value in node:
            _component_refs(value, found, schemas)


def _open_output_schemas(document: dict) -> None:
    """What the API answers may gain fields (a new field is not a breaking change), so schemas used
    only in answers allow added properties; what it takes stays closed (unknown fields are 400)."""
    schemas = document["components"]["schemas"]
    inputs: set[str] = set()
    outputs: set[str] = set()
    for path_item in document["paths"].values():
        for op in path_item.values():
            if not isinstance(op, dict):
                continue
            _component_refs(op.get("requestBody"), inputs, schemas)
            _component_refs(op.get("responses"), outputs, schemas)
    _component_refs(document["components"].get("responses"), outputs, schemas)
    for name in outputs - inputs:
        if schemas.get(name, {}).get("additionalProperties") is False:
            del schemas[name]["additionalProperties"]


def _exclusive_name_fields(schemas: dict) -> None:
    """A name to resolve and the id it stands for cannot both be given (services.links)."""
    from crm.services.links import NAME_FIELDS

    for schema in schemas.values():
        props = schema.get("properties", {})
        pairs = [[name, id_field] for name, id_field in NAME_FIELDS.items() if name in props and id_field in props]
        if pairs:
            # Each branch names the properties it requires (they are the outer schema's), so that
            # linters see no required property that is not defined.
            schema["not"] = {"anyOf": [{"properties": {name: {} for name in pair}, "required": pair}
                                       for pair in pairs]}
            schema["description"] = "Give " + " and ".join(f"`{n}` or `{i}`, not both" for n, i in pairs) + "."


def _completion_rule(schemas: dict) -> None:
    """A task's completed_at comes with its status, and fits it (services.tasks): non-null exactly
    when the status is `completed`."""
    for schema in schemas.values():
        props = schema.get("properties", {})
        if "completed_at" not in props or "completed" not in props.get("status", {}).get("enum", ()):
            continue
        schema["dependentRequired"] = {"completed_at": ["status"]}
        schema["if"] = {"properties": {"status": {"const": "completed"}}, "required": ["status"]}
        schema["then"] = {"properties": {"completed_at": {"type": "string"}}}
        schema["else"] = {"properties": {"completed_at": {"type": "null"}}}
        props["completed_at"]["description"] = (
            "Only together with `status`: set when the status is `completed` (else now), null otherwise.")


def _operation_object(path: str, method: str, op_id: str, view, op: Operation, link_targets) -> dict:
    scopes = getattr(view, "required_scopes", None)
    is_public = getattr(view, "public", False)
    idempotent = getattr(view, "idempotent", False)
    on_record = "{record_id}" in path
    honours_if_match = on_record and method != "get"
    conditional_get = on_record and method == "get" and op.out is not None and not op.many and not op.feed

    description = [op.description] if op.description else []
    obj: dict[str, Any] = {"operationId": op_id, "summary": op.summary, "tags": [op.tag]}
    parameters: list[dict] = []
    responses: dict[str, Any] = {}

    if is_public:
        obj["security"] = []
        description.append("Needs no API key.")
    else:
        description.append(_scopes_text(scopes))
        obj["x-required-scopes"] = list(scopes or ())

    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if honours_if_match:
        parameters.append({
            "in": "header", "name": "If-Match", "required": False,
            "description": "Only change the record if its ETag is still this one (else 412). "
                           "`*` matches any version.",
            "schema": {"type": "string", "minLength": 1},
        })
    if conditional_get:
        parameters.append({
            "in": "header", "name": "If-None-Match", "required": False,
            "description": "The ETag of the copy you hold: if the record is still that version, the answer "
                           "is 304 with no body. An empty value names no ETag: the full answer.",
            # Empty is accepted, as servers treat it (the fuzzer met it: schema-invalid, answered 200).
            "schema": {"type": "string"},
        })
    if idempotent:
        parameters.append({
            "in": "header", "name": "Idempotency-Key", "required": False,
            "description": "Within 24 h, the same key (from the same API key) with the same body replays the "
                           "first response with `Idempotent-Replayed: true` and creates nothing new.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        })
    if parameters:
        obj["parameters"] = parameters

    body = op.body_schema()
    if body is not None:
        obj["requestBody"] = {
            "required": not op.body_optional,
            "description": "An empty body means `{}`." if op.body_optional else None,
            "content": {"application/json": {"schema": body}},
        }
        if obj["requestBody"]["description"] is None:
            del obj["requestBody"]["description"]

    success_headers = _rate_headers()
    if op.out is not None and not op.many and not op.feed and not op.plain and not op.batch:
        success_headers["ETag"] = _ref("headers", "ETag")
    if idempotent:
        success_headers["Idempotent-Replayed"] = _header(
            "`true` when this is the replay of an earlier response to the same Idempotency-Key.",
            {"type": "string", "enum": ["true"]})
    id_pointer = "$response.body#/data/id"

    if op.deletes:
        responses["204"] = {"description": "Deleted.", "headers": _rate_headers()}
    elif op.feed:
        responses["200"] = _json_response("The timeline, newest first.", list_envelope(None, "Feed"),
                                          success_headers)
    elif op.plain:
        responses["200"] = _json_response(op.summary + ".", data_envelope(op.out), success_headers)
    elif op.batch:
        statuses = (200, 201) if op.also_ok else (201,)
        responses["200"] = _json_response("Every item was created (or, with status 200, found); in the order "
                                          "given.", batch_envelope(op.out, statuses), success_headers)
    elif op.many:
        name = f"{_envelope_name(op.out)}List"
        responses["200"] = _json_response("One page of the list.", list_envelope(op.out, name), success_headers,
                                          _links_for(path, op_id, link_targets, "$response.body#/data/0/id"))
    elif op.out is not None:
        envelope = resource_envelope(op.out)
        links = _links_for(path, op_id, link_targets, id_pointer, with_etag=method == "get")
        if op.created:
            created_headers = {**success_headers, "Location": _header(
                "The URL of the new record.", {"type": "string", "format": "uri-reference"}, True)}
            responses["201"] = _json_response("Created.", envelope, created_headers, links)
            if op.also_ok:
                responses["200"] = _json_response(
                    "A record with the same `source` and `external_id` exists already: it is returned "
                    "and nothing is created.", envelope, success_headers, links)
        else:
            responses["200"] = _json_response("The record.", envelope, success_headers, links)
            if conditional_get:
                responses["304"] = {"description": "Not modified: the If-None-Match ETag is current.",
                                    "headers": {"ETag": _ref("headers", "ETag")}}
    else:
        responses["200"] = {"description": "The OpenAPI document.", "headers": _rate_headers(),
                            "content": {"application/json": {"schema": {"type": "object"}}}}

    if body is not None:
        names = {"contact_name", "company_name"} & _body_field_names(body)
        responses["400"] = _ref("responses", "InvalidBodyOrAmbiguousName" if names else "InvalidBody")
    else:
        responses["400"] = _ref("responses", "InvalidQuery")
    if not is_public:
        responses["401"] = _ref("responses", "Unauthorized")
    if scopes:
        responses["403"] = _ref("responses", "Forbidden")
    if on_record:
        responses["404"] = _ref("responses", "NotFound")
    if idempotent:
        responses["409"] = _ref("responses", "IdempotencyInProgress")
    if honours_if_match:
        responses["412"] = _ref("responses", "PreconditionFailed")
    if method != "get":
        responses["408"] = _ref("responses", "RequestTimeout")
    if body is not None:
        responses["413"] = _ref("responses", "PayloadTooLarge")
        responses["415"] = _ref("responses", "UnsupportedMediaType")
    if idempotent:
        responses["422"] = _ref("responses", "IdempotencyKeyReused")
    responses["429"] = _ref("responses", "RateLimited")
    responses["500"] = _ref("responses", "InternalError")
    obj["responses"] = responses
    obj["description"] = " ".join(description)
    return obj


def _body_field_names(body: Schema) -> set[str]:
    """The body's fields, and those of the items of a batch."""
    names = set(body.fields)
    items = body.fields.get("items")
    if isinstance(items, fields.List) and isinstance(items.inner, fields.Nested):
        names |= set(items.inner.schema.fields)
    return names


def _json_response(description: str, schema, headers: dict, links: dict | None = None) -> dict:
    response = {"description": description, "headers": headers,
                "content": {"application/json": {"schema": schema}}}
    if links:
        response["links"] = links
    return response


_TAGS = (
    ("tasks", "Forward-looking to-dos, linked to contacts, companies and deals."),
    ("activities", "What already happened: calls, emails, meetings, notes; and the feed."),
    ("companies", "Companies."),
    ("contacts", "Contacts."),
    ("deals", "Deals."),
    ("users", "The workspace's users (read-only)."),
    ("notifications", "Your own notifications and notification settings (any valid key)."),
    ("trash", "What was deleted in the last 30 days, and can be restored."),
    ("webhooks", "Webhook subscriptions, their deliveries, test pings and redeliveries (admins' keys, "
                 "scope `webhooks:write`)."),
    ("meta", "This document."),
)

_INFO = """The JSON API of Followup.

**Authentication.** Every operation except `GET /openapi.json` needs an API key, as
`X-Api-Key: <key>` or `Authorization: Bearer <key>`. Scopes: `tasks:read`, `tasks:write`,
`activities:read`, `activities:write`, `records:read`, `records:write` (`:write` implies `:read`),
`users:read` (the workspace's users; any `:write` scope implies it).

**Envelopes.** One record: `{"data": {...}, "included": [...]}`. A list: `{"data": [...],
"has_more", "next_cursor"}` (+ `total` with `include_total=true`). Errors: always
`{"error": {"code", "message", "details"?}}`.

**Input.** Unknown body fields, read-only fields and unknown query parameters are errors. Strings
are trimmed; NUL characters and lone surrogates are refused anywhere. Datetimes: """ + DATETIME_FORMS + """ Linked ids must exist in your workspace, else
400 `validation_error` on that field. PATCH changes only the fields given; `null` clears.

**Lists.** `limit` 1–200 (default 50); keyset pagination with the opaque `next_cursor`. Enum
filters take comma-separated lists (`status=pending,in_progress`).

**Batches.** `POST /tasks/batch` and `POST /activities/batch` take `{"items": [...]}` (1–100 single
creates) in one transaction: all or nothing, errors named `items.<index>.<field>`; the answer lists
each item's `status` (201 created, 200 an existing activity) and record, in order.

**Concurrency and retries.** Single-record responses carry an `ETag`; PATCH, DELETE and the task
actions honour `If-Match` (412 when stale). Any POST may carry an `Idempotency-Key`.

**Limits.** Bodies over 1 MiB get 413. Each key has one rate-limit bucket across every endpoint
(`X-RateLimit-*` and `RateLimit-Policy`/`RateLimit` headers; 429 with `Retry-After` when over). A method a path does not allow gets 405 with `Allow`."""


# --- Routes -------------------------------------------------------------------------------------


def document_for(app: Flask) -> dict:
    """The document, built once per app (the routes do not change after start-up)."""
    cached = app.extensions.get("crm.openapi")
    if cached is None:
        cached = app.extensions["crm.openapi"] = build_document(app)
    return cached


@bp.get("/openapi.json")
@public
@operation(summary="This OpenAPI document", tag="meta")
def openapi_document():
    return json_response(document_for(current_app))


docs_bp = Blueprint("api_docs", __name__)


@docs_bp.get("/api/docs")
def api_reference():
    # A public page about no one in particular: rendered without the context processors, so
    # that it looks up no signed-in user and touches no session.
    template = current_app.jinja_env.get_template("api/docs.html")
    return template.render(document_url=f"{API_PREFIX}/openapi.json")
