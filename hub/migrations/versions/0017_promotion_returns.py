"""promotions: gift products, uses given back by returns (issue 12)

Revision ID: 0017_promotion_returns
Revises: 0016_code_limits
Create Date: 2026-11-30 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0017_promotion_returns'
down_revision = '0016_code_limits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
