"""messaging: outbox, templates, channels, automation grants (issue 10)

Revision ID: 0009_notify
Revises: 0008_onec
Create Date: 2026-11-29 23:55:00
"""
from alembic import op
import sqlalchemy as sa
import hub.models.base


revision = '0009_notify'
down_revision = '0008_onec'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
