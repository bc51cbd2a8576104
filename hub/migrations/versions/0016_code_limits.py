"""messaging: one-time codes limited per IP, SMSC (issue 10)

Revision ID: 0016_code_limits
Revises: 0015_customer_block
Create Date: 2026-11-30 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0016_code_limits'
down_revision = '0015_customer_block'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('client_ip', sa.String(length=45), nullable=True))
        batch_op.create_index('ix_notify_outbox_client_ip', ['tenant_id', 'client_ip', 'created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notify_outbox_client_ip')
        batch_op.drop_column('client_ip')
        batch_op.drop_column('reason_code')
