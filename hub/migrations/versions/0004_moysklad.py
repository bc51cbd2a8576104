"""moysklad: verification codes and counterparty links

Revision ID: 0004_moysklad
Revises: 0003
Create Date: 2026-11-22 15:00:00

verification_codes is shared by the POS adapters (hub/models/connection.py);
moysklad_counterparties is the МойСклад adapter's (moysklad/models.py).
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0004_moysklad'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification_codes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('connection_id', sa.String(length=36), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('expires_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('consumed_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_verification_codes_connection_id_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_verification_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_codes'))
    )
    with op.batch_alter_table('verification_codes', schema=None) as batch_op:
        batch_op.create_index('ix_verification_codes_lookup', ['connection_id', 'purpose', 'subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_codes_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('moysklad_counterparties',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('connection_id', sa.String(length=36), nullable=False),
    sa.Column('ms_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_moysklad_counterparties_connection_id_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_moysklad_counterparties_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_moysklad_counterparties_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moysklad_counterparties')),
    sa.UniqueConstraint('connection_id', 'ms_id', name=op.f('uq_moysklad_counterparties_connection_id_ms_id'))
    )
    with op.batch_alter_table('moysklad_counterparties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moysklad_counterparties_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_moysklad_counterparties_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('moysklad_counterparties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moysklad_counterparties_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_moysklad_counterparties_customer_id'))
    op.drop_table('moysklad_counterparties')
    with op.batch_alter_table('verification_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_codes_tenant_id'))
        batch_op.drop_index('ix_verification_codes_lookup')
    op.drop_table('verification_codes')
