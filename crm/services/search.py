"""Substring search (`q`) over the normalised `search_text` of tasks and activities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, literal_column, text

from crm.extensions import db

# A `q` with at most TRIGRAM_SELECTIVE_MATCHES matches is answered from the SQLite trigram index:
# the matching rows are read by rowid, joined and sorted (about 10 µs a row at 1,000,000 tasks).
# One with more is common enough that walking the list's own order and testing each row usually
# fills a page sooner. Up to TRIGRAM_FEW_MATCHES rowids are listed in the query; beyond that the
# query repeats the MATCH as a subquery (reading 2,001 rowids costs more than counting them).
TRIGRAM_FEW_MATCHES = 200
TRIGRAM_SELECTIVE_MATCHES = 2000
# A phrase made of common trigrams ("about" is in every task of the benchmark) costs the index
# a read of each trigram's whole position list, even when the phrase itself is rare (4.4 ms at
# 1,000,000 tasks). Counting each trigram's rows up to the bound first is cheap (about 50 µs a
# trigram); when one is rare, its rows hold every match and the phrase is never run.
TRIGRAM_RARE_ROWS = 200
TRIGRAMS_COUNTED = 12


@dataclass(frozen=True)
class Search:
    """A `q` filter: `by_rowid` when it names the few matching rows by rowid (SQLite)."""

    condition: Any
    by_rowid: bool = False


def substring_search(model: Any, needle: str) -> Search:
    """Rows whose `search_text` contains `needle` (already normalised), on either backend.

    The condition is always the escaped LIKE; on SQLite, for a needle of three characters or
    more that the `<table>_fts` trigram index finds in few rows, it is narrowed to those rows'
    rowids, so a rare term no longer reads the whole table. The LIKE stays in the query, so the
    result is the LIKE result whichever way it is found.
    """
    like = model.search_text.contains(needle, autoescape=True)
    if db.engine.dialect.name != "sqlite" or len(needle) < 3:
        return Search(like)
    table = model.__tablename__
    fts = f"{table}_fts"
    rowid = literal_column(f"{table}.rowid")
    rare = _rarest_trigram(fts, needle)
    if rare is not None:
        return Search(and_(rowid.in_(_matching(fts, rare, rowid)), like), by_rowid=True)
    phrase = (_phrase(needle),)
    # One statement: how many rows match, up to the bound, and the first few of them.
    found = _sqlite(
        f"SELECT rowid, count(*) OVER () FROM (SELECT rowid FROM {fts} WHERE {fts} MATCH ? "
        f"LIMIT {TRIGRAM_SELECTIVE_MATCHES + 1}) LIMIT {TRIGRAM_FEW_MATCHES + 1}", phrase).all()
    matches = found[0][1] if found else 0
    if matches <= TRIGRAM_FEW_MATCHES:
        return Search(and_(rowid.in_([row[0] for row in found]), like), by_rowid=True)
    if matches > TRIGRAM_SELECTIVE_MATCHES:
        return Search(like)
    return Search(and_(rowid.in_(_matching(fts, needle, rowid)), like), by_rowid=True)


def in_workspace(model: Any, workspace_id: str, search: Search | None = None) -> Any:
    """The workspace condition of a list. When a search names its rows by rowid, the column is
    wrapped (`workspace_id || ''`) so SQLite reads those rows instead of walking the
    workspace's whole index in the list's order and testing each entry against them."""
    if search is not None and search.by_rowid:
        return model.workspace_id.concat("") == workspace_id
    return model.workspace_id == workspace_id


def _matching(fts: str, substring: str, rowid):
    """The rowids of the rows containing `substring`, as a subquery."""
    return text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :phrase").bindparams(
        phrase=_phrase(substring)).columns(rowid)


def _phrase(value: str) -> str:
    """An FTS5 phrase: with the trigram tokenizer, exactly "contains this substring"."""
    return '"' + value.replace('"', '""') + '"'


def _rarest_trigram(fts: str, needle: str) -> str | None:
    """A trigram of the needle found in at most TRIGRAM_RARE_ROWS rows, or None.

    Up to TRIGRAMS_COUNTED trigrams, spread over the needle, are counted in one statement, each
    count stopping at the bound."""
    trigrams = sorted({needle[i:i + 3] for i in range(len(needle) - 2)})
    if len(trigrams) > TRIGRAMS_COUNTED:
        step = len(trigrams) / TRIGRAMS_COUNTED
        trigrams = [trigrams[int(i * step)] for i in range(TRIGRAMS_COUNTED)]
    counts = ", ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH ? LIMIT {TRIGRAM_RARE_ROWS + 1}))"
        for _ in trigrams
    )
    row = _sqlite(f"SELECT {counts}", tuple(_phrase(t) for t in trigrams)).one()
    found, trigram = min(zip(row, trigrams, strict=True))
    return trigram if found <= TRIGRAM_RARE_ROWS else None


def _sqlite(statement: str, parameters: tuple):
    """A SQLite statement as written (qmark parameters), without SQLAlchemy compiling it."""
    return db.session.connection().exec_driver_sql(statement, parameters)
