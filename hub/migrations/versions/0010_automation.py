"""automation: gift grants, win-back chains, segments, referrals (issue 10)

Revision ID: 0010_automation
Revises: 0009_notify
Create Date: 2026-11-29 23:58:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0010_automation'
down_revision = '0009_notify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
