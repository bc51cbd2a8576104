"""messaging: outbox, templates, channels, automation grants (issue 10)

Revision ID: 0009_notify
Revises: 0008_onec
Create Date: 2026-11-29 23:55:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0009_notify'
down_revision = '0008_onec'
branch_labels = None
depends_on = None


def _ts(name, nullable=False):
    return sa.Column(name, hub.orm.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'notify_outbox',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('customer_id', sa.String(length=36), nullable=True),
        sa.Column('topic', sa.String(length=40), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=True),
        sa.Column('provider', sa.String(length=20), nullable=True),
        sa.Column('recipient', sa.String(length=200), nullable=True),
        sa.Column('advertising', sa.Boolean(), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('context', sa.JSON(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=300), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('provider_message_id', sa.String(length=100), nullable=True),
        sa.Column('parts', sa.Integer(), nullable=False),
        sa.Column('expected_cost', sa.BigInteger(), nullable=False),
        sa.Column('cost', sa.BigInteger(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        _ts('next_attempt_at', True), _ts('created_at'), _ts('sent_at', True),
        _ts('delivered_at', True), _ts('updated_at'),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_notify_outbox_customer_id_customers'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_notify_outbox_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_outbox')),
        sa.UniqueConstraint('tenant_id', 'dedupe_key', name=op.f('uq_notify_outbox_tenant_id_dedupe_key')),
    )
    op.create_index('ix_notify_outbox_due', 'notify_outbox', ['status', 'next_attempt_at'])
    op.create_index('ix_notify_outbox_provider', 'notify_outbox', ['channel', 'provider_message_id'])
    op.create_index(op.f('ix_notify_outbox_tenant_id'), 'notify_outbox', ['tenant_id'])
    op.create_index(op.f('ix_notify_outbox_customer_id'), 'notify_outbox', ['customer_id'])

    op.create_table(
        'notify_templates',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('topic', sa.String(length=40), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        _ts('updated_at'),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_notify_templates_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_templates')),
        sa.UniqueConstraint('tenant_id', 'topic', 'channel',
                            name=op.f('uq_notify_templates_tenant_id_topic_channel')),
    )
    op.create_index(op.f('ix_notify_templates_tenant_id'), 'notify_templates', ['tenant_id'])

    op.create_table(
        'notify_channels',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('credentials', sa.Text(), nullable=True),
        sa.Column('webhook_id', sa.String(length=36), nullable=False),
        sa.Column('webhook_secret_hash', sa.String(length=64), nullable=True),
        _ts('created_at'), _ts('updated_at'),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_notify_channels_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_channels')),
        sa.UniqueConstraint('tenant_id', 'channel', name=op.f('uq_notify_channels_tenant_id_channel')),
        sa.UniqueConstraint('webhook_id', name=op.f('uq_notify_channels_webhook_id')),
    )
    op.create_index(op.f('ix_notify_channels_tenant_id'), 'notify_channels', ['tenant_id'])

    op.create_table(
        'notify_chats',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('chat_id', sa.String(length=64), nullable=False),
        sa.Column('customer_id', sa.String(length=36), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        _ts('created_at'),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_notify_chats_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_notify_chats_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_chats')),
        sa.UniqueConstraint('tenant_id', 'channel', 'chat_id',
                            name=op.f('uq_notify_chats_tenant_id_channel_chat_id')),
    )
    op.create_index('ix_notify_chats_customer', 'notify_chats', ['customer_id', 'channel'])
    op.create_index(op.f('ix_notify_chats_tenant_id'), 'notify_chats', ['tenant_id'])

    op.create_table(
        'notify_settings',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        _ts('updated_at'),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_notify_settings_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_settings')),
        sa.UniqueConstraint('tenant_id', name=op.f('uq_notify_settings_tenant_id')),
    )
    op.create_index(op.f('ix_notify_settings_tenant_id'), 'notify_settings', ['tenant_id'])


def downgrade() -> None:
    for table in ('notify_settings', 'notify_chats', 'notify_channels', 'notify_templates',
                  'notify_outbox'):
        op.drop_table(table)
