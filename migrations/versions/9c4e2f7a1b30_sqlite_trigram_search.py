"""Trigram full-text indexes for `q` on SQLite

A `q` search is a substring match on the normalised `search_text` column. PostgreSQL answers it
from the pg_trgm GIN indexes; SQLite had to read rows until the page was full, which for a rare
term is the whole table (0.8 s at 1,000,000 tasks). Each of tasks and activities gets an
external-content FTS5 table with the `trigram` tokenizer over `search_text` (the text is stored
once, in the table itself), kept in step by triggers on insert, update and delete, and filled
from the existing rows here. `case_sensitive 1` makes the index compare characters exactly:
`search_text` is already folded, and the query folds `q` the same way.

The FTS rows are keyed by the tables' rowid. A `VACUUM` may renumber the rowids of tables
without an INTEGER PRIMARY KEY, so after one run `INSERT INTO tasks_fts(tasks_fts)
VALUES ('rebuild')` (and the same for activities_fts).

PostgreSQL: nothing to do.

Revision ID: 9c4e2f7a1b30
Revises: 5b0d3c1e7a42
Create Date: 2026-11-23 18:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c4e2f7a1b30'
down_revision = '5b0d3c1e7a42'
branch_labels = None
depends_on = None

TABLES = ('tasks', 'activities')


def _statements(table: str) -> list[str]:
    fts = f'{table}_fts'
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', content_rowid='rowid', "
        f"tokenize='trigram case_sensitive 1')",
        f"CREATE TRIGGER {fts}_after_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.rowid, new.search_text); END",
        f"CREATE TRIGGER {fts}_after_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END",
        f"CREATE TRIGGER {fts}_after_update AFTER UPDATE OF search_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.rowid, new.search_text); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def upgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        for statement in _statements(table):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        fts = f'{table}_fts'
        for trigger in ('after_insert', 'after_delete', 'after_update'):
            op.execute(f'DROP TRIGGER IF EXISTS {fts}_{trigger}')
        op.execute(f'DROP TABLE IF EXISTS {fts}')
