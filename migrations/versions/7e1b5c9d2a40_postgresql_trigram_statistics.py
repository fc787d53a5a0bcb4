"""PostgreSQL: trigram statistics for `q`, and trigram indexes without a pending list

- `CREATE STATISTICS <table>_search_trigrams ON (show_trgm(search_text))`: ANALYZE (and
  autovacuum's auto-analyze) then records the most common trigrams of `search_text` and the
  share of rows holding each (`pg_stats_ext_exprs.most_common_elems`). `q` reads them to give
  the trigram index only the rare part of a phrase (`crm.services.search`): for
  `hamilton1 about`, whose `about` is in every task, the index scan went from 11 ms to 1.1 ms
  at 1,000,000 tasks.
- `fastupdate = off` on the two pg_trgm GIN indexes: new rows go into the index at once instead
  of a pending list that every search reads in full until it is merged (a few thousand pending
  rows after a burst of writes made the same search cost 6 ms more). Writes pay a little more
  per row (docs/performance.md); the pending list is merged now.

Nothing on SQLite.

Revision ID: 7e1b5c9d2a40
Revises: 3d8a6f2c91b4
Create Date: 2026-11-23 22:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7e1b5c9d2a40'
down_revision = '3d8a6f2c91b4'
branch_labels = None
depends_on = None

TABLES = ('tasks', 'activities')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'ALTER INDEX ix_{table}_search_trgm SET (fastupdate = off)')
        op.execute(f"SELECT gin_clean_pending_list('ix_{table}_search_trgm')")
        op.execute(f'CREATE STATISTICS {table}_search_trigrams ON (show_trgm(search_text)) FROM {table}')
        op.execute(f'ANALYZE {table}')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'DROP STATISTICS IF EXISTS {table}_search_trigrams')
        op.execute(f'ALTER INDEX ix_{table}_search_trgm RESET (fastupdate)')
