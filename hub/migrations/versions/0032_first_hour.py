"""first_hour (issue 18 and after) — a slot for this session's parallel work

Revision ID: 0032_first_hour
Revises: 0031_unit_of_work
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0032_first_hour'
down_revision = '0031_unit_of_work'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
