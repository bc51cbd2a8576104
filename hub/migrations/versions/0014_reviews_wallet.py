"""participant's cabinet: reviews and Wallet passes (issue 11)

Revision ID: 0014_reviews_wallet
Revises: 0013_exports
Create Date: 2026-11-30 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0014_reviews_wallet'
down_revision = '0013_exports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reviews',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('receipt_id', sa.String(length=36), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.CheckConstraint('rating >= 1 AND rating <= 5', name=op.f('ck_reviews_rating_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_reviews_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_reviews_receipt_id_receipts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_reviews_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('receipt_id', 'customer_id', name=op.f('uq_reviews_receipt_id_customer_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_reviews_newest', ['tenant_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reviews_rating', ['tenant_id', 'rating', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('wallet_pass_configs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('pass_type_id', sa.String(length=200), nullable=False),
    sa.Column('team_id', sa.String(length=20), nullable=False),
    sa.Column('credentials', sa.Text(), nullable=False),
    sa.Column('cert_subject', sa.String(length=300), nullable=False),
    sa.Column('cert_expires_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_wallet_pass_configs_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_pass_configs')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_wallet_pass_configs_tenant_id'))
    )
    with op.batch_alter_table('wallet_pass_configs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_pass_configs_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wallet_pass_configs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_pass_configs_tenant_id'))
    op.drop_table('wallet_pass_configs')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_tenant_id'))
        batch_op.drop_index('ix_reviews_rating')
        batch_op.drop_index('ix_reviews_newest')
        batch_op.drop_index(batch_op.f('ix_reviews_customer_id'))
    op.drop_table('reviews')
