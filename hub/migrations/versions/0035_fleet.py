"""fleet — a slot for this session's parallel work

Revision ID: 0035_fleet
Revises: 0034_analytics
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0035_fleet'
down_revision = '0034_analytics'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
