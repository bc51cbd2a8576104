"""infrastructure (issue 18 and after) — a slot for this session's parallel work

Revision ID: 0030_infrastructure
Revises: 0029_money_segments
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0030_infrastructure'
down_revision = '0029_money_segments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
