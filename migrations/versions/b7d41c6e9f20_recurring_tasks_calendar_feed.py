"""Recurring tasks, time blocks, tasks linked to an activity, and the calendar feed token

- tasks: `recurrence` (an RRULE), `recurrence_of` (the series' first task), `next_task_id`
  (the occurrence that completing this task created), `duration` (seconds), `activity_id`;
  a unique index on (`recurrence_of`, `due_at`), so a series never gets the same occurrence twice.
- users: `calendar_token`, the secret of the user's iCalendar feed URL, filled for every
  existing user.

Revision ID: b7d41c6e9f20
Revises: b4f1a7c2d9e3
Create Date: 2026-12-02 01:50:00

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d41c6e9f20'
down_revision = 'b4f1a7c2d9e3'
branch_labels = None
depends_on = None


# Columns are added in place (ALTER TABLE ... ADD COLUMN, foreign keys inline on SQLite) and the
# unique rules are unique indexes: no batch copy of `tasks`, which on SQLite would drop the
# full-text triggers, the partial and expression indexes, and renumber the rowids the FTS
# tables are keyed by.


LINKS = (('recurrence_of', 'tasks'), ('next_task_id', 'tasks'), ('activity_id', 'activities'))


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.add_column('tasks', sa.Column('recurrence', sa.String(length=500), nullable=True))
    op.add_column('tasks', sa.Column('duration', sa.Integer(), nullable=True))
    for column, target in LINKS:
        if sqlite:  # Alembic would ask for a batch copy to add the constraint
            op.execute(f'ALTER TABLE tasks ADD COLUMN {column} VARCHAR(40) '
                       f'REFERENCES {target} (id) ON DELETE SET NULL')
        else:
            op.add_column('tasks', sa.Column(column, sa.String(length=40),
                                             sa.ForeignKey(f'{target}.id', ondelete='SET NULL'), nullable=True))
    op.create_index('uq_tasks_recurrence_due', 'tasks', ['recurrence_of', 'due_at'], unique=True)
    op.create_index('ix_tasks_activity_id', 'tasks', ['activity_id'], unique=False)

    op.add_column('users', sa.Column('calendar_token', sa.String(length=64), nullable=True))
    users = sa.table('users', sa.column('id', sa.String), sa.column('calendar_token', sa.String))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id).values(calendar_token=secrets.token_urlsafe(32)))
    op.create_index('uq_users_calendar_token', 'users', ['calendar_token'], unique=True)


def downgrade():
    # In place on SQLite too (ALTER TABLE ... DROP COLUMN, SQLite 3.35+), for the reason above.
    op.drop_index('uq_users_calendar_token', table_name='users')
    op.drop_index('ix_tasks_activity_id', table_name='tasks')
    op.drop_index('uq_tasks_recurrence_due', table_name='tasks')
    op.drop_column('users', 'calendar_token')
    if op.get_bind().dialect.name == 'sqlite':
        _drop_task_columns_on_sqlite()
        return
    for column in ('activity_id', 'next_task_id', 'recurrence_of', 'duration', 'recurrence'):
        op.drop_column('tasks', column)


# SQLite cannot drop a column that has a foreign key in place, so the table is copied (batch), and
# the copy loses the trigram index's triggers: they are made again here (as in 9c4e2f7a1b30).
_FTS = (
    "CREATE VIRTUAL TABLE tasks_fts USING fts5(search_text, content='tasks', content_rowid='rowid', "
    "tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER tasks_fts_after_insert AFTER INSERT ON tasks BEGIN "
    "INSERT INTO tasks_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER tasks_fts_after_delete AFTER DELETE ON tasks BEGIN "
    "INSERT INTO tasks_fts(tasks_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER tasks_fts_after_update AFTER UPDATE OF search_text ON tasks BEGIN "
    "INSERT INTO tasks_fts(tasks_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO tasks_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "INSERT INTO tasks_fts(tasks_fts) VALUES ('rebuild')",
)


def _drop_task_columns_on_sqlite():
    for trigger in ('after_insert', 'after_delete', 'after_update'):
        op.execute(f'DROP TRIGGER IF EXISTS tasks_fts_{trigger}')
    op.execute('DROP TABLE IF EXISTS tasks_fts')
    with op.batch_alter_table('tasks', recreate='always') as batch:
        for column in ('activity_id', 'next_task_id', 'recurrence_of', 'duration', 'recurrence'):
            batch.drop_column(column)
    for statement in _FTS:
        op.execute(statement)
    _timeline_index_again()


# SQLite cannot reflect an expression index, so a batch copy of tasks loses ix_tasks_ws_timeline
# (made by ea88d1e83a36): it is made again after the copy, as that migration has it.
TIMELINE_AT = ("(CASE WHEN (status = 'completed' AND completed_at IS NOT NULL) "
               "THEN completed_at ELSE created_at END)")


def _timeline_index_again():
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_tasks_ws_timeline', 'tasks', ['workspace_id', sa.text(TIMELINE_AT), 'id'],
                        unique=False, if_not_exists=True)
