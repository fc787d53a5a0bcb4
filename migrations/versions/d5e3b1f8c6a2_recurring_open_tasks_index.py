"""The calendar finds a user's open recurring tasks without reading their other tasks

The calendar shows the next occurrences of every open recurring task of a user whose series has
not moved on yet, wherever its own due date is (an overdue daily task still repeats this week).
Without an index that is every open task of the owner due before the end of the range; this
partial index holds only the open recurring ones.

Revision ID: d5e3b1f8c6a2
Revises: d3f0a1b2c4e5
Create Date: 2026-12-05 03:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd5e3b1f8c6a2'
down_revision = 'd3f0a1b2c4e5'
branch_labels = None
depends_on = None

CONDITION = "recurrence IS NOT NULL AND status IN ('pending', 'in_progress')"


def upgrade():
    op.create_index('ix_tasks_ws_owner_recurring', 'tasks', ['workspace_id', 'owner_id', 'due_at'], unique=False,
                    postgresql_where=sa.text(CONDITION), sqlite_where=sa.text(CONDITION))


def downgrade():
    op.drop_index('ix_tasks_ws_owner_recurring', table_name='tasks')
