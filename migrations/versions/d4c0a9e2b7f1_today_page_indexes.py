"""The Today page's indexes: a user's completed tasks, a user's activities with status and type

"Tasks completed per week" (and "done this week") counts one owner's tasks completed in the
last 12 weeks. Without an index on completed_at that read every task of the owner; the new
one holds only completed tasks (completed_at is set exactly when a task is completed) and
answers the count from the index alone.

"Activities logged per week by type" read each of the owner's activities of the 12 weeks for
its status and type; ix_activities_ws_owner_occurred now holds both after its columns (it
serves every query it served before).

Revision ID: d4c0a9e2b7f1
Revises: d5e3b1f8c6a2
Create Date: 2026-12-05 03:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4c0a9e2b7f1'
down_revision = 'd5e3b1f8c6a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tasks_ws_owner_completed', 'tasks', ['workspace_id', 'owner_id', 'completed_at'],
                    unique=False, postgresql_where=sa.text('completed_at IS NOT NULL'),
                    sqlite_where=sa.text('completed_at IS NOT NULL'))
    op.drop_index('ix_activities_ws_owner_occurred', table_name='activities')
    op.create_index('ix_activities_ws_owner_occurred', 'activities',
                    ['workspace_id', 'owner_id', 'occurred_at', 'status', 'type'], unique=False)


def downgrade():
    op.drop_index('ix_activities_ws_owner_occurred', table_name='activities')
    op.create_index('ix_activities_ws_owner_occurred', 'activities', ['workspace_id', 'owner_id', 'occurred_at'],
                    unique=False)
    op.drop_index('ix_tasks_ws_owner_completed', table_name='tasks')
