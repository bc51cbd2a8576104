"""1С adapter: holds/locks, catalog, OData sync state (issue 9)

Revision ID: 0008_onec
Revises: 0007_adapters_safety
Create Date: 2026-11-29 23:55:00

The shared product catalog (hub/models/catalog.py) and the 1С adapter's tables
(onec/models.py): card locks, write-offs, pulled documents, CommerceML exchanges.
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0008_onec'
down_revision = '0007_adapters_safety'
branch_labels = None
depends_on = None


def _tenant(table: str) -> list:
    return [sa.Column('tenant_id', sa.String(length=36), nullable=False),
            sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=f'fk_{table}_tenant_id_tenants',
                                    ondelete='CASCADE')]


def _connection(table: str) -> list:
    return [sa.Column('connection_id', sa.String(length=36), nullable=False),
            sa.ForeignKeyConstraint(['connection_id'], ['connections.id'],
                                    name=f'fk_{table}_connection_id_connections', ondelete='CASCADE')]


def _tenant_index(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(f'ix_{table}_tenant_id', ['tenant_id'], unique=False)


def upgrade() -> None:
    op.create_table(
        'catalog_groups',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('external_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('parent_id', sa.String(length=100), nullable=True),
        sa.Column('source', sa.String(length=30), nullable=False),
        sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
        *_tenant('catalog_groups'),
        sa.PrimaryKeyConstraint('id', name='pk_catalog_groups'),
        sa.UniqueConstraint('tenant_id', 'external_id', name='uq_catalog_groups_tenant_id_external_id'))
    _tenant_index('catalog_groups')
    op.create_table(
        'catalog_products',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('external_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('article', sa.String(length=100), nullable=True),
        sa.Column('barcodes', sa.JSON(), nullable=False),
        sa.Column('groups', sa.JSON(), nullable=False),
        sa.Column('price', sa.BigInteger(), nullable=True),
        sa.Column('source', sa.String(length=30), nullable=False),
        sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
        *_tenant('catalog_products'),
        sa.PrimaryKeyConstraint('id', name='pk_catalog_products'),
        sa.UniqueConstraint('tenant_id', 'external_id', name='uq_catalog_products_tenant_id_external_id'))
    _tenant_index('catalog_products')
    with op.batch_alter_table('catalog_products', schema=None) as batch_op:
        batch_op.create_index('ix_catalog_products_article', ['tenant_id', 'article'], unique=False)

    op.create_table(
        'onec_cards',
        sa.Column('id', sa.String(length=36), nullable=False),
        *_connection('onec_cards'),
        sa.Column('customer_id', sa.String(length=36), nullable=False),
        sa.Column('lock_no', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('locked_until', hub.orm.UTCDateTime(), nullable=True),
        sa.Column('held', sa.BigInteger(), nullable=False),
        sa.Column('positions', sa.JSON(), nullable=False),
        sa.Column('store', sa.String(length=100), nullable=True),
        sa.Column('calculated_at', hub.orm.UTCDateTime(), nullable=True),
        sa.Column('last_writeoff_id', sa.String(length=36), nullable=True),
        sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
        *_tenant('onec_cards'),
        sa.PrimaryKeyConstraint('id', name='pk_onec_cards'),
        sa.UniqueConstraint('connection_id', 'customer_id', name='uq_onec_cards_connection_id_customer_id'))
    _tenant_index('onec_cards')
    op.create_table(
        'onec_writeoffs',
        sa.Column('id', sa.String(length=36), nullable=False),
        *_connection('onec_writeoffs'),
        sa.Column('customer_id', sa.String(length=36), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('receipt_external_id', sa.String(length=100), nullable=False),
        sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
        sa.Column('claimed_by', sa.String(length=200), nullable=True),
        sa.Column('claimed_at', hub.orm.UTCDateTime(), nullable=True),
        sa.Column('flagged_at', hub.orm.UTCDateTime(), nullable=True),
        *_tenant('onec_writeoffs'),
        sa.PrimaryKeyConstraint('id', name='pk_onec_writeoffs'))
    _tenant_index('onec_writeoffs')
    with op.batch_alter_table('onec_writeoffs', schema=None) as batch_op:
        batch_op.create_index('ix_onec_writeoffs_open', ['connection_id', 'customer_id', 'claimed_by'],
                              unique=False)
    op.create_table(
        'onec_documents',
        sa.Column('id', sa.String(length=36), nullable=False),
        *_connection('onec_documents'),
        sa.Column('document_key', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('receipt_external_id', sa.String(length=100), nullable=False),
        sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
        *_tenant('onec_documents'),
        sa.PrimaryKeyConstraint('id', name='pk_onec_documents'),
        sa.UniqueConstraint('connection_id', 'document_key', name='uq_onec_documents_connection_id_document_key'))
    _tenant_index('onec_documents')
    op.create_table(
        'onec_exchanges',
        sa.Column('id', sa.String(length=36), nullable=False),
        *_connection('onec_exchanges'),
        sa.Column('cookie', sa.String(length=64), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
        sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
        *_tenant('onec_exchanges'),
        sa.PrimaryKeyConstraint('id', name='pk_onec_exchanges'),
        sa.UniqueConstraint('cookie', name='uq_onec_exchanges_cookie'))
    _tenant_index('onec_exchanges')
    op.create_table(
        'onec_sync',
        sa.Column('id', sa.String(length=36), nullable=False),
        *_connection('onec_sync'),
        sa.Column('synced_through', hub.orm.UTCDateTime(), nullable=True),
        sa.Column('last_run_at', hub.orm.UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=2000), nullable=True),
        *_tenant('onec_sync'),
        sa.PrimaryKeyConstraint('id', name='pk_onec_sync'),
        sa.UniqueConstraint('connection_id', name='uq_onec_sync_connection_id'))
    _tenant_index('onec_sync')


def downgrade() -> None:
    for table in ('onec_sync', 'onec_exchanges', 'onec_documents', 'onec_writeoffs', 'onec_cards',
                  'catalog_products', 'catalog_groups'):
        op.drop_table(table)
