"""Recurring tasks, time blocks, tasks linked to an activity, and the calendar feed token

- tasks: `recurrence` (an RRULE), `recurrence_of` (the series' first task), `next_task_id`
  (the occurrence that completing this task created), `duration` (seconds), `activity_id`;
  unique (`recurrence_of`, `due_at`), so a series never gets the same occurrence twice.
- users: `calendar_token`, the secret of the user's iCalendar feed URL, filled for every
  existing user.

Revision ID: b7d41c6e9f20
Revises: 7e1b5c9d2a40
Create Date: 2026-12-02 01:50:00

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d41c6e9f20'
down_revision = '7e1b5c9d2a40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recurrence', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('recurrence_of', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('next_task_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('duration', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('activity_id', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key('fk_tasks_recurrence_of_tasks', 'tasks', ['recurrence_of'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_tasks_next_task_id_tasks', 'tasks', ['next_task_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_tasks_activity_id_activities', 'activities', ['activity_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_unique_constraint('uq_tasks_recurrence_due', ['recurrence_of', 'due_at'])
        batch_op.create_index('ix_tasks_activity_id', ['activity_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
    users = sa.table('users', sa.column('id', sa.String), sa.column('calendar_token', sa.String))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id).values(calendar_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_users_calendar_token', ['calendar_token'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_calendar_token', type_='unique')
        batch_op.drop_column('calendar_token')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_activity_id')
        batch_op.drop_constraint('uq_tasks_recurrence_due', type_='unique')
        batch_op.drop_constraint('fk_tasks_activity_id_activities', type_='foreignkey')
        batch_op.drop_constraint('fk_tasks_next_task_id_tasks', type_='foreignkey')
        batch_op.drop_constraint('fk_tasks_recurrence_of_tasks', type_='foreignkey')
        batch_op.drop_column('activity_id')
        batch_op.drop_column('duration')
        batch_op.drop_column('next_task_id')
        batch_op.drop_column('recurrence_of')
        batch_op.drop_column('recurrence')
