"""moysklad_trust (issue 17: trust) — a slot for this session's parallel work

Revision ID: 0020_moysklad_trust
Revises: 0019_onec_trust
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020_moysklad_trust'
down_revision = '0019_onec_trust'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
