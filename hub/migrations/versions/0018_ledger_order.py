"""ledger_order (issue 17: trust) — a slot for this session's parallel work

Revision ID: 0018_ledger_order
Revises: 0017_promotion_returns
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_ledger_order'
down_revision = '0017_promotion_returns'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
