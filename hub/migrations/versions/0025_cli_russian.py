"""cli_russian (issue 17: trust) — a slot for this session's parallel work

Revision ID: 0025_cli_russian
Revises: 0024_codes_screens
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0025_cli_russian'
down_revision = '0024_codes_screens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
