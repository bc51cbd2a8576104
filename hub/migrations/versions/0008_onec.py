"""1С adapter: holds/locks, catalog, OData sync state (issue 9)

Revision ID: 0008_onec
Revises: 0007_adapters_safety
Create Date: 2026-11-29 23:55:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0008_onec'
down_revision = '0007_adapters_safety'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
