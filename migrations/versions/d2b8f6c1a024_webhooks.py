"""Webhooks: subscriptions and their deliveries

Revision ID: d2b8f6c1a024
Revises: d1a7e5c0b913
Create Date: 2026-12-05 03:40:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'd2b8f6c1a024'
down_revision = 'd1a7e5c0b913'
branch_labels = None
depends_on = None

OPEN = "state IN ('pending', 'sending')"


def upgrade():
    op.create_table(
        'webhooks',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('workspace_id', sa.String(length=40), nullable=False),
        sa.Column('created_by', sa.String(length=40), nullable=True),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('events', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('disabled_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhooks_workspace_id', 'webhooks', ['workspace_id'], unique=False)
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('workspace_id', sa.String(length=40), nullable=False),
        sa.Column('webhook_id', sa.String(length=40), nullable=False),
        sa.Column('message_id', sa.String(length=40), nullable=False),
        sa.Column('event_id', sa.String(length=40), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('record_key', sa.String(length=60), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('manual', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.Column('response_body', sa.Text(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_deliveries_log', 'webhook_deliveries', ['webhook_id', 'created_at', 'id'],
                    unique=False)
    op.create_index('ix_webhook_deliveries_open', 'webhook_deliveries', ['webhook_id', 'record_key', 'created_at'],
                    unique=False, sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index('ix_webhook_deliveries_created', 'webhook_deliveries', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_webhook_deliveries_created', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_open', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_log', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index('ix_webhooks_workspace_id', table_name='webhooks')
    op.drop_table('webhooks')
