"""codes_screens (issue 17: trust) — a slot for this session's parallel work

Revision ID: 0024_codes_screens
Revises: 0023_faults
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0024_codes_screens'
down_revision = '0023_faults'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
