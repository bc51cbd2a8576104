"""clients_search (issue 17: trust) — a slot for this session's parallel work

Revision ID: 0026_clients_search
Revises: 0025_cli_russian
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0026_clients_search'
down_revision = '0025_cli_russian'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
