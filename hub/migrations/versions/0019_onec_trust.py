"""onec_trust (issue 17: trust) — a slot for this session's parallel work

Revision ID: 0019_onec_trust
Revises: 0018_ledger_order
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_onec_trust'
down_revision = '0018_ledger_order'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
