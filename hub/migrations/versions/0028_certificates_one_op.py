"""certificates_one_op (issue 18.3): one reference format for a sale's certificate payments

A payment is "sale:<source>:<sale external id>:<number>" and a refund "<payment>\x1freturn:
<source>:<return external id>": room for the longest ids (200 characters each, source 30).
Sales committed before by МойСклад's Loyalty API redeemed their certificates as
"<sale external id>:<card id>" without recording the prefix on the receipt: it is filled in
here, so their returns refund those payments (exactly once: a return is run once).

Revision ID: 0028_certificates_one_op
Revises: 0027_ledger_spends
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0028_certificates_one_op'
down_revision = '0027_ledger_spends'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.alter_column('certificate_prefix', existing_type=sa.String(length=210),
                              type_=sa.String(length=240), existing_nullable=True)
    with op.batch_alter_table('certificate_postings', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=400),
                              type_=sa.String(length=600), existing_nullable=False)
    op.execute(sa.text(
        "UPDATE receipts SET certificate_prefix = external_id || ':' "
        "WHERE certificate_prefix IS NULL AND source = 'moysklad' AND EXISTS ("
        " SELECT 1 FROM certificate_postings p WHERE p.tenant_id = receipts.tenant_id"
        " AND p.kind = 'redeem'"
        " AND substr(p.reference, 1, length(receipts.external_id) + 1) = receipts.external_id || ':')"))


def downgrade() -> None:
    # The filled prefixes stay: they name payments that exist either way.
    with op.batch_alter_table('certificate_postings', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=600),
                              type_=sa.String(length=400), existing_nullable=False)
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.alter_column('certificate_prefix', existing_type=sa.String(length=240),
                              type_=sa.String(length=210), existing_nullable=True)
