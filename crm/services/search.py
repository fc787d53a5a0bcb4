"""Substring search (`q`) over the normalised `search_text` of tasks and activities."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, literal_column, text

from crm.extensions import db
from crm.services.pagination import PAGE_FIRST

# A `q` with at most TRIGRAM_SELECTIVE_MATCHES matches is answered from the SQLite trigram index:
# the matching rows are read by rowid and sorted (about 10 µs a row at 1,000,000 tasks, half that
# when the page is picked first). One with more is common enough that walking the list's own
# order and testing each row usually fills a page sooner (1,302 matches: 9 ms by rowid, the walk
# would read some 40,000 rows). Counting the matches up to the bound costs 1.2 ms for a common
# word at 1,000,000 tasks.
TRIGRAM_SELECTIVE_MATCHES = 2000
# Above this many matches the page is picked from narrow rows before they are read whole and
# joined (`rows.as_rows`); below it the extra lookups of the page's rows cost more than it saves.
PAGE_FIRST_MATCHES = 200
# A needle found in at least COMMON_HITS of a sample of SAMPLE_ROWS rows, and so estimated in
# more than TRIGRAM_SELECTIVE_MATCHES rows of the table, takes the walk without asking the index
# (which costs 1.5 ms to count a common word's matches at 1,000,000 tasks). With 10 hits in
# 2,000 rows the true share is above 0.25 % with 99 % confidence. The sample is read again
# every SAMPLE_TTL seconds per process (2,000 random rows: about 10 ms at 1,000,000 tasks).
SAMPLE_ROWS = 2000
COMMON_HITS = 10
SAMPLE_TTL = 600.0
# A phrase made of common trigrams ("about" is in every task of the benchmark) costs the index
# a read of each trigram's whole position list, even when the phrase itself is rare (4.4 ms at
# 1,000,000 tasks). Counting each trigram's rows up to the bound first is cheap (about 50 µs a
# trigram); when one is rare, its rows hold every match and the phrase is never run.
TRIGRAM_RARE_ROWS = 200
TRIGRAMS_COUNTED = 12
# PostgreSQL: how long a process keeps a table's trigram statistics before reading them again.
TRIGRAM_STATISTICS_TTL = 600.0


@dataclass(frozen=True)
class Search:
    """A `q` filter. `by_rowid`: it names the matching rows by rowid (SQLite), which come out of
    the list's order; `page_first`: many of them, so the page is picked before rows are read."""

    condition: Any
    by_rowid: bool = False
    page_first: bool = False

    def apply(self, stmt):
        stmt = stmt.where(self.condition)
        return stmt.execution_options(**{PAGE_FIRST: True}) if self.page_first else stmt


def substring_search(model: Any, needle: str) -> Search:
    """Rows whose `search_text` contains `needle` (already normalised), on either backend.

    The condition is always the escaped LIKE, so the result is the LIKE's whichever way it is
    found. On SQLite, for a needle of three characters or more that the `<table>_fts` trigram
    index finds in few rows, it is narrowed to those rows' rowids, so a rare term no longer
    reads the whole table. On PostgreSQL the pg_trgm index may be given only the needle's rare
    part (`rare_part`).
    """
    like = model.search_text.contains(needle, autoescape=True)
    dialect = db.engine.dialect.name
    if len(needle) < 3 or dialect not in ("sqlite", "postgresql"):
        return Search(like)
    if dialect == "postgresql":
        part = rare_part(needle, trigram_shares(model.__tablename__))
        if part is None:
            return Search(like)
        # The index is given the rare part; the whole needle is checked on the rows it yields,
        # written so the planner does not hand its trigrams to the index as well.
        return Search(and_(model.search_text.contains(part, autoescape=True),
                           model.search_text.concat("").contains(needle, autoescape=True)))
    table = model.__tablename__
    if is_common(needle, sampled_rows(table)):
        return Search(like)
    fts = f"{table}_fts"
    rowid = literal_column(f"{table}.rowid")
    rare = _rarest_trigram(fts, needle)
    if rare is not None:
        return Search(and_(rowid.in_(_matching(fts, rare, rowid)), like), by_rowid=True)
    # The matches up to the bound, counted and listed in one read of the index.
    matches, rowids = _sqlite(
        f"SELECT count(*), json_group_array(rowid) FROM (SELECT rowid FROM {fts} WHERE {fts} MATCH ? "
        f"LIMIT {TRIGRAM_SELECTIVE_MATCHES + 1})", (_phrase(needle),)).one()
    if matches > TRIGRAM_SELECTIVE_MATCHES:
        return Search(like)
    listed = text("SELECT value FROM json_each(:rowids)").bindparams(rowids=rowids).columns(rowid)
    return Search(and_(rowid.in_(listed), like), by_rowid=True, page_first=matches > PAGE_FIRST_MATCHES)


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


@dataclass(frozen=True)
class Sample:
    """Random rows of a table, for estimating how common a needle is."""

    texts: str  # their `search_text`, NUL-separated (NUL is never in a text)
    rows: int  # how many rows were read
    total: int  # the rows of the table (its largest rowid: deleted rows are counted)


# What a process has read about a database's tables, by (kind, database, table): (when, value).
_statistics: dict[tuple[str, str, str], tuple[float, Any]] = {}


def _kept(kind: str, table: str, ttl: float, read) -> Any:
    """`read(table)`, kept for `ttl` seconds per process and database."""
    key = (kind, str(db.engine.url), table)
    now = time.monotonic()
    cached = _statistics.get(key)
    if cached is None or now - cached[0] >= ttl:
        cached = _statistics[key] = (now, read(table))
    return cached[1]


def forget_statistics() -> None:
    _statistics.clear()


def sampled_rows(table: str) -> Sample:
    """SAMPLE_ROWS random rows of a SQLite table, read at most once per SAMPLE_TTL per process."""
    return _kept("sample", table, SAMPLE_TTL, _read_sample)


def _read_sample(table: str) -> Sample:
    total = _sqlite(f"SELECT max(rowid) FROM {table}", ()).scalar() or 0
    picked = random.sample(range(1, total + 1), min(SAMPLE_ROWS, total))
    texts = _sqlite(f"SELECT search_text FROM {table} WHERE rowid IN (SELECT value FROM json_each(?))",
                    (json.dumps(picked),)).scalars().all()
    return Sample("\0".join(texts), len(texts), total)


def is_common(needle: str, sample: Sample) -> bool:
    """Whether the sample says `needle` is in more than TRIGRAM_SELECTIVE_MATCHES rows, with
    COMMON_HITS sampled rows holding it at least."""
    if not sample.rows:
        return False
    hits = sample.texts.count(needle)  # occurrences: near enough to rows for choosing a way
    return hits >= COMMON_HITS and hits * sample.total / sample.rows > TRIGRAM_SELECTIVE_MATCHES


def _sqlite(statement: str, parameters: tuple):
    """A SQLite statement as written (qmark parameters), without SQLAlchemy compiling it."""
    return db.session.connection().exec_driver_sql(statement, parameters)


# PostgreSQL. pg_trgm's index answers `LIKE '%needle%'` by intersecting the row lists of every
# trigram of the needle, and for a common trigram that costs about 1 ms at 1,000,000 rows even
# when the needle is rare: `hamilton1 about` (55 tasks) spent 5 ms in the index on `about`'s
# five trigrams, which every task holds. PostgreSQL keeps no count per trigram, but ANALYZE
# records the most common ones when asked to (statistics `<table>_search_trigrams` on
# `show_trgm(search_text)`, migration 7e1b5c9d2a40). A needle with a word none of whose
# trigrams are common, and common trigrams elsewhere, gives the index that word only.

_WORD = re.compile(r"[^\W_]+")  # pg_trgm's word characters: letters and digits


@dataclass(frozen=True)
class TrigramShares:
    """The most common trigrams of a table's `search_text`, each with the share of rows holding
    it; a trigram not listed is in fewer rows than the least common one listed."""

    shares: Mapping[str, float]


def trigram_shares(table: str) -> TrigramShares | None:
    """The table's trigram statistics (None before its first ANALYZE), read at most once per
    TRIGRAM_STATISTICS_TTL seconds per process."""
    return _kept("trigrams", table, TRIGRAM_STATISTICS_TTL, _read_trigram_shares)


def _read_trigram_shares(table: str) -> TrigramShares | None:
    row = db.session.execute(text(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats_ext_exprs "
        "WHERE schemaname = current_schema() AND tablename = :table AND statistics_name = :name"),
        {"table": table, "name": f"{table}_search_trigrams"}).first()
    if row is None or not row[0]:
        return None
    return TrigramShares(dict(zip(row[0], row[1], strict=False)))


def like_trigrams(pattern: str) -> set[str]:
    """The trigrams pg_trgm looks up for `LIKE '%pattern%'`: those of each word, padded where a
    literal non-word character (not the wildcard) is next to it."""
    found: set[str] = set()
    for match in _WORD.finditer(pattern):
        word = match.group()
        if match.start() > 0:
            word = "  " + word
        if match.end() < len(pattern):
            word += " "
        found.update(word[i:i + 3] for i in range(len(word) - 2))
    return found


def rare_part(needle: str, statistics: TrigramShares | None) -> str | None:
    """The part of `needle` to give the trigram index instead of the whole, or None for the whole.

    The parts are the needle's words, each with the character before and after it, so their
    trigrams are the needle's own. A part qualifies when one of its trigrams is not common
    (trigrams with other than ASCII letters count as common: pg_trgm may hash them) and the
    rest of the needle holds common trigrams the index can then skip; of those, the one with
    the most trigrams that are not common (their row lists intersect to the fewest rows), then
    the fewest common ones (each costs the index a walk of its long row list)."""
    if statistics is None:
        return None
    shares = statistics.shares

    def common(trigram: str) -> bool:
        return not trigram.isascii() or trigram in shares

    whole = like_trigrams(needle)
    best, best_rank = None, None
    for match in _WORD.finditer(needle):
        part = needle[max(match.start() - 1, 0):match.end() + 1]
        trigrams = like_trigrams(part)
        frequent = sum(1 for t in trigrams if common(t))
        if frequent == len(trigrams) or not any(common(t) for t in whole - trigrams):
            continue
        rank = (frequent - len(trigrams), frequent)
        if best_rank is None or rank < best_rank:
            best, best_rank = part, rank
    return best
