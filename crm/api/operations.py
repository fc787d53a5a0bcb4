"""What each API view declares with `@operation(...)`: the schemas it loads its body and query
with and the one it dumps. `crm.api.common` reads it per request; `crm.api.openapi` turns it into
the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from flask import current_app, request
from marshmallow import Schema


@dataclass(frozen=True)
class Operation:
    """One API operation, as the view declares it.

    body:      the schema the JSON body is loaded with (`partial` for PATCH; `body_optional`
               when an empty body means {}).
    query:     the schema the query string is loaded with; without one, any query parameter
               is an error.
    out:       the schema of the record in the response envelope; `many` for a list,
               `feed` for the activity feed.
    created:   a 201 with Location (and, with `also_ok`, a 200 for an existing record).
    plain:     `{"data": <out>}`, without `included` or an ETag (settings, counts).
    batch:     a batch create: `{"data": [{"status", "data": <out>, "included"}, ...]}`, one
               item per item of the body; `also_ok` when an item may be an existing record (200).
    """

    summary: str
    tag: str
    body: type[Schema] | None = None
    partial: bool = False
    body_optional: bool = False
    query: type[Schema] | None = None
    out: type[Schema] | None = None
    many: bool = False
    feed: bool = False
    created: bool = False
    also_ok: bool = False
    deletes: bool = False
    plain: bool = False
    batch: bool = False
    description: str | None = None

    # Schemas hold no per-call state: each operation builds its two once, not per request.
    @cached_property
    def _body_schema(self) -> Schema | None:
        return self.body(partial=True) if self.body and self.partial else (self.body() if self.body else None)

    @cached_property
    def _query_schema(self) -> Schema | None:
        return self.query() if self.query else None

    def body_schema(self) -> Schema | None:
        return self._body_schema

    def query_schema(self) -> Schema | None:
        return self._query_schema


def operation(**kwargs):
    """Declare what a view takes and returns (see `Operation`)."""
    op = Operation(**kwargs)

    def decorator(view):
        view.openapi = op
        return view

    return decorator


def operation_of(view) -> Operation | None:
    return getattr(view, "openapi", None)


def current_operation() -> Operation | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return operation_of(view) if view else None
