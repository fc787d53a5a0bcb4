"""Fold the stored matching text (`name_norm`, `search_text`) of every record again with the
current rule (`crm.services.text.normalize`), a batch at a time.

Run by the migration that introduced transliteration, and by `flask crm rebuild-search` (after an
upgrade of Unidecode changes a transliteration). Rows are read in `id` order, `batch_size` at a
time, and only those whose folded text differs are written, so memory stays flat at any size and
a table of plain ASCII text costs one read. The search indexes follow the written rows: the
SQLite trigram tables through their triggers, the PostgreSQL trigram and name indexes as any
index does; PostgreSQL's trigram statistics are gathered again at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, column, select, table, text, update

from crm.models import Company, Contact, Deal
from crm.services.text import normalize_to, search_text


@dataclass(frozen=True)
class Folded:
    """A table's folded column, the columns it is made from, and how."""

    table: str
    sources: tuple[str, ...]
    target: str
    fold: Callable[..., str]


def _name(model) -> Callable[[str | None], str]:
    length = model.__table__.c.name_norm.type.length
    return lambda name: normalize_to(name, length)


FOLDED = (
    Folded("companies", ("name",), "name_norm", _name(Company)),
    Folded("contacts", ("name",), "name_norm", _name(Contact)),
    Folded("deals", ("name",), "name_norm", _name(Deal)),
    Folded("tasks", ("title", "description"), "search_text", search_text),
    Folded("activities", ("subject", "body"), "search_text", search_text),
)
# Trigram statistics `q` reads on PostgreSQL (migration 7e1b5c9d2a40).
ANALYZED = ("tasks", "activities")


def refold(connection: Connection, *, batch_size: int = 1000, commit_batches: bool = False,
           report: Callable[[str], None] | None = None) -> dict[str, int]:
    """Fold every row again; returns how many rows of each table changed. Runs in the
    connection's transaction, which the caller commits, or with `commit_batches` commits after
    each batch (so that other writers wait for one batch, not for the whole run)."""
    changed: dict[str, int] = {}
    for folded in FOLDED:
        read, written = _refold_table(connection, folded, batch_size, commit_batches)
        changed[folded.table] = written
        if report is not None:
            report(f"{folded.table}: {read} rows read, {written} folded again")
    if connection.dialect.name == "postgresql":
        for name in ANALYZED:
            connection.execute(text(f"ANALYZE {name}"))
        if commit_batches:
            connection.commit()
    return changed


def _refold_table(connection: Connection, folded: Folded, batch_size: int,
                  commit_batches: bool) -> tuple[int, int]:
    t = table(folded.table, column("id"), column("version"), *(column(c) for c in folded.sources),
              column(folded.target))
    query = (select(t.c.id, t.c.version, t.c[folded.target], *(t.c[c] for c in folded.sources))
             .where(t.c.id > bindparam("after")).order_by(t.c.id).limit(batch_size))
    # Only the row as it was read: one edited since (its `version` went up) was folded by its writer.
    write = (update(t).where(t.c.id == bindparam("key"), t.c.version == bindparam("seen"))
             .values({folded.target: bindparam("value")}))
    after, read, written = "", 0, 0
    while True:
        rows = connection.execute(query, {"after": after}).all()
        if not rows:
            return read, written
        stale = []
        for row_id, version, stored, *sources in rows:
            value = folded.fold(*sources)
            if value != stored:
                stale.append({"key": row_id, "seen": version, "value": value})
        if stale:
            connection.execute(write, stale)
        if commit_batches:
            connection.commit()
        read += len(rows)
        written += len(stale)
        after = rows[-1][0]
