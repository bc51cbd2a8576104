"""money_segments (issue 18 and after) — a slot for this session's parallel work

Revision ID: 0029_money_segments
Revises: 0028_certificates_one_op
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0029_money_segments'
down_revision = '0028_certificates_one_op'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
