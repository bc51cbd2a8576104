"""foundations: API key revocation and use, connection credential state (issue 8)

Revision ID: 0006_foundations
Revises: 0005_evotor
Create Date: 2026-11-29 23:55:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0006_foundations'
down_revision = '0005_evotor'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
