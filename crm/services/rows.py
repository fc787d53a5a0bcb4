"""Reading a list page as plain rows instead of ORM objects.

An API list page is read once and dumped: it needs no identity map, no change tracking and no
lazy loading, and building ~170 mapped objects for a 50-row page was most of its time. Here
the same filtered statement selects the model's columns and, for each record a row links to
(contact, company, deal, owner...), that record's id and name, in one query; collections
(an activity's attendees) come from one more query for the whole page, as `selectin` loading
does. Each row becomes a small read-only object with the model's attribute names and its
plain properties (`priority`, `etag`, `attendees`), so output schemas dump it exactly as they
dump the model. A linked record is a `Linked(id, name)`: a list shows nothing else of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, select
from sqlalchemy import inspect as sa_inspect

from crm.extensions import db


class Linked(NamedTuple):
    """A linked record as a list shows it."""

    id: str
    name: str | None


class RowView(tuple):
    """A record read for display only (see the module's docstring): a tuple of the row's values,
    each readable by its attribute name."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'id', '?')}>"


@dataclass(frozen=True)
class _Link:
    key: str
    table: Any  # the linked table, aliased for this join
    columns: tuple  # its id and name
    onclause: Any


@dataclass(frozen=True)
class _Collection:
    key: str
    parent_column: str  # the parent's attribute the collection is keyed by (its id)
    child_key: str  # the child's attribute holding that value
    reader: _Reader


@dataclass(frozen=True)
class _Reader:
    view: type
    keys: tuple[str, ...]
    columns: tuple
    links: tuple[_Link, ...]
    collections: tuple[_Collection, ...]
    order_by: tuple = ()


def _linked(at: int) -> property:
    def get(view):
        return None if view[at] is None else Linked(view[at], view[at + 1])

    return property(get)


def _view_class(model: type, keys: list[str], links: list[str], collections: list[str]) -> type:
    """A tuple class laid out as the row (columns, each link's id and name, each collection)
    with the model's plain properties, which read the same attribute names."""
    namespace: dict[str, Any] = {"__slots__": (), "__module__": __name__}
    for klass in reversed(model.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, property):
                namespace[name] = value
    at = 0
    for key in keys:
        namespace[key] = property(itemgetter(at))
        at += 1
    for key in links:
        namespace[key] = _linked(at)
        at += 2
    for key in collections:
        namespace[key] = property(itemgetter(at))
        at += 1
    return type(f"{model.__name__}Row", (RowView,), namespace)


@cache
def reader(model: type, *, with_links: bool = True, only: tuple[str, ...] | None = None) -> _Reader:
    """How to read `model` as rows; `only`: just those columns (a view then has no other)."""
    mapper = sa_inspect(model)
    table = mapper.local_table
    attrs = [attr for attr in mapper.column_attrs if only is None or attr.key in only]
    keys = [attr.key for attr in attrs]
    columns = [attr.columns[0].label(attr.key) for attr in attrs]
    links: list[_Link] = []
    collections: list[_Collection] = []
    for rel in mapper.relationships if with_links else ():
        target = rel.mapper
        if rel.uselist:
            (parent_col, child_col), = rel.local_remote_pairs
            child = reader(target.class_, with_links=False)
            child_key = next(a.key for a in target.column_attrs if a.columns[0] is child_col)
            parent_key = next(a.key for a in mapper.column_attrs if a.columns[0] is parent_col)
            order = tuple(rel.order_by or ())
            collections.append(_Collection(rel.key, parent_key, child_key, replace(child, order_by=order)))
            continue
        if "name" not in target.column_attrs:
            continue
        alias = target.local_table.alias(f"{table.name}_{rel.key}")
        onclause = and_(*(local == alias.c[remote.key] for local, remote in rel.local_remote_pairs))
        links.append(_Link(rel.key, alias, (alias.c.id.label(f"{rel.key}__id"), alias.c.name.label(f"{rel.key}__name")),
                           onclause))
    view = _view_class(model, keys, [link.key for link in links], [c.key for c in collections])
    return _Reader(view, tuple(keys), tuple(columns), tuple(links), tuple(collections))


def as_rows(stmt: Select, model: type, *, page_first: tuple | None = None, with_links: bool = True,
            only: tuple[str, ...] | None = None) -> Select:
    """`stmt` (a select of `model`, filtered, ordered and limited) selecting plain columns instead.

    `page_first` (the statement's ORDER BY): the page's ids are picked first, from the filtered
    rows alone, and only those rows are then read whole and joined to their linked records.
    For a filter that yields rows out of the list's order (a search by rowid), which are then
    sorted, this sorts narrow rows and joins 51 of them instead of all: 1,302 matches of 1,000,000
    tasks, 15.7 → 8.4 ms in SQL. A page read in index order gains nothing from it.
    `with_links` False: the model's own columns only (no linked names, no collections); `only`:
    just those columns."""
    r = reader(model, with_links=with_links, only=only)
    columns = (*r.columns, *(c for link in r.links for c in link.columns))
    if page_first is None:
        stmt = stmt.with_only_columns(*columns)
    else:
        table = sa_inspect(model).local_table
        page = stmt.with_only_columns(table.c.id).subquery("page")
        stmt = select(*columns).select_from(table.join(page, table.c.id == page.c.id)).order_by(*page_first)
    for link in r.links:
        stmt = stmt.outerjoin(link.table, link.onclause)
    return stmt


def read(stmt: Select, model: type) -> list:
    """Run a statement made by `as_rows` and give its rows as views."""
    return [view for view, _ in read_with_extras(stmt, model, 0)]


def read_with_extras(stmt: Select, model: type, extras: int, *, with_links: bool = True,
                     only: tuple[str, ...] | None = None) -> list[tuple[Any, tuple]]:
    """`read` for a statement made by `as_rows` (with the same `with_links` and `only`) with
    `extras` more columns added at its end: each row's view, and those columns' values."""
    r = reader(model, with_links=with_links, only=only)
    view = r.view
    rows = [(row[:len(row) - extras], tuple(row[len(row) - extras:])) for row in db.session.execute(stmt)]
    if not r.collections:
        return [(view(values), extra) for values, extra in rows]
    # Each collection is a list at the end of the tuple, filled below.
    views = [(view((*values, *([] for _ in r.collections))), extra) for values, extra in rows]
    if views:
        for collection in r.collections:
            _attach(collection, [v for v, _ in views])
    return views


def _attach(collection: _Collection, parents: list) -> None:
    """One query for the whole page's collection, grouped under each parent."""
    child = collection.reader
    by_parent: dict[Any, list] = {getattr(p, collection.parent_column): getattr(p, collection.key) for p in parents}
    fk = next(c for c in child.columns if c.name == collection.child_key)
    stmt = select(*child.columns).where(fk.element.in_(list(by_parent)))
    stmt = stmt.order_by(fk.element, *child.order_by)
    for row in db.session.execute(stmt):
        item = child.view(row)
        by_parent[getattr(item, collection.child_key)].append(item)
