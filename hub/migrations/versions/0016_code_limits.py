"""messaging: one-time codes limited per IP, SMSC (issue 10)

Revision ID: 0016_code_limits
Revises: 0015_customer_block
Create Date: 2026-11-30 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0016_code_limits'
down_revision = '0015_customer_block'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
