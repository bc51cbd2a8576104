"""participant's cabinet: reviews and Wallet passes (issue 11)

Revision ID: 0014_reviews_wallet
Revises: 0013_exports
Create Date: 2026-11-30 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0014_reviews_wallet'
down_revision = '0013_exports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
