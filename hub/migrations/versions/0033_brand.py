"""brand: the shop's colour and logo (issue 25.3)

Revision ID: 0033_brand
Revises: 0032_first_hour
Create Date: 2026-12-08 03:00:00
"""
from alembic import op
import sqlalchemy as sa

from hub.orm import UTCDateTime


revision = '0033_brand'
down_revision = '0032_first_hour'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'brands',
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.Column('color', sa.String(length=7), nullable=True),
        sa.Column('logo', sa.LargeBinary(), nullable=True),
        sa.Column('logo_type', sa.String(length=40), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id'),
    )


def downgrade() -> None:
    op.drop_table('brands')
