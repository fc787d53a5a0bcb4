"""The Today page's index: a user's tasks by the time they were completed

"Tasks completed per week" (and "done this week") counts one owner's tasks completed in the
last 12 weeks. Without an index on completed_at that read every task of the owner; this one
holds only completed tasks (completed_at is set exactly when a task is completed) and answers
the count from the index alone.

Revision ID: d4c0a9e2b7f1
Revises: b4f1c7e9d2a3
Create Date: 2026-12-05 03:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4c0a9e2b7f1'
down_revision = 'b4f1c7e9d2a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tasks_ws_owner_completed', 'tasks', ['workspace_id', 'owner_id', 'completed_at'],
                    unique=False, postgresql_where=sa.text('completed_at IS NOT NULL'),
                    sqlite_where=sa.text('completed_at IS NOT NULL'))


def downgrade():
    op.drop_index('ix_tasks_ws_owner_completed', table_name='tasks')
