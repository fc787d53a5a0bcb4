"""Server-side browser sessions; user e-mails unique per workspace

- `user_sessions`: one row per signed-in browser session. The session cookie carries the row's
  id; signing out, a password change, deactivation or an admin's "sign out everywhere" delete
  rows, and a cookie whose row is gone no longer signs anyone in.
- `users.email` was unique across the install, so adding a user in one workspace told whether
  the e-mail existed in another. It is now unique per workspace (`uq_users_workspace_email`),
  with a plain index for sign-in's look-up by e-mail.

Every session signed in before this migration ends (its cookie names no row): users sign in
once more after the upgrade.

Revision ID: b4f1a7c2d9e3
Revises: 7e1b5c9d2a40
Create Date: 2026-12-02 01:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4f1a7c2d9e3'
down_revision = '7e1b5c9d2a40'
branch_labels = None
depends_on = None

# The initial migration left the e-mail's unique constraint unnamed; SQLite's batch mode finds
# it by this convention, PostgreSQL named it users_email_key.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_unique_name() -> str:
    return "users_email_key" if op.get_bind().dialect.name == "postgresql" else "uq_users_email"


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_old_unique_name(), type_='unique')
        batch_op.create_unique_constraint('uq_users_workspace_email', ['workspace_id', 'email'])
        batch_op.create_index(batch_op.f('ix_users_email'), ['email'], unique=False)


def downgrade():
    # Fails if an e-mail is now in several workspaces: merge or rename those users first.
    with op.batch_alter_table('users', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_email'))
        batch_op.drop_constraint('uq_users_workspace_email', type_='unique')
        batch_op.create_unique_constraint(_old_unique_name(), ['email'])

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
