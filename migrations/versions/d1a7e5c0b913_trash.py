"""The trash: deleted_at on tasks, activities, contacts, companies and deals; trash_links

Deleting one of these records sets `deleted_at` (crm/services/trash.py); a daily job erases what
has been in the trash for 30 days. The list indexes end with `deleted_at`, so a list, and a
count over an index, leaves trashed rows out without reading them. `ix_<table>_trash` holds only
trashed rows, for the trash list and the purge. `trash_links` remembers the links that trashing
a contact, company or deal set to NULL, for restoring them.

Plain (not batch) operations: SQLite adds a nullable column and rebuilds an index in place.

Revision ID: d1a7e5c0b913
Revises: d4c0a9e2b7f1
Create Date: 2026-12-05 03:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd1a7e5c0b913'
down_revision = 'd4c0a9e2b7f1'
branch_labels = None
depends_on = None

TABLES = ('tasks', 'activities', 'contacts', 'companies', 'deals')
TIMELINE_AT = ("(CASE WHEN (status = 'completed' AND completed_at IS NOT NULL) "
               "THEN completed_at ELSE created_at END)")
OPEN = "status IN ('pending', 'in_progress')"
# name, table, columns before deleted_at
LIST_INDEXES = (
    ('ix_companies_ws_created', 'companies', ['workspace_id', 'created_at', 'id']),
    ('ix_companies_ws_name', 'companies', ['workspace_id', 'name_norm']),
    ('ix_contacts_ws_created', 'contacts', ['workspace_id', 'created_at', 'id']),
    ('ix_contacts_ws_name', 'contacts', ['workspace_id', 'name_norm']),
    ('ix_deals_ws_created', 'deals', ['workspace_id', 'created_at', 'id']),
    ('ix_tasks_ws_created', 'tasks', ['workspace_id', 'created_at', 'id']),
    ('ix_tasks_ws_updated', 'tasks', ['workspace_id', 'updated_at', 'id']),
    ('ix_tasks_ws_due', 'tasks', ['workspace_id', 'due_at', 'id']),
    ('ix_tasks_ws_owner_due_status', 'tasks', ['workspace_id', 'owner_id', 'due_at', 'id', 'status']),
    ('ix_tasks_ws_status_due', 'tasks', ['workspace_id', 'status', 'due_at']),
    ('ix_tasks_contact_created', 'tasks', ['contact_id', 'workspace_id', 'created_at', 'id']),
    ('ix_tasks_company_created', 'tasks', ['company_id', 'workspace_id', 'created_at', 'id']),
    ('ix_tasks_deal_created', 'tasks', ['deal_id', 'workspace_id', 'created_at', 'id']),
    ('ix_activities_ws_occurred', 'activities', ['workspace_id', 'occurred_at', 'id']),
    ('ix_activities_ws_created', 'activities', ['workspace_id', 'created_at', 'id']),
    ('ix_activities_ws_owner_occurred', 'activities', ['workspace_id', 'owner_id', 'occurred_at', 'status', 'type']),
)
RECURRING = "recurrence IS NOT NULL AND status IN ('pending', 'in_progress')"
# name, columns before deleted_at, condition: the partial indexes of tasks
PARTIAL_TASK_INDEXES = (
    ('ix_tasks_ws_owner_open_due', ['workspace_id', 'owner_id', 'due_at', 'id'], OPEN),
    ('ix_tasks_ws_open_due', ['workspace_id', 'due_at', 'id'], OPEN),
    ('ix_tasks_ws_owner_recurring', ['workspace_id', 'owner_id', 'due_at'], RECURRING),
    ('ix_tasks_ws_owner_completed', ['workspace_id', 'owner_id', 'completed_at'], 'completed_at IS NOT NULL'),
)


def _rebuild(with_deleted_at: bool) -> None:
    extra = ['deleted_at'] if with_deleted_at else []
    for name, table, columns in LIST_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns + extra, unique=False)
    op.drop_index('ix_tasks_ws_timeline', table_name='tasks')
    op.create_index('ix_tasks_ws_timeline', 'tasks', ['workspace_id', sa.text(TIMELINE_AT), 'id'] + extra,
                    unique=False)
    for name, columns, condition in PARTIAL_TASK_INDEXES:
        op.drop_index(name, table_name='tasks')
        op.create_index(name, 'tasks', columns + extra, unique=False,
                        postgresql_where=sa.text(condition), sqlite_where=sa.text(condition))


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column('deleted_at', sa.DateTime(), nullable=True))
        op.create_index(f'ix_{table}_trash', table, ['workspace_id', 'deleted_at', 'id'], unique=False,
                        postgresql_where=sa.text('deleted_at IS NOT NULL'),
                        sqlite_where=sa.text('deleted_at IS NOT NULL'))
    _rebuild(with_deleted_at=True)
    op.create_table(
        'trash_links',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('record_id', sa.String(length=40), nullable=False),
        sa.Column('table_name', sa.String(length=40), nullable=False),
        sa.Column('column_name', sa.String(length=40), nullable=False),
        sa.Column('row_id', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_trash_links_record_id', 'trash_links', ['record_id'], unique=False)


def downgrade():
    op.drop_index('ix_trash_links_record_id', table_name='trash_links')
    op.drop_table('trash_links')
    _rebuild(with_deleted_at=False)
    for table in TABLES:
        op.drop_index(f'ix_{table}_trash', table_name=table)
        # In place on SQLite too (ALTER TABLE ... DROP COLUMN, SQLite 3.35+): a batch copy of the
        # table would lose what SQLAlchemy cannot reflect (the timeline's expression index, the
        # trigram index's triggers, ON DELETE of the columns added in place).
        op.drop_column(table, 'deleted_at')
