"""foundations: API key revocation and use, connection credential state (issue 8)

Revision ID: 0006_foundations
Revises: 0005_evotor
Create Date: 2026-11-29 23:55:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0006_foundations'
down_revision = '0005_evotor'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', hub.orm.UTCDateTime(), nullable=True))
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials_state', sa.String(length=20),
                                      server_default='ok', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_column('credentials_state')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
