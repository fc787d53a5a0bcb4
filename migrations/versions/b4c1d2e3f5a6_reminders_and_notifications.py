"""Reminders that fire, notifications, notification preferences, and the mail outbox

- tasks: `remind_at` (due_at − reminder.before_minutes), `reminded_at` (when it fired) and
  `reminder_pending_at` (the remind_at still to fire), with a partial index on the last for
  the due-reminder query. Existing tasks get their remind_at; those still ahead are armed.
- notifications, notification_preferences, mail_outbox.

Revision ID: b4c1d2e3f5a6
Revises: c2d7a4e9f153
Create Date: 2026-12-02 02:00:00

"""
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'b4c1d2e3f5a6'
down_revision = 'c2d7a4e9f153'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.add_column('tasks', sa.Column('remind_at', sa.DateTime(), nullable=True))
    op.add_column('tasks', sa.Column('reminded_at', sa.DateTime(), nullable=True))
    op.add_column('tasks', sa.Column('reminder_pending_at', sa.DateTime(), nullable=True))
    op.create_index('ix_tasks_reminder_pending', 'tasks', ['reminder_pending_at'], unique=False,
                    postgresql_where=sa.text('reminder_pending_at IS NOT NULL'),
                    sqlite_where=sa.text('reminder_pending_at IS NOT NULL'))
    _backfill_remind_at()

    op.create_table(
        'notifications',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('workspace_id', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('task_id', sa.String(length=40), nullable=True),
        sa.Column('activity_id', sa.String(length=40), nullable=True),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('desktop', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notifications_user_created', 'notifications', ['user_id', 'created_at', 'id'])
    op.create_index('ix_notifications_user_unread', 'notifications', ['user_id', 'created_at'],
                    postgresql_where=sa.text('read_at IS NULL'), sqlite_where=sa.text('read_at IS NULL'))
    op.create_index(op.f('ix_notifications_task_id'), 'notifications', ['task_id'])
    op.create_index(op.f('ix_notifications_activity_id'), 'notifications', ['activity_id'])

    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('kinds', JSON, nullable=False),
        sa.Column('digest_enabled', sa.Boolean(), nullable=False),
        sa.Column('digest_time', sa.String(length=5), nullable=False),
        sa.Column('digest_sent_on', sa.Date(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )

    op.create_table(
        'mail_outbox',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('to_address', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('text_body', sa.Text(), nullable=False),
        sa.Column('html_body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('failed_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mail_outbox_due', 'mail_outbox', ['next_attempt_at'],
                    postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'),
                    sqlite_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))


def _backfill_remind_at():
    bind = op.get_bind()
    tasks = sa.table('tasks', sa.column('id', sa.String), sa.column('due_at', sa.DateTime),
                     sa.column('reminder', JSON), sa.column('status', sa.String),
                     sa.column('remind_at', sa.DateTime), sa.column('reminder_pending_at', sa.DateTime))
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    rows = bind.execute(sa.select(tasks.c.id, tasks.c.due_at, tasks.c.reminder, tasks.c.status)
                        .where(tasks.c.reminder.is_not(None), tasks.c.due_at.is_not(None))).all()
    for task_id, due_at, reminder, status in rows:
        if isinstance(reminder, str):
            reminder = json.loads(reminder)
        if not isinstance(reminder, dict) or not isinstance(reminder.get('before_minutes'), int):
            continue
        remind_at = due_at - timedelta(minutes=reminder['before_minutes'])
        pending = remind_at if remind_at > now and status in ('pending', 'in_progress') else None
        bind.execute(sa.update(tasks).where(tasks.c.id == task_id)
                     .values(remind_at=remind_at, reminder_pending_at=pending))


def downgrade():
    op.drop_index('ix_mail_outbox_due', table_name='mail_outbox')
    op.drop_table('mail_outbox')
    op.drop_table('notification_preferences')
    op.drop_index(op.f('ix_notifications_activity_id'), table_name='notifications')
    op.drop_index(op.f('ix_notifications_task_id'), table_name='notifications')
    op.drop_index('ix_notifications_user_unread', table_name='notifications')
    op.drop_index('ix_notifications_user_created', table_name='notifications')
    op.drop_table('notifications')
    op.drop_index('ix_tasks_reminder_pending', table_name='tasks')
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('reminder_pending_at')
        batch.drop_column('reminded_at')
        batch.drop_column('remind_at')
    _timeline_index_again()


# SQLite cannot reflect an expression index, so a batch copy of tasks loses ix_tasks_ws_timeline
# (made by ea88d1e83a36): it is made again after the copy, as that migration has it.
TIMELINE_AT = ("(CASE WHEN (status = 'completed' AND completed_at IS NOT NULL) "
               "THEN completed_at ELSE created_at END)")


def _timeline_index_again():
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_tasks_ws_timeline', 'tasks', ['workspace_id', sa.text(TIMELINE_AT), 'id'],
                        unique=False, if_not_exists=True)
