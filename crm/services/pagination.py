"""Keyset pagination: stable under concurrent inserts and deletes, with signed opaque cursors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import Select, and_, func, literal, or_, select, tuple_
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import defaultload

from crm.extensions import db
from crm.services import rows as row_views
from crm.services.errors import ValidationFailed

# Execution option of a filtered statement whose rows come out of the list's order, many of
# them (crm.services.search): its page is picked from narrow rows before they are read whole.
PAGE_FIRST = "crm_page_first"


@dataclass(frozen=True)
class SortKey:
    """A sortable column: `nullable` ones put NULLs last in both directions."""

    column: Any
    nullable: bool = False
    kind: str = "str"  # "str", "int", "datetime"


@dataclass
class Page:
    items: list
    has_more: bool
    next_cursor: str | None
    total: int | None = None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="crm.cursor")


def encode_cursor(payload: dict) -> str:
    return _serializer().dumps(payload)


def decode_cursor(cursor: str) -> dict:
    try:
        payload = _serializer().loads(cursor)
    except BadData:
        raise ValidationFailed.field("cursor", "Invalid cursor.") from None
    if not isinstance(payload, dict):
        raise ValidationFailed.field("cursor", "Invalid cursor.")
    return payload


# Parameters that page through one list rather than choose it.
PAGING_PARAMS = frozenset({"cursor", "limit", "include_total", "sort"})


def filter_fingerprint(params: dict | None) -> str:
    """A short digest of the filters a list was asked with, kept in its cursors: a cursor used
    with other filters would skip or repeat rows, so it is refused instead. Lists compare as sets
    (`status=a,b` is `status=b,a`)."""
    chosen = {}
    for name, value in sorted((params or {}).items()):
        if name in PAGING_PARAMS or value is None:
            continue
        if isinstance(value, list | tuple | set):
            value = sorted(str(v) for v in value)
        elif isinstance(value, date):
            value = value.isoformat()
        chosen[name] = value
    blob = json.dumps(chosen, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def check_cursor_filters(payload: dict, params: dict | None) -> None:
    if payload.get("f") != filter_fingerprint(params):
        raise ValidationFailed.field("cursor", "This cursor was issued for other filters; "
                                               "pass the same filters as the page it came from.")


def _encode_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    try:
        if kind == "datetime":
            return datetime.fromisoformat(value)
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "int":
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        raise ValidationFailed.field("cursor", "Invalid cursor.") from None


def parse_sort(sort: str) -> tuple[str, bool]:
    return sort.lstrip("-"), sort.startswith("-")


def keyset_condition(key: SortKey, id_column: Any, descending: bool, value: Any, last_id: str):
    """Rows strictly after (value, last_id) in the order (key NULLS LAST, id), both in one direction."""
    col = key.column
    if value is None:
        # Inside the trailing block of NULLs.
        return and_(col.is_(None), id_column < last_id if descending else id_column > last_id)
    # A row-value comparison, not `col < v OR (col = v AND id < i)`: SQLite and PostgreSQL both
    # turn it into a range on a (..., col, id) index, so a deep page costs what the first does.
    row, bound = tuple_(col, id_column), tuple_(literal(value, col.type), literal(last_id, id_column.type))
    cond = row < bound if descending else row > bound
    if key.nullable:
        cond = or_(cond, col.is_(None))
    return cond


def order_by(key: SortKey, id_column: Any, descending: bool) -> list:
    col = key.column
    if descending:
        first = col.desc().nulls_last() if key.nullable else col.desc()
        return [first, id_column.desc()]
    first = col.asc().nulls_last() if key.nullable else col.asc()
    return [first, id_column.asc()]


def paginate(
    stmt: Select,
    *,
    sort: str,
    keys: dict[str, SortKey],
    id_column: Any,
    cursor: str | None,
    limit: int,
    include_total: bool = False,
    rows: bool = False,
    filters: dict | None = None,
) -> Page:
    """Run `stmt` (already filtered) one page at a time, in a fixed number of statements.

    `rows`: the page's items are read-only row views (crm/services/rows.py), for a list that is
    only dumped; otherwise they are the model's objects. A statement carrying the execution
    option PAGE_FIRST has its page picked before its rows are read (`rows.as_rows`).
    `filters`: the parameters `stmt` was filtered by; cursors are bound to them."""
    name, descending = parse_sort(sort)
    key = keys[name]
    total = None
    if include_total:
        count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = db.session.execute(count_stmt).scalar_one()
    if cursor:
        payload = decode_cursor(cursor)
        if payload.get("s") != sort:
            raise ValidationFailed.field("cursor", "This cursor was issued for a different sort.")
        check_cursor_filters(payload, filters)
        if "i" not in payload or not isinstance(payload.get("i"), str):
            raise ValidationFailed.field("cursor", "Invalid cursor.")
        value = _decode_value(payload.get("v"), key.kind)
        stmt = stmt.where(keyset_condition(key, id_column, descending, value, payload["i"]))
    ordering = order_by(key, id_column, descending)
    stmt = stmt.order_by(*ordering).limit(fetch_limit(limit))
    if rows:
        entity = stmt.column_descriptions[0]["entity"]
        page_first = tuple(ordering) if stmt.get_execution_options().get(PAGE_FIRST) else None
        items = row_views.read(row_views.as_rows(stmt, entity, page_first=page_first), entity)
    else:
        stmt = stmt.options(*linked_one_level(stmt))
        items = list(db.session.execute(stmt).unique().scalars())
    has_more = len(items) > limit
    items = items[:limit]
    next_cursor = None
    if has_more and items:
        last = items[-1]
        last_value = _sort_value(last, key)
        next_cursor = encode_cursor({"s": sort, "v": _encode_value(last_value), "i": last.id,
                                     "f": filter_fingerprint(filters)})
    return Page(items=items, has_more=has_more, next_cursor=next_cursor, total=total)


def fetch_limit(limit: int):
    """LIMIT for a page and the row that tells whether more follow, written as a literal: with a
    parameter, PostgreSQL cannot cost a generic plan for a prepared list query (it assumes all
    rows), so it plans the query again on every request."""
    return literal(limit + 1, literal_execute=True)


def linked_one_level(stmt: Select) -> list:
    """Loader options for a page: the records each row links to, but not what those link to.

    Lists show a linked record's name (`relationships`, the UI's chips), never its own links;
    joining those too (a contact's company, a deal's contact and its company, an owner's
    workspace...) costs several joins and a few hundred extra objects per page, and of the
    linked records themselves only `id` and `name` are read. The rest stays reachable, loaded
    on access. Collections (activity attendees) keep their own loading.
    """
    entity = stmt.column_descriptions[0].get("entity")
    if entity is None:
        return []
    options = []
    for rel in sa_inspect(entity).relationships:
        if rel.uselist:
            continue
        path = defaultload(rel.class_attribute)
        target = rel.mapper
        if "name" in target.column_attrs and "id" in target.column_attrs:
            # A list shows a linked record's id and name only: its other columns are not read
            # (they load on access, like its own links).
            options.append(path.load_only(target.column_attrs["id"].class_attribute,
                                          target.column_attrs["name"].class_attribute))
        options.append(path.lazyload("*"))
    return options


def _sort_value(row: Any, key: SortKey) -> Any:
    return getattr(row, key.column.key)
