"""Indexes for the lists people use most (docs/performance.md)

- "my open tasks by due date": (workspace_id, owner_id, due_at, id); the status is checked on the
  rows the index yields in order, so it replaces (workspace_id, owner_id, status, due_at).
- a contact's, company's or deal's tasks, newest first: (link, workspace_id, created_at, id),
  replacing the single-column link indexes (the new ones lead with the link, so they still serve
  ON DELETE SET NULL).
- the activity feed's tasks, in timeline order: (workspace_id, completed_at if completed else
  created_at, id), an expression index (crm.models.task_timeline_at).
- `q` on PostgreSQL: pg_trgm GIN indexes on search_text, so a substring search does not scan.
  SQLite has no such index; there `q` scans rows in sort order until the page is full.

Plain (not batch) index operations: on SQLite a batch would copy the whole table.

Revision ID: ea88d1e83a36
Revises: e665e7178921
Create Date: 2026-11-23 17:25:13.173934

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'ea88d1e83a36'
down_revision = 'e665e7178921'
branch_labels = None
depends_on = None

TIMELINE_AT = ("(CASE WHEN (status = 'completed' AND completed_at IS NOT NULL) "
               "THEN completed_at ELSE created_at END)")
LINK_INDEXES = (
    ('ix_tasks_contact_id', 'ix_tasks_contact_created', 'contact_id'),
    ('ix_tasks_company_id', 'ix_tasks_company_created', 'company_id'),
    ('ix_tasks_deal_id', 'ix_tasks_deal_created', 'deal_id'),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    for old, new, column in LINK_INDEXES:
        op.create_index(new, 'tasks', [column, 'workspace_id', 'created_at', 'id'], unique=False)
        op.drop_index(old, table_name='tasks')
    op.create_index('ix_tasks_ws_owner_due', 'tasks', ['workspace_id', 'owner_id', 'due_at', 'id'], unique=False)
    op.drop_index('ix_tasks_ws_owner_status_due', table_name='tasks')
    op.create_index('ix_tasks_ws_timeline', 'tasks', ['workspace_id', sa.text(TIMELINE_AT), 'id'], unique=False)
    if _postgresql():
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for table in ('tasks', 'activities'):
            op.create_index(f'ix_{table}_search_trgm', table, ['search_text'], unique=False,
                            postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})


def downgrade():
    if _postgresql():
        for table in ('tasks', 'activities'):
            op.drop_index(f'ix_{table}_search_trgm', table_name=table)
    op.drop_index('ix_tasks_ws_timeline', table_name='tasks')
    op.create_index('ix_tasks_ws_owner_status_due', 'tasks', ['workspace_id', 'owner_id', 'status', 'due_at'],
                    unique=False)
    op.drop_index('ix_tasks_ws_owner_due', table_name='tasks')
    for old, new, column in LINK_INDEXES:
        op.create_index(old, 'tasks', [column], unique=False)
        op.drop_index(new, table_name='tasks')
