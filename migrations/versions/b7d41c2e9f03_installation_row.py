"""The installation row: /setup writes it with the first workspace and admin, so that of several
set-ups arriving at once exactly one gets in (the others collide with its primary key).

An install that already has users gets its row now.

Revision ID: b7d41c2e9f03
Revises: b7d41c6e9f20
Create Date: 2026-12-02 02:10:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d41c2e9f03'
down_revision = 'b7d41c6e9f20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'installation',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('set_up_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute(
        "INSERT INTO installation (id, set_up_at) "
        "SELECT 1, MIN(created_at) FROM users HAVING COUNT(*) > 0"
    )


def downgrade():
    op.drop_table('installation')
