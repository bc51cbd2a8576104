"""promotions: gift products, uses given back by returns (issue 12)

Revision ID: 0017_promotion_returns
Revises: 0016_code_limits
Create Date: 2026-11-30 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0017_promotion_returns'
down_revision = '0016_code_limits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('promotion_uses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('returned_at', hub.orm.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('promotion_uses', schema=None) as batch_op:
        batch_op.drop_column('returned_at')
        batch_op.drop_column('details')
