"""adapters: connections unique per tenant, webhook secrets (issue 8)

Revision ID: 0007_adapters_safety
Revises: 0006_foundations
Create Date: 2026-11-29 23:55:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0007_adapters_safety'
down_revision = '0006_foundations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
