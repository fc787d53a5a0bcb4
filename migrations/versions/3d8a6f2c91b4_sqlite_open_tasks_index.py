"""Open tasks get their partial index on SQLite too

"My open tasks by due date" walked the owner's index in due order and skipped the closed tasks
it met, whose due dates mostly come first: about 18,000 index entries for an owner with 40,000
tasks (3.3 ms in SQL at 1,000,000 tasks). SQLite uses a partial index when the query states the
index's condition with the same literals, which the task list now does for its status filter
(`crm.services.tasks.status_condition`): the same page reads 51 entries (0.4 ms).

PostgreSQL has had this index since 5b0d3c1e7a42.

Revision ID: 3d8a6f2c91b4
Revises: 9c4e2f7a1b30
Create Date: 2026-11-23 20:05:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3d8a6f2c91b4'
down_revision = '9c4e2f7a1b30'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_tasks_ws_owner_open_due', 'tasks', ['workspace_id', 'owner_id', 'due_at', 'id'],
                        unique=False, sqlite_where=sa.text("status IN ('pending', 'in_progress')"))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index('ix_tasks_ws_owner_open_due', table_name='tasks')
