"""certificates_one_op (issue 18 and after) — a slot for this session's parallel work

Revision ID: 0028_certificates_one_op
Revises: 0027_ledger_spends
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0028_certificates_one_op'
down_revision = '0027_ledger_spends'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
