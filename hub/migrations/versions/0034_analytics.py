"""analytics: the sale's analytics columns, sales deltas and daily rollups, margins
(specs/analytics.md D3, D7, §8)

Revision ID: 0034_analytics
Revises: 0033_brand
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0034_analytics'
down_revision = '0033_brand'
branch_labels = None
depends_on = None

RECEIPT_COLUMNS = ('gross', 'promo_discount', 'bonus_paid', 'paid', 'cogs', 'line_count', 'first_purchase', 'member')


def _measures() -> list:
    return [
        sa.Column('receipts', sa.Integer(), nullable=False),
        sa.Column('first_receipts', sa.Integer(), nullable=False),
        sa.Column('receipts_with_spend', sa.Integer(), nullable=False),
        sa.Column('gross', sa.BigInteger(), nullable=False),
        sa.Column('promo_discount', sa.BigInteger(), nullable=False),
        sa.Column('level_discount', sa.BigInteger(), nullable=False),
        sa.Column('bonus_paid', sa.BigInteger(), nullable=False),
        sa.Column('paid', sa.BigInteger(), nullable=False),
        sa.Column('cogs', sa.BigInteger(), nullable=False),
        sa.Column('cogs_receipts', sa.Integer(), nullable=False),
        sa.Column('bonus_cost', sa.BigInteger(), nullable=False),
        sa.Column('lines', sa.Integer(), nullable=False),
        sa.Column('discount_share_ppm', sa.BigInteger(), nullable=False),
        sa.Column('bonus_earned', sa.BigInteger(), nullable=False),
        sa.Column('bonus_spent', sa.BigInteger(), nullable=False),
        sa.Column('returns', sa.Integer(), nullable=False),
        sa.Column('full_returns', sa.Integer(), nullable=False),
        sa.Column('returned_gross', sa.BigInteger(), nullable=False),
        sa.Column('returned_paid', sa.BigInteger(), nullable=False),
        sa.Column('returned_cogs', sa.BigInteger(), nullable=False),
        sa.Column('bonus_reversed', sa.BigInteger(), nullable=False),
        sa.Column('bonus_restored', sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        for name in ('gross', 'promo_discount', 'bonus_paid', 'paid', 'cogs'):
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('line_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_purchase', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('member', sa.String(length=12), nullable=True))
    op.create_table('an_sales_deltas',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('store', sa.String(length=100), nullable=False),
        sa.Column('cashier', sa.String(length=100), nullable=False),
        sa.Column('member', sa.String(length=12), nullable=False),
        *_measures(),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_an_sales_deltas_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_an_sales_deltas'))
    )
    with op.batch_alter_table('an_sales_deltas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_an_sales_deltas_tenant_id'), ['tenant_id'], unique=False)
    op.create_table('an_sales_daily',
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('store', sa.String(length=100), nullable=False),
        sa.Column('cashier', sa.String(length=100), nullable=False),
        sa.Column('member', sa.String(length=12), nullable=False),
        *_measures(),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_an_sales_daily_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'day', 'store', 'cashier', 'member', name=op.f('pk_an_sales_daily'))
    )
    op.create_table('an_settings',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('margin_percent', sa.String(length=12), nullable=True),
        sa.Column('group_margins', sa.JSON(), nullable=False),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_an_settings_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_an_settings'))
    )
    with op.batch_alter_table('an_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_an_settings_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('an_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_an_settings_tenant_id'))
    op.drop_table('an_settings')
    op.drop_table('an_sales_daily')
    with op.batch_alter_table('an_sales_deltas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_an_sales_deltas_tenant_id'))
    op.drop_table('an_sales_deltas')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        for name in reversed(RECEIPT_COLUMNS):
            batch_op.drop_column(name)
