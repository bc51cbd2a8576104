"""owner's cabinet: blocked customers and saved client filters (issue 11)

Revision ID: 0015_customer_block
Revises: 0014_reviews_wallet
Create Date: 2026-11-30 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0015_customer_block'
down_revision = '0014_reviews_wallet'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
