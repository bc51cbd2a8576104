"""analytics — a slot for this session's parallel work

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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
