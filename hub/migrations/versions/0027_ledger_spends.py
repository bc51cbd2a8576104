"""ledger_spends (issue 18 and after) — a slot for this session's parallel work

Revision ID: 0027_ledger_spends
Revises: 0026_clients_search
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0027_ledger_spends'
down_revision = '0026_clients_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
