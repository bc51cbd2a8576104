"""receipts_trust (issue 17: trust) — a slot for this session's parallel work

Revision ID: 0022_receipts_trust
Revises: 0021_evotor_trust
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022_receipts_trust'
down_revision = '0021_evotor_trust'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A sale records the prefix of its certificate payments, so its return can refund them.
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_prefix', sa.String(length=210), nullable=True))
    # A refund's reference is the redemption's reference + the return's id: room for both.
    with op.batch_alter_table('certificate_postings', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=200),
                              type_=sa.String(length=400), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('certificate_postings', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=400),
                              type_=sa.String(length=200), existing_nullable=False)
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_column('certificate_prefix')
