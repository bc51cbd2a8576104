"""brand — a slot for this session's parallel work

Revision ID: 0033_brand
Revises: 0032_first_hour
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0033_brand'
down_revision = '0032_first_hour'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
