"""owner's cabinet: blocked customers and saved client filters (issue 11)

Revision ID: 0015_customer_block
Revises: 0014_reviews_wallet
Create Date: 2026-11-30 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0015_customer_block'
down_revision = '0014_reviews_wallet'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_at', hub.orm.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('blocked_reason', sa.Text(), nullable=True))
        batch_op.create_index('ix_customers_tenant_created', ['tenant_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_customers_tenant_total', ['tenant_id', 'total_purchases'], unique=False)
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_tenant_balance', ['tenant_id', 'balance'], unique=False)
    # Expression indexes for the search by a name's first letters (text_pattern_ops on PostgreSQL).
    ops = " text_pattern_ops" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX ix_customers_tenant_last_name ON customers (tenant_id, lower(last_name){ops})")
    op.execute(f"CREATE INDEX ix_customers_tenant_first_name ON customers (tenant_id, lower(first_name){ops})")


def downgrade() -> None:
    op.drop_index('ix_customers_tenant_first_name', table_name='customers')
    op.drop_index('ix_customers_tenant_last_name', table_name='customers')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_tenant_balance')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_tenant_total')
        batch_op.drop_index('ix_customers_tenant_created')
        batch_op.drop_column('blocked_reason')
        batch_op.drop_column('blocked_at')
