"""evotor: cloud events, subscriptions, devices, products, receipts

Revision ID: 0005_evotor
Revises: 0004_moysklad
Create Date: 2026-11-22 19:30:00

Owned by the Evotor adapter (models in evotor/models.py).
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0005_evotor'
down_revision = '0004_moysklad'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evotor_cloud_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('connection_id', sa.String(length=36), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('received_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_evotor_cloud_events_connection_id_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_evotor_cloud_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evotor_cloud_events')),
    sa.UniqueConstraint('connection_id', 'event_key', name=op.f('uq_evotor_cloud_events_connection_id_event_key'))
    )
    with op.batch_alter_table('evotor_cloud_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evotor_cloud_events_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('evotor_devices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('connection_id', sa.String(length=36), nullable=False),
    sa.Column('device_uuid', sa.String(length=100), nullable=False),
    sa.Column('store_uuid', sa.String(length=100), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_evotor_devices_connection_id_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_evotor_devices_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evotor_devices')),
    sa.UniqueConstraint('connection_id', 'device_uuid', name=op.f('uq_evotor_devices_connection_id_device_uuid'))
    )
    with op.batch_alter_table('evotor_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evotor_devices_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('evotor_products',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('connection_id', sa.String(length=36), nullable=False),
    sa.Column('store_uuid', sa.String(length=100), nullable=False),
    sa.Column('product_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('is_group', sa.Boolean(), nullable=False),
    sa.Column('parent_id', sa.String(length=100), nullable=True),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_evotor_products_connection_id_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_evotor_products_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evotor_products')),
    sa.UniqueConstraint('connection_id', 'store_uuid', 'product_id', name=op.f('uq_evotor_products_connection_id_store_uuid_product_id'))
    )
    with op.batch_alter_table('evotor_products', schema=None) as batch_op:
        batch_op.create_index('ix_evotor_products_lookup', ['connection_id', 'product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evotor_products_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('evotor_receipts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('connection_id', sa.String(length=36), nullable=False),
    sa.Column('receipt_uuid', sa.String(length=100), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=True),
    sa.Column('store_uuid', sa.String(length=100), nullable=True),
    sa.Column('device_uuid', sa.String(length=100), nullable=True),
    sa.Column('employee', sa.String(length=100), nullable=True),
    sa.Column('positions', sa.JSON(), nullable=False),
    sa.Column('spend', sa.BigInteger(), nullable=False),
    sa.Column('hold_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_evotor_receipts_connection_id_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_evotor_receipts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evotor_receipts')),
    sa.UniqueConstraint('tenant_id', 'receipt_uuid', name=op.f('uq_evotor_receipts_tenant_id_receipt_uuid'))
    )
    with op.batch_alter_table('evotor_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evotor_receipts_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('evotor_subscriptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('connection_id', sa.String(length=36), nullable=False),
    sa.Column('subscription_id', sa.String(length=100), nullable=False),
    sa.Column('product_id', sa.String(length=100), nullable=True),
    sa.Column('plan_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_event', sa.String(length=60), nullable=False),
    sa.Column('sequence_number', sa.BigInteger(), nullable=False),
    sa.Column('event_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_evotor_subscriptions_connection_id_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_evotor_subscriptions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evotor_subscriptions')),
    sa.UniqueConstraint('subscription_id', name=op.f('uq_evotor_subscriptions_subscription_id'))
    )
    with op.batch_alter_table('evotor_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evotor_subscriptions_tenant_id'), ['tenant_id'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('evotor_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evotor_subscriptions_tenant_id'))

    op.drop_table('evotor_subscriptions')
    with op.batch_alter_table('evotor_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evotor_receipts_tenant_id'))

    op.drop_table('evotor_receipts')
    with op.batch_alter_table('evotor_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evotor_products_tenant_id'))
        batch_op.drop_index('ix_evotor_products_lookup')

    op.drop_table('evotor_products')
    with op.batch_alter_table('evotor_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evotor_devices_tenant_id'))

    op.drop_table('evotor_devices')
    with op.batch_alter_table('evotor_cloud_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evotor_cloud_events_tenant_id'))

    op.drop_table('evotor_cloud_events')
